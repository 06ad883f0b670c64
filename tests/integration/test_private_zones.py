"""private_zones and private_zone_association against the sandbox: zones, alias records, associations."""

import json

import boto3

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import OTHER_ACCOUNT, OTHER_ACCOUNT_KEYS, Network, mutating_calls, run_module


def r53(keys=None):
    if keys:
        return boto3.client("route53", region_name="us-east-1", aws_access_key_id=keys["access_key"],
                            aws_secret_access_key=keys["secret_key"])
    return boto3.client("route53", region_name="us-east-1")


def endpoints_without_private_dns(net, services=None, site="us1"):
    result = run_module("vpc_endpoints", net.args(site=site, services=services or [], private_dns_enabled=False))
    assert not result["failed"], result.get("msg")
    return result["endpoints"]


def zone_args(net, **extra):
    args = {"region": net.region, "site": "us1", "vpc_id": net.vpc_id}
    args.update(extra)
    return args


def zone_vpcs(zone_id, keys=None):
    return sorted((v["VPCId"], v["VPCRegion"]) for v in r53(keys).get_hosted_zone(Id=zone_id)["VPCs"])


def alias_of(zone_id, name):
    records = r53().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    (record,) = [r for r in records if r["Type"] == "A" and r["Name"].rstrip(".") == name]
    return record["AliasTarget"]


def test_one_zone_per_service_with_alias_associated_then_rerun_changes_nothing(sandbox):
    net = Network(cidr="10.80.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.81.0.0/16")
    endpoints = endpoints_without_private_dns(net)
    sandbox.reset_calls()
    agent_vpcs = [{"vpc_id": agents.vpc_id, "region": "eu-west-1"}]
    result = run_module("private_zones", zone_args(net, endpoints=endpoints, vpcs=agent_vpcs))
    assert not result["failed"], result.get("msg")
    hosts = catalog.intake_hosts("us1")
    assert sorted(result["zones"]) == sorted(hosts.values())
    calls = sandbox.calls()["calls"]
    assert calls["route53:CreateHostedZone"] == 10 and calls["route53:ChangeResourceRecordSets"] == 10
    assert calls["route53:ListHostedZones"] == 1
    for key, host in hosts.items():
        zone = result["zones"][host]
        assert zone["service_keys"] == [key]
        target = endpoints[key]["regional_dns_entry"]
        alias = alias_of(zone["zone_id"], host)
        assert alias["DNSName"].rstrip(".") == target["dns_name"] and alias["HostedZoneId"] == target["hosted_zone_id"]
        assert zone_vpcs(zone["zone_id"]) == sorted([(net.vpc_id, "us-east-1"), (agents.vpc_id, "eu-west-1")])
        tags = {t["Key"]: t["Value"] for t in r53().list_tags_for_resource(
            ResourceType="hostedzone", ResourceId=zone["zone_id"])["ResourceTagSet"]["Tags"]}
        assert tags[catalog.OWNER_TAG_KEY] == catalog.OWNER_TAG_VALUE and tags[catalog.SERVICE_TAG_KEY] == key

    sandbox.reset_calls()
    again = run_module("private_zones", zone_args(net, vpcs=[{"vpc_id": agents.vpc_id, "region": "eu-west-1"}]))
    assert again["changed"] is False, again
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert {n: z["zone_id"] for n, z in again["zones"].items()} == {n: z["zone_id"] for n, z in result["zones"].items()}


def test_check_mode_predicts_and_changes_nothing(sandbox):
    net = Network(cidr="10.82.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["api", "traces"])
    sandbox.reset_calls()
    predicted = run_module("private_zones", zone_args(net, services=["api", "traces"], endpoints=endpoints), check=True, diff=True)
    assert predicted["changed"] is True
    assert sorted(predicted["created_zones"]) == ["api.datadoghq.com", "trace.agent.datadoghq.com"]
    assert predicted["diff"]["before"]["api.datadoghq.com"] is None
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert run_module("private_zones", zone_args(net, services=["api", "traces"], endpoints=endpoints),
                      check=True)["created_zones"] == predicted["created_zones"]  # nothing was created


def test_adding_and_removing_an_agent_vpc_touches_only_it(sandbox):
    net = Network(cidr="10.83.0.0/16")
    first = Network(region="eu-west-1", cidr="10.84.0.0/16")
    second = Network(region="ap-northeast-1", cidr="10.85.0.0/16", zones=("a", "c"))
    by_hand = Network(region="eu-west-1", cidr="10.86.0.0/16")
    services = ["api"]
    endpoints = endpoints_without_private_dns(net, services)
    vpc1, vpc2 = {"vpc_id": first.vpc_id, "region": "eu-west-1"}, {"vpc_id": second.vpc_id, "region": "ap-northeast-1"}
    result = run_module("private_zones", zone_args(net, services=services, endpoints=endpoints, vpcs=[vpc1]))
    zone_id = result["zones"]["api.datadoghq.com"]["zone_id"]
    r53().associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": by_hand.vpc_id, "VPCRegion": "eu-west-1"})

    added = run_module("private_zones", zone_args(net, services=services, vpcs=[vpc1, vpc2], purge_vpcs=True))
    assert added["changed"] and added["associated"] == [{"zone": "api.datadoghq.com", **vpc2}]
    assert added["disassociated"] == []

    removed = run_module("private_zones", zone_args(net, services=services, vpcs=[vpc2], purge_vpcs=True), diff=True)
    assert removed["disassociated"] == [{"zone": "api.datadoghq.com", **vpc1}]
    assert zone_vpcs(zone_id) == sorted([(net.vpc_id, "us-east-1"), (second.vpc_id, "ap-northeast-1"),
                                         (by_hand.vpc_id, "eu-west-1")])
    assert run_module("private_zones", zone_args(net, services=services, vpcs=[vpc2], purge_vpcs=True))["changed"] is False


def test_cross_account_authorize_associate_then_authorization_deleted(sandbox):
    net = Network(cidr="10.87.0.0/16")
    other = Network(region="eu-west-1", cidr="10.88.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    services = ["api", "metrics"]
    endpoints = endpoints_without_private_dns(net, services)
    foreign = {"vpc_id": other.vpc_id, "region": "eu-west-1", "account_id": OTHER_ACCOUNT}

    owner = run_module("private_zones", zone_args(net, services=services, endpoints=endpoints, vpcs=[foreign]))
    assert not owner["failed"], owner.get("msg")
    assert len(owner["authorized"]) == 2 and owner["associated"] == []
    zone_ids = [z["zone_id"] for z in owner["zones"].values()]
    for zone_id in zone_ids:
        listed = r53().list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"]
        assert listed == [{"VPCRegion": "eu-west-1", "VPCId": other.vpc_id}]
    assert all(z["pending_authorizations"] for z in owner["zones"].values())

    # The zones' account cannot associate another account's VPC itself.
    refused = run_module("private_zone_association", {"region": "eu-west-1", "zone_ids": zone_ids, "vpc_id": other.vpc_id})
    assert refused["failed"] and "with the account that owns the VPC" in refused["msg"]

    other_side = dict(OTHER_ACCOUNT_KEYS, region="eu-west-1", zone_ids=zone_ids, vpc_id=other.vpc_id)
    check = run_module("private_zone_association", other_side, check=True)
    assert check["changed"] and sorted(check["associated"]) == sorted(zone_ids)
    assert all((other.vpc_id, "eu-west-1") not in zone_vpcs(z) for z in zone_ids)
    joined = run_module("private_zone_association", other_side)
    assert not joined["failed"], joined.get("msg")
    assert sorted(joined["associated"]) == sorted(zone_ids)
    assert all((other.vpc_id, "eu-west-1") in zone_vpcs(z) for z in zone_ids)
    assert run_module("private_zone_association", other_side)["changed"] is False

    cleanup = run_module("private_zones", zone_args(net, services=services, vpcs=[foreign]))
    assert len(cleanup["deauthorized"]) == 2 and cleanup["authorized"] == []
    assert all(r53().list_vpc_association_authorizations(HostedZoneId=z)["VPCs"] == [] for z in zone_ids)
    assert run_module("private_zones", zone_args(net, services=services, vpcs=[foreign]))["changed"] is False


def test_association_without_authorization_is_refused_clearly(sandbox):
    net = Network(cidr="10.89.0.0/16")
    other = Network(region="eu-west-1", cidr="10.90.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    result = run_module("private_zones", zone_args(net, services=["dbm"], endpoints=endpoints_without_private_dns(net, ["dbm"])))
    zone_id = result["zones"]["dbm-metrics-intake.datadoghq.com"]["zone_id"]
    refused = run_module("private_zone_association", dict(OTHER_ACCOUNT_KEYS, region="eu-west-1", zone_ids=[zone_id],
                                                          vpc_id=other.vpc_id))
    assert refused["failed"] and "no association authorization" in refused["msg"]


def test_a_zone_that_is_not_ours_is_an_error_never_a_second_zone(sandbox):
    net = Network(cidr="10.91.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["profiling"])
    r53().create_hosted_zone(Name="intake.profile.datadoghq.com", CallerReference="by-hand-91",
                             VPC={"VPCRegion": "us-east-1", "VPCId": net.vpc_id}, HostedZoneConfig={"PrivateZone": True})
    result = run_module("private_zones", zone_args(net, services=["profiling"], endpoints=endpoints))
    assert result["failed"] and "not created by this collection" in result["msg"]
    zones = [z for z in r53().list_hosted_zones()["HostedZones"] if z["Name"] == "intake.profile.datadoghq.com."]
    in_this_vpc = [z for z in zones if (net.vpc_id, "us-east-1") in zone_vpcs(z["Id"].split("/")[-1])]
    assert [z["CallerReference"] for z in in_this_vpc] == ["by-hand-91"]


def test_vpc_dns_attributes_are_checked_or_turned_on(sandbox):
    net = Network(cidr="10.92.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.93.0.0/16")
    agents.client.modify_vpc_attribute(VpcId=agents.vpc_id, EnableDnsHostnames={"Value": False})
    endpoints = endpoints_without_private_dns(net, ["process"])
    args = zone_args(net, services=["process"], endpoints=endpoints, vpcs=[{"vpc_id": agents.vpc_id, "region": "eu-west-1"}])
    refused = run_module("private_zones", args)
    assert refused["failed"] and "enableDnsHostnames" in refused["msg"] and agents.vpc_id in refused["msg"]
    assert refused["created_zones"] == []
    fixed = run_module("private_zones", dict(args, enable_vpc_dns=True))
    assert not fixed["failed"], fixed.get("msg")
    assert fixed["vpc_dns_enabled"] == [{"vpc_id": agents.vpc_id, "region": "eu-west-1", "attribute": "enableDnsHostnames"}]
    assert agents.client.describe_vpc_attribute(VpcId=agents.vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"]["Value"]


def test_keys_sharing_an_endpoint_each_get_their_host_name(sandbox):
    net = Network(region="ap-southeast-2", cidr="10.94.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["logs_agent", "logs_user"], site="ap2")
    result = run_module("private_zones", {"region": "ap-southeast-2", "site": "ap2", "vpc_id": net.vpc_id,
                                          "services": ["logs_agent", "logs_user"], "endpoints": endpoints})
    assert not result["failed"], result.get("msg")
    assert sorted(result["zones"]) == ["agent-http-intake.logs.ap2.datadoghq.com", "http-intake.logs.ap2.datadoghq.com"]
    targets = {z["alias_target"]["dns_name"] for z in result["zones"].values()}
    assert len(targets) == 1


def test_wrong_region_and_missing_endpoints_are_refused(sandbox):
    net = Network(cidr="10.95.0.0/16")
    wrong = run_module("private_zones", {"region": "eu-west-1", "site": "us1", "vpc_id": net.vpc_id})
    assert wrong["failed"] and "run this module in us-east-1" in wrong["msg"]
    missing = run_module("private_zones", zone_args(net, services=["api"]))
    assert missing["failed"] and "No interface endpoint for api" in missing["msg"]


def test_absent_deletes_only_our_zones(sandbox):
    net = Network(cidr="10.96.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["remote_config", "containers"])
    result = run_module("private_zones", zone_args(net, services=["remote_config", "containers"], endpoints=endpoints))
    kept_id = result["zones"]["orchestrator.datadoghq.com"]["zone_id"]
    r53().change_resource_record_sets(HostedZoneId=kept_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "extra.orchestrator.datadoghq.com", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": '"mine"'}]}}]})
    gone = run_module("private_zones", zone_args(net, services=["remote_config", "containers"], state="absent"))
    assert gone["deleted_zones"] == ["config.datadoghq.com"]
    assert "extra.orchestrator.datadoghq.com" in json.dumps(gone.get("warnings", []))  # said why it stays
    names = [z["Name"] for z in r53().list_hosted_zones()["HostedZones"]]
    assert "orchestrator.datadoghq.com." in names
    assert run_module("private_zones", zone_args(net, services=["remote_config"], state="absent"))["changed"] is False
