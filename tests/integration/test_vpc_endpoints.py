"""vpc_endpoints against the sandbox over HTTP: outcomes read back with boto3."""

import concurrent.futures
import time

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import Network, mutating_calls, run_module

ALL_US1 = catalog.service_entries("us1")


def owned(endpoint):
    return {t["Key"]: t["Value"] for t in endpoint.get("Tags", [])}.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE


def tags(endpoint):
    return {t["Key"]: t["Value"] for t in endpoint.get("Tags", [])}


def service_name(key):
    return catalog.service_entries("us1", [key])[0]["service_name"]


def hand_made(net, key, group_ids, subnet_ids=None, **extra):
    """An endpoint a user made in the console: no tags, their own group."""
    return net.client.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=net.vpc_id, ServiceName=service_name(key),
        SubnetIds=subnet_ids or net.subnet_ids, SecurityGroupIds=group_ids, **extra)["VpcEndpoint"]["VpcEndpointId"]


def test_creates_all_ten_waits_once_then_reruns_with_no_change(sandbox, network):
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(tags={"team": "sre"}))
    assert not result["failed"], result.get("msg")
    assert result["changed"] is True
    assert len(result["created"]) == 10
    endpoints = network.endpoints()
    assert len(endpoints) == 10
    assert {e["ServiceName"] for e in endpoints} == {e["service_name"] for e in ALL_US1}
    for endpoint in endpoints:
        assert endpoint["State"] == "available"
        assert endpoint["PrivateDnsEnabled"] is True
        assert sorted(endpoint["SubnetIds"]) == sorted(network.subnet_ids)
        assert [g["GroupId"] for g in endpoint["Groups"]] == [network.https_group]
        assert owned(endpoint)
    for key, summary in result["endpoints"].items():
        assert summary["state"] == "available"
        assert summary["vpc_endpoint_id"].startswith("vpce-")
        # what AWS shows: the service's anchor, or its direct name
        assert summary["private_dns_name"] == catalog.service_entries("us1", [key])[0]["zone_name"]
        assert summary["regional_dns_entry"]["hosted_zone_id"]
        assert summary["tags"]["team"] == "sre"
    calls = sandbox.calls()["calls"]
    # One describe of the services, one of the VPC's endpoints, one per poll; one create per endpoint.
    assert calls["ec2:DescribeVpcEndpointServices"] == 1
    assert calls["ec2:CreateVpcEndpoint"] == 10
    assert calls["ec2:DescribeVpcEndpoints"] <= 1 + 4  # 1 s pending: a handful of polls for all ten
    # The VPC DNS attributes are checked by AWS on the first create (the run's first change): no read for them.
    assert "ec2:DescribeVpcAttribute" not in calls and calls["route53:ListHostedZonesByVPC"] == 1
    assert sum(calls.values()) - calls["ec2:DescribeVpcEndpoints"] == 10 + 4  # creates, then services, subnets, groups, zones

    sandbox.reset_calls()
    again = run_module("vpc_endpoints", network.args(tags={"team": "sre"}))
    assert again["changed"] is False and again["created"] == [] and again["modified"] == {}
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    # Nothing to publish: no zone read; the DNS attributes are read (nothing else would check them).
    assert "route53:ListHostedZonesByVPC" not in sandbox.calls()["calls"]
    assert sandbox.calls()["calls"]["ec2:DescribeVpcAttribute"] == 2
    assert {k: v["vpc_endpoint_id"] for k, v in again["endpoints"].items()} == \
        {k: v["vpc_endpoint_id"] for k, v in result["endpoints"].items()}


def test_check_mode_predicts_without_mutating_and_diff_shows_it(sandbox, network):
    sandbox.reset_calls()
    predicted = run_module("vpc_endpoints", network.args(services=["api", "metrics"]), check=True, diff=True)
    assert predicted["changed"] is True
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert network.endpoints() == []
    assert set(predicted["endpoints"]) == {"api", "metrics"}
    assert predicted["endpoints"]["api"]["vpc_endpoint_id"] is None
    assert predicted["endpoints"]["api"]["subnet_ids"] == sorted(network.subnet_ids)
    assert predicted["diff"]["before"]["api"] is None
    assert predicted["diff"]["after"]["api"]["private_dns_enabled"] is True

    real = run_module("vpc_endpoints", network.args(services=["api", "metrics"]))
    assert set(real["endpoints"]) == set(predicted["endpoints"])
    for key in real["endpoints"]:
        for field in ("service_name", "private_dns_name", "subnet_ids", "security_group_ids", "private_dns_enabled"):
            assert real["endpoints"][key][field] == predicted["endpoints"][key][field], field

    sandbox.reset_calls()
    after = run_module("vpc_endpoints", network.args(services=["api", "metrics"]), check=True)
    assert after["changed"] is False


def test_drift_is_repaired_with_modify(sandbox, network):
    run_module("vpc_endpoints", network.args(services=["api", "traces"]))
    api = next(e for e in network.endpoints() if e["ServiceName"] == catalog.service_entries("us1", ["api"])[0]["service_name"])
    extra_group = network.security_group("extra", https=True)
    network.client.modify_vpc_endpoint(
        VpcEndpointId=api["VpcEndpointId"], RemoveSubnetIds=[network.subnet_ids[1]],
        AddSecurityGroupIds=[extra_group], PrivateDnsEnabled=False,
    )
    kept = run_module("vpc_endpoints", network.args(services=["api", "traces"]), diff=True)
    assert kept["changed"] is True  # the missing subnet and private DNS come back; the added group stays
    assert kept["modified"][api["VpcEndpointId"]] == {"AddSubnetIds": [network.subnet_ids[1]], "PrivateDnsEnabled": True}
    network.client.modify_vpc_endpoint(VpcEndpointId=api["VpcEndpointId"], RemoveSubnetIds=[network.subnet_ids[1]],
                                       PrivateDnsEnabled=False)
    purge = {"purge_subnets": True, "purge_security_groups": True}
    drifted = run_module("vpc_endpoints", network.args(services=["api", "traces"], **purge), diff=True)
    assert drifted["changed"] is True
    assert set(drifted["modified"]) == {api["VpcEndpointId"]}
    change = drifted["modified"][api["VpcEndpointId"]]
    assert change == {"AddSubnetIds": [network.subnet_ids[1]], "RemoveSecurityGroupIds": [extra_group],
                      "PrivateDnsEnabled": True}
    assert drifted["diff"]["before"]["api"]["private_dns_enabled"] is False
    assert drifted["diff"]["after"]["api"]["private_dns_enabled"] is True
    repaired = network.client.describe_vpc_endpoints(VpcEndpointIds=[api["VpcEndpointId"]])["VpcEndpoints"][0]
    assert sorted(repaired["SubnetIds"]) == sorted(network.subnet_ids)
    assert [g["GroupId"] for g in repaired["Groups"]] == [network.https_group]
    assert repaired["PrivateDnsEnabled"] is True
    assert run_module("vpc_endpoints", network.args(services=["api", "traces"], **purge))["changed"] is False


def test_tags_are_updated_and_purged_on_owned_endpoints_only(sandbox, network):
    run_module("vpc_endpoints", network.args(services=["dbm"], tags={"team": "sre", "cost": "1"}))
    result = run_module("vpc_endpoints", network.args(services=["dbm"], tags={"team": "platform"}))
    assert result["changed"] is True
    tags = result["endpoints"]["dbm"]["tags"]
    assert tags["team"] == "platform" and "cost" not in tags and tags[catalog.OWNER_TAG_KEY] == catalog.OWNER_TAG_VALUE
    live = {t["Key"]: t["Value"] for t in network.endpoints()[0]["Tags"]}
    assert live == tags


def test_deleted_endpoints_are_ignored_and_replaced(sandbox, network):
    first = run_module("vpc_endpoints", network.args(services=["process"]))
    old_id = first["endpoints"]["process"]["vpc_endpoint_id"]
    network.client.delete_vpc_endpoints(VpcEndpointIds=[old_id])
    second = run_module("vpc_endpoints", network.args(services=["process"]))
    assert second["changed"] is True
    new_id = second["endpoints"]["process"]["vpc_endpoint_id"]
    assert new_id != old_id and second["endpoints"]["process"]["state"] == "available"


def test_hand_made_endpoint_is_adopted_keeps_its_groups_and_absent_leaves_it(sandbox, network):
    user_group = network.security_group("user-own", https=True)
    foreign = hand_made(network, "api", [user_group], subnet_ids=network.subnet_ids[:1])

    predicted = run_module("vpc_endpoints", network.args(site="us"), check=True, diff=True)
    assert predicted["changed"] is True and predicted["adopted"] == [foreign]
    assert predicted["diff"]["before"]["api"]["security_group_ids"] == [user_group]
    assert predicted["diff"]["after"]["api"]["security_group_ids"] == sorted([user_group, network.https_group])
    assert predicted["diff"]["after"]["api"]["tags"][catalog.OWNERSHIP_TAG_KEY] == "adopted"

    present = run_module("vpc_endpoints", network.args(site="us"), diff=True)
    assert not present["failed"], present.get("msg")
    assert present["changed"] is True and present["adopted"] == [foreign]
    assert present["endpoints"]["api"]["vpc_endpoint_id"] == foreign
    assert present["endpoints"]["api"]["ownership"] == "adopted" and present["endpoints"]["api"]["owned"] is False
    assert present["modified"][foreign]["AddSubnetIds"] == [network.subnet_ids[1]]
    assert present["diff"]["after"]["api"]["subnet_ids"] == sorted(network.subnet_ids)
    assert "skipped" not in present and present["foreign_endpoints"] == []
    live = network.endpoints()
    assert len(live) == 10
    assert sorted(e["ServiceName"] for e in live) == sorted(e["service_name"] for e in ALL_US1)  # one per service
    api = next(e for e in live if e["VpcEndpointId"] == foreign)
    assert sorted(g["GroupId"] for g in api["Groups"]) == sorted([user_group, network.https_group])
    assert tags(api)[catalog.OWNERSHIP_TAG_KEY] == "adopted" and "Name" not in tags(api)

    sandbox.reset_calls()
    again = run_module("vpc_endpoints", network.args(site="us"))
    assert again["changed"] is False and again["adopted"] == [] and mutating_calls(sandbox.calls()["calls"]) == {}

    absent = run_module("vpc_endpoints", network.args(site="us", state="absent", security_group_ids=[]))
    assert absent["changed"] is True and len(absent["deleted"]) == 9 and foreign not in absent["deleted"]
    assert [left["vpc_endpoint_id"] for left in absent["left_in_place"]] == [foreign]
    (left,) = network.endpoints()
    assert left["VpcEndpointId"] == foreign and catalog.OWNERSHIP_TAG_KEY not in tags(left)
    assert sorted(g["GroupId"] for g in left["Groups"]) == sorted([user_group, network.https_group])
    assert run_module("vpc_endpoints", network.args(site="us", state="absent"))["changed"] is False


def test_absent_detaches_the_groups_it_is_told_from_adopted_endpoints(sandbox, network):
    user_group = network.security_group("user-own", https=True)
    foreign = hand_made(network, "api", [user_group])
    run_module("vpc_endpoints", network.args(services=["api"]))
    absent = run_module("vpc_endpoints", network.args(services=["api"], state="absent"))
    assert absent["changed"] is True and absent["deleted"] == []
    assert absent["modified"][foreign]["RemoveSecurityGroupIds"] == [network.https_group]
    (left,) = network.endpoints()
    assert [g["GroupId"] for g in left["Groups"]] == [user_group] and tags(left) == {}


def test_concurrent_runs_make_one_endpoint_per_service(sandbox, network):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _i: run_module("vpc_endpoints", network.args()), range(2)))
    for result in results:
        assert not result["failed"], result.get("msg")
    live = network.endpoints()
    assert sorted(e["ServiceName"] for e in live) == sorted(e["service_name"] for e in ALL_US1)
    assert results[0]["endpoints"] == results[1]["endpoints"] or \
        {k: v["vpc_endpoint_id"] for k, v in results[0]["endpoints"].items()} == \
        {k: v["vpc_endpoint_id"] for k, v in results[1]["endpoints"].items()}


def test_our_duplicates_are_removed_keeping_the_oldest_and_foreign_ones_reported(sandbox, network):
    ours = [{"ResourceType": "vpc-endpoint", "Tags": [{"Key": catalog.OWNER_TAG_KEY, "Value": catalog.OWNER_TAG_VALUE}]}]
    oldest = hand_made(network, "traces", [network.https_group], TagSpecifications=ours)
    time.sleep(1.1)  # EC2 timestamps have whole seconds
    younger = hand_made(network, "traces", [network.https_group], TagSpecifications=ours, PrivateDnsEnabled=False)
    stranger = hand_made(network, "traces", [network.https_group], PrivateDnsEnabled=False)
    result = run_module("vpc_endpoints", network.args(services=["traces"]), diff=True)
    assert not result["failed"], result.get("msg")
    assert result["changed"] is True and result["deleted"] == [younger]
    assert result["endpoints"]["traces"]["vpc_endpoint_id"] == oldest
    assert [f["vpc_endpoint_id"] for f in result["foreign_endpoints"]] == [stranger]
    assert "duplicate" in result["foreign_endpoints"][0]["reason"]
    assert sorted(e["VpcEndpointId"] for e in network.endpoints()) == sorted([oldest, stranger])


def test_keys_sharing_one_service_get_one_endpoint(sandbox):
    net = Network(region="ap-southeast-2", cidr="10.41.0.0/16")
    result = run_module("vpc_endpoints", net.args(site="ap2.datadoghq.com", services=["logs_agent", "logs_user", "api"]))
    assert not result["failed"], result.get("msg")
    assert len(net.endpoints()) == 2
    assert result["endpoints"]["logs_agent"]["vpc_endpoint_id"] == result["endpoints"]["logs_user"]["vpc_endpoint_id"]
    tags = result["endpoints"]["logs_user"]["tags"]
    assert tags[catalog.SERVICE_TAG_KEY] == "logs_agent,logs_user"


def test_cross_region_endpoints_reach_the_site_region(sandbox):
    net = Network(region="eu-west-1", cidr="10.42.0.0/16")
    result = run_module("vpc_endpoints", net.args(services=["api", "logs_agent"]))
    assert not result["failed"], result.get("msg")
    assert result["service_region"] == "us-east-1"
    for endpoint in net.endpoints():
        assert endpoint["ServiceRegion"] == "us-east-1"
        assert ".us-east-1." in endpoint["ServiceName"]
    assert result["endpoints"]["api"]["service_region"] == "us-east-1"
    assert run_module("vpc_endpoints", net.args(services=["api", "logs_agent"]))["changed"] is False


def test_failed_endpoint_fails_the_task_with_its_id_and_reason(sandbox, network):
    name = catalog.service_entries("us1", ["profiling"])[0]["service_name"]
    sandbox.set_endpoint_outcome(name, state="failed", message="Quota of endpoints per VPC reached")
    try:
        result = run_module("vpc_endpoints", network.args(services=["profiling", "api"]))
    finally:
        sandbox.set_endpoint_outcome(name, state="available")
    assert result["failed"] is True
    failed_id = result["failed_endpoint_ids"][0]
    assert failed_id in result["msg"] and "Quota of endpoints per VPC reached" in result["msg"]
    assert "profiling (" + failed_id in result["msg"]  # the service key, not only the service id
    assert result["endpoints"]["api"]["vpc_endpoint_id"]  # what exists is in the result
    assert result["endpoints"]["profiling"]["vpc_endpoint_id"] == failed_id

    rerun = run_module("vpc_endpoints", network.args(services=["profiling", "api"]), diff=True)
    assert not rerun["failed"], rerun.get("msg")
    assert rerun["changed"] is True and rerun["deleted"] == [failed_id]
    assert rerun["replaced"][0]["vpc_endpoint_id"] == failed_id and rerun["replaced"][0]["service_keys"] == ["profiling"]
    assert "Quota of endpoints per VPC reached" in rerun["replaced"][0]["reason"]
    new_id = rerun["endpoints"]["profiling"]["vpc_endpoint_id"]
    assert new_id != failed_id and rerun["created"] == [new_id] and rerun["endpoints"]["profiling"]["state"] == "available"
    live = network.endpoints()
    assert sorted(e["VpcEndpointId"] for e in live) == sorted([new_id, rerun["endpoints"]["api"]["vpc_endpoint_id"]])
    assert run_module("vpc_endpoints", network.args(services=["profiling", "api"]))["changed"] is False


def test_timeout_names_the_pending_endpoints(sandbox, network):
    sandbox.set_pending_seconds(60)
    try:
        result = run_module("vpc_endpoints", network.args(services=["remote_config"], wait_timeout=2))
    finally:
        sandbox.set_pending_seconds(1)
    assert result["failed"] is True
    pending = result["pending_endpoint_ids"]
    assert len(pending) == 1 and pending[0] in result["msg"] and "Timed out" in result["msg"]
    assert "remote_config (" in result["msg"] and "Datadog support" in result["msg"] and "10 minutes" in result["msg"]
    assert result["endpoints"]["remote_config"]["vpc_endpoint_id"] == pending[0]


def test_throttling_is_answered_with_retries(sandbox, network):
    sandbox.add_fault("CreateVpcEndpoint", error="RequestLimitExceeded", count=3)
    sandbox.add_fault("DescribeVpcEndpoints", error="RequestLimitExceeded", count=2)
    result = run_module("vpc_endpoints", network.args(services=["api", "metrics"]))
    assert not result["failed"], result.get("msg")
    assert len(network.endpoints()) == 2


# ---- refusals: each says what to change, and nothing is created -------------------------

@pytest.mark.parametrize("site", ["us3", "datadoghq.eu", "ddog-gov.com"])
def test_unsupported_site(sandbox, network, site):
    result = run_module("vpc_endpoints", network.args(site=site))
    assert result["failed"] and "does not offer PrivateLink" in result["msg"] and "us1 (datadoghq.com)" in result["msg"]
    assert network.endpoints() == []


def test_unknown_service_key(sandbox, network):
    result = run_module("vpc_endpoints", network.args(services=["api", "apm"]))
    assert result["failed"] and "apm" in result["msg"] and "remote_config" in result["msg"]


def test_subnet_outside_the_vpc(sandbox, network):
    other = Network(cidr="10.43.0.0/16", zones=("c",))
    result = run_module("vpc_endpoints", network.args(subnet_ids=[network.subnet_ids[0], other.subnet_ids[0]]))
    assert result["failed"] and other.subnet_ids[0] in result["msg"] and other.vpc_id in result["msg"]
    assert network.endpoints() == []


def test_two_subnets_in_one_zone(sandbox, network):
    extra = network.client.create_subnet(VpcId=network.vpc_id, CidrBlock="10.40.9.0/24",
                                         AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    result = run_module("vpc_endpoints", network.args(subnet_ids=network.subnet_ids + [extra]))
    assert result["failed"] and "one subnet per availability zone" in result["msg"] and extra in result["msg"]


def test_service_name_not_found_says_to_contact_support(sandbox, network):
    bogus = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(services=["api", "metrics"], service_names={"api": bogus}))
    assert result["failed"] and bogus in result["msg"] and "Datadog support" in result["msg"]
    assert result["missing_service_names"] == [bogus]
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_security_group_without_https(sandbox, network):
    result = run_module("vpc_endpoints", network.args(security_group_ids=[network.closed_group]))
    assert result["failed"] and "TCP 443" in result["msg"] and network.closed_group in result["msg"]
    assert network.endpoints() == []
    allowed = run_module("vpc_endpoints", network.args(services=["api"], security_group_ids=[network.closed_group],
                                                       validate_https_ingress=False))
    assert not allowed["failed"], allowed.get("msg")


def test_service_region_other_than_the_site_region(sandbox, network):
    result = run_module("vpc_endpoints", network.args(service_region="eu-west-2"))
    assert result["failed"] and "us-east-1" in result["msg"] and "service_region" in result["msg"]


def test_missing_subnets(sandbox, network):
    args = network.args()
    del args["subnet_ids"]
    result = run_module("vpc_endpoints", args)
    assert result["failed"] and "subnet_ids is required" in result["msg"]


def test_private_dns_needs_the_vpc_dns_attributes(sandbox, network):
    network.client.modify_vpc_attribute(VpcId=network.vpc_id, EnableDnsHostnames={"Value": False})
    result = run_module("vpc_endpoints", network.args(services=["api"]))
    assert result["failed"] and "enableDnsHostnames" in result["msg"] and network.vpc_id in result["msg"]
    assert "Turn them on" in result["msg"] and "private_dns_enabled" not in result["msg"]
    assert network.endpoints() == [] and result["changed"] is False and result["created"] == []
    peered = run_module("vpc_endpoints", network.args(services=["api"], private_dns_enabled=False))
    assert not peered["failed"], peered.get("msg")
    assert peered["endpoints"]["api"]["private_dns_enabled"] is False


def test_a_hand_made_zone_for_a_datadog_name_is_refused_before_the_first_endpoint(sandbox, network):
    import boto3

    route53 = boto3.client("route53", region_name=network.region)
    api_host = catalog.intake_hosts("us1")["api"]
    zone = route53.create_hosted_zone(Name=api_host, CallerReference="by-hand-%s" % network.vpc_id,
                                      VPC={"VPCRegion": network.region, "VPCId": network.vpc_id},
                                      HostedZoneConfig={"PrivateZone": True})["HostedZone"]
    zone_id = zone["Id"].split("/")[-1]
    other = Network(cidr="10.41.0.0/16")  # a zone of the same name on another VPC is none of this VPC's business
    route53.create_hosted_zone(Name=catalog.intake_hosts("us1")["metrics"], CallerReference="other-%s" % other.vpc_id,
                               VPC={"VPCRegion": other.region, "VPCId": other.vpc_id}, HostedZoneConfig={"PrivateZone": True})
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args())
    assert result["failed"]
    assert zone_id in result["msg"] and api_host in result["msg"] and network.vpc_id in result["msg"]
    assert "Delete each zone, or disassociate" in result["msg"] and "Nothing was changed" in result["msg"]
    assert result["conflicting_zones"] == [{"name": api_host, "zone_id": zone_id, "service_keys": ["api"]}]
    assert mutating_calls(sandbox.calls()["calls"]) == {} and network.endpoints() == []
    assert sandbox.calls()["calls"]["route53:ListHostedZonesByVPC"] == 1

    checked = run_module("vpc_endpoints", network.args(validate_only=True), check=True)
    assert checked["failed"] and zone_id in checked["msg"]
    peered = run_module("vpc_endpoints", network.args(services=["api"], private_dns_enabled=False))
    assert not peered["failed"], peered.get("msg")  # without private DNS the zone is the user's way to publish the name


@pytest.mark.parametrize("error", ["AuthFailure", "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken",
                                   "SignatureDoesNotMatch"])
def test_bad_credentials_say_credentials(sandbox, network, error):
    sandbox.add_fault("*", error=error, count=1)
    try:
        result = run_module("vpc_endpoints", network.args(services=["api"]))
    finally:
        sandbox.clear_faults()
    assert result["failed"] and result["msg"].startswith("Could not ") and error in result["msg"]
    assert "AWS rejected the credentials" in result["msg"] and "Check the profile" in result["msg"]


@pytest.mark.parametrize("vpc_id", ["", "vpc-", "my-vpc", "vpc-0123456789abcdef0"])
def test_missing_or_malformed_vpc_is_refused_by_reading_only(sandbox, network, vpc_id):
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(vpc_id=vpc_id))
    assert result["failed"] and "vpc_id" in result["msg"] or "not found" in result["msg"]
    assert repr(vpc_id) in result["msg"] or vpc_id in result["msg"]
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_validate_only_reads_and_changes_nothing(sandbox, network):
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(validate_only=True))
    assert not result["failed"], result.get("msg") and result["changed"] is False
    assert mutating_calls(sandbox.calls()["calls"]) == {} and network.endpoints() == []
    refused = run_module("vpc_endpoints", network.args(validate_only=True, services=["api", "apm"]))
    assert refused["failed"] and "apm" in refused["msg"]


def test_user_subnets_stay_a_clashing_zone_is_reported_and_purge_replaces(sandbox):
    net = Network(cidr="10.44.0.0/16", zones=("a", "b", "c"))
    other_a = net.client.create_subnet(VpcId=net.vpc_id, CidrBlock="10.44.9.0/24",
                                       AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    foreign = hand_made(net, "api", [net.https_group], subnet_ids=[net.subnet_ids[0], net.subnet_ids[2]])
    wanted = [other_a, net.subnet_ids[1]]
    result = run_module("vpc_endpoints", net.args(services=["api"], subnet_ids=wanted))
    assert not result["failed"], result.get("msg")
    assert result["adopted"] == [foreign]
    assert result["modified"][foreign]["AddSubnetIds"] == [net.subnet_ids[1]]
    warnings = str(result.get("warnings"))  # ansible-core 2.19 sends them as structured events
    assert other_a in warnings and "purge_subnets" in warnings
    (live,) = net.endpoints()
    assert sorted(live["SubnetIds"]) == sorted(net.subnet_ids)  # a, b, c: the user's stay
    assert run_module("vpc_endpoints", net.args(services=["api"], subnet_ids=wanted))["changed"] is False

    purged = run_module("vpc_endpoints", net.args(services=["api"], subnet_ids=wanted, purge_subnets=True))
    assert purged["changed"] is True
    (live,) = net.endpoints()
    assert sorted(live["SubnetIds"]) == sorted(wanted)


@pytest.mark.parametrize("site, cidr", [("us1", "10.160.0.0/16"), ("ap2", "10.161.0.0/16"), ("uk1", "10.162.0.0/16")])
def test_services_all_makes_one_endpoint_per_distinct_service_id_then_nothing_changes(sandbox, site, cidr):
    region = catalog.SITES[site]["region"]
    net = Network(region=region, cidr=cidr)
    result = run_module("vpc_endpoints", net.args(site=site, services=[catalog.ALL], private_dns_enabled=True))
    assert not result["failed"], result.get("msg")
    distinct = {service_id for _colour, service_id, _pairs in catalog.SITES[site]["endpoint_services"]}
    endpoints = net.endpoints()
    assert sorted(e["ServiceName"].rsplit("-", 1)[-1] for e in endpoints) == sorted(distinct)  # one each, no more
    entries = catalog.service_entries(site, [catalog.ALL])
    assert sorted(result["endpoints"]) == sorted(e["key"] for e in entries)
    for entry in entries:  # keys of one service share its endpoint, whose private DNS is the anchor (or direct name)
        summary = result["endpoints"][entry["key"]]
        assert summary["private_dns_name"] == entry["zone_name"]
        (endpoint,) = [e for e in endpoints if e["ServiceName"] == entry["service_name"]]
        assert summary["vpc_endpoint_id"] == endpoint["VpcEndpointId"]
        assert entry["zone_name"] in [d["DnsName"] for d in endpoint["DnsEntries"]]
    sandbox.reset_calls()
    again = run_module("vpc_endpoints", net.args(site=site, services=[catalog.ALL], private_dns_enabled=True))
    assert again["changed"] is False and mutating_calls(sandbox.calls()["calls"]) == {}


def aws_service_name(net, key="secretsmanager"):
    (entry,) = catalog.aws_service_entries(net.region, [key])
    return entry["service_name"]


def test_aws_service_endpoint_is_made_with_private_dns_rerun_changes_nothing_absent_deletes_ours(sandbox, network):
    args = network.args(services=["api"], aws_services=["secretsmanager"], private_dns_enabled=False)
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", args, diff=True)
    assert not result["failed"], result.get("msg")
    assert len(result["created"]) == 2 and sandbox.calls()["calls"]["ec2:DescribeVpcEndpointServices"] == 1
    assert set(result["endpoints"]) == {"api"} and set(result["aws_endpoints"]) == {"secretsmanager"}
    summary = result["aws_endpoints"]["secretsmanager"]
    assert summary["service_name"] == aws_service_name(network) and summary["state"] == "available"
    assert summary["private_dns_name"] == catalog.aws_service_entries(network.region, ["secretsmanager"])[0]["private_dns_name"]
    assert "secretsmanager" in result["diff"]["after"]
    live = {e["ServiceName"]: e for e in network.endpoints()}
    secrets = live[aws_service_name(network)]
    assert secrets["PrivateDnsEnabled"] is True  # whatever private_dns_enabled says for Datadog's
    assert live[service_name("api")]["PrivateDnsEnabled"] is False
    assert tags(secrets)[catalog.OWNERSHIP_TAG_KEY] == "created" and tags(secrets)["Name"] == "datadog-privatelink-secretsmanager"
    assert tags(secrets)[catalog.SERVICE_TAG_KEY] == "secretsmanager"

    sandbox.reset_calls()
    again = run_module("vpc_endpoints", args)
    assert again["changed"] is False and mutating_calls(sandbox.calls()["calls"]) == {}
    assert again["aws_endpoints"]["secretsmanager"]["vpc_endpoint_id"] == secrets["VpcEndpointId"]

    only_aws = run_module("vpc_endpoints", network.args(datadog_services=False, aws_services=["secretsmanager"],
                                                        state="absent"))
    assert only_aws["deleted"] == [secrets["VpcEndpointId"]] and only_aws["endpoints"] == {}
    assert [e["ServiceName"] for e in network.endpoints()] == [service_name("api")]  # Datadog's stays


def test_hand_made_aws_service_endpoint_is_adopted_and_left_in_place(sandbox, network):
    user_group = network.security_group("lambdas", https=True)
    foreign = network.client.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=network.vpc_id, ServiceName=aws_service_name(network),
        SubnetIds=network.subnet_ids[:1], SecurityGroupIds=[user_group])["VpcEndpoint"]["VpcEndpointId"]
    args = network.args(datadog_services=False, aws_services=["secretsmanager"])
    predicted = run_module("vpc_endpoints", args, check=True)
    assert predicted["changed"] is True and predicted["adopted"] == [foreign] and predicted["created"] == []
    result = run_module("vpc_endpoints", args)
    assert not result["failed"], result.get("msg")
    assert result["adopted"] == [foreign] and result["created"] == [] and result["endpoints"] == {}
    assert result["aws_endpoints"]["secretsmanager"]["ownership"] == "adopted"
    (live,) = network.endpoints()
    assert sorted(g["GroupId"] for g in live["Groups"]) == sorted([user_group, network.https_group])
    sandbox.reset_calls()
    assert run_module("vpc_endpoints", args)["changed"] is False and mutating_calls(sandbox.calls()["calls"]) == {}
    absent = run_module("vpc_endpoints", dict(args, state="absent", security_group_ids=[]))
    assert absent["deleted"] == [] and [left["vpc_endpoint_id"] for left in absent["left_in_place"]] == [foreign]
    (left,) = network.endpoints()
    assert left["VpcEndpointId"] == foreign and catalog.OWNERSHIP_TAG_KEY not in tags(left)


def test_aws_service_endpoint_of_a_cross_region_vpc_stays_in_its_own_region(sandbox):
    net = Network(region="eu-west-1", cidr="10.45.0.0/16")
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", net.args(services=["api"], aws_services=["secretsmanager"]))
    assert not result["failed"], result.get("msg")
    assert sandbox.calls()["calls"]["ec2:DescribeVpcEndpointServices"] == 1  # both regions in one call
    live = {e["ServiceName"]: e for e in net.endpoints()}
    assert live[service_name("api")]["ServiceRegion"] == "us-east-1"
    assert live[aws_service_name(net)].get("ServiceRegion", "eu-west-1") == "eu-west-1"
    assert result["aws_endpoints"]["secretsmanager"]["service_name"] == aws_service_name(net)
    assert run_module("vpc_endpoints", net.args(services=["api"], aws_services=["secretsmanager"]))["changed"] is False


def test_nothing_to_manage_is_refused(sandbox, network):
    result = run_module("vpc_endpoints", network.args(datadog_services=False))
    assert result["failed"] and "aws_services" in result["msg"]


def test_dns_attribute_off_is_refused_before_any_change_even_with_an_endpoint_to_adopt(sandbox, network):
    user_group = network.security_group("user-own", https=True)
    foreign = hand_made(network, "api", [user_group])
    network.client.modify_vpc_attribute(VpcId=network.vpc_id, EnableDnsSupport={"Value": False})
    result = run_module("vpc_endpoints", network.args(services=["api", "metrics"]))
    assert result["failed"] and "enableDnsSupport" in result["msg"] and result["changed"] is False
    (left,) = network.endpoints()  # the hand-made one, not adopted: AWS refused the first change, the create
    assert left["VpcEndpointId"] == foreign and tags(left) == {}
    assert [g["GroupId"] for g in left["Groups"]] == [user_group]

    predicted = run_module("vpc_endpoints", network.args(services=["api", "metrics"]), check=True)
    assert predicted["failed"] and "enableDnsSupport" in predicted["msg"]  # check mode reads the attributes
    only_adopt = run_module("vpc_endpoints", network.args(services=["api"]))
    assert only_adopt["failed"] and "enableDnsSupport" in only_adopt["msg"]  # nothing to create: read, refused
    assert tags(network.endpoints()[0]) == {}


def test_unknown_subnet_and_group_are_named_without_any_change(sandbox, network):
    sandbox.reset_calls()
    ghost_subnet, ghost_group = "subnet-0123456789abcdef0", "sg-0123456789abcdef0"
    result = run_module("vpc_endpoints", network.args(subnet_ids=[network.subnet_ids[0], ghost_subnet]))
    assert result["failed"] and result["msg"] == "Subnet not found: %s. Give subnets of %s." % (ghost_subnet, network.vpc_id)
    result = run_module("vpc_endpoints", network.args(security_group_ids=[network.https_group, ghost_group]))
    assert result["failed"] and result["msg"].startswith("Security group not found: %s." % ghost_group)
    assert mutating_calls(sandbox.calls()["calls"]) == {}


# ---- the endpoints' own security group (security_group) ----------------------------------------------

GROUP = "datadog-privatelink-endpoints"


def groups_named(net, name=GROUP):
    return net.client.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [net.vpc_id]},
                                                        {"Name": "group-name", "Values": [name]}])["SecurityGroups"]


def https_sources(group):
    return sorted(s for p in group["IpPermissions"] if p.get("FromPort") == 443
                  for s in [r["CidrIp"] for r in p.get("IpRanges", [])] + [r["CidrIpv6"] for r in p.get("Ipv6Ranges", [])]
                  + [g["GroupId"] for g in p.get("UserIdGroupPairs", [])])


def test_security_group_is_predicted_made_with_443_from_the_vpc_reused_then_deleted_with_the_endpoints(sandbox, network):
    args = network.args(services=["api", "metrics"], security_group={"name": GROUP})
    sandbox.reset_calls()
    predicted = run_module("vpc_endpoints", args, check=True, diff=True)
    assert not predicted["failed"], predicted.get("msg")
    assert predicted["changed"] and mutating_calls(sandbox.calls()["calls"]) == {}
    assert predicted["security_group"]["created"] and predicted["security_group"]["group_id"] is None
    assert predicted["security_group"]["https_ingress_added"] == ["10.40.0.0/16"]
    label = "security group " + GROUP
    assert predicted["diff"]["before"][label] is None and predicted["diff"]["after"][label]["https_ingress"] == ["10.40.0.0/16"]
    assert groups_named(network) == []

    made = run_module("vpc_endpoints", args, diff=True)
    assert not made["failed"], made.get("msg")
    (group,) = groups_named(network)
    assert made["security_group"]["group_id"] == group["GroupId"] and made["security_group"]["ownership"] == "created"
    assert https_sources(group) == ["10.40.0.0/16"]
    assert tags(group)[catalog.OWNERSHIP_TAG_KEY] == catalog.OWNERSHIP_CREATED and tags(group)["Name"] == GROUP
    for endpoint in network.endpoints():
        assert sorted(g["GroupId"] for g in endpoint["Groups"]) == sorted([network.https_group, group["GroupId"]])

    sandbox.reset_calls()
    again = run_module("vpc_endpoints", args, diff=True)
    assert not again["failed"] and again["changed"] is False, again
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert again["diff"]["before"] == again["diff"]["after"]

    gone = run_module("vpc_endpoints", dict(args, state="absent"), diff=True)
    assert not gone["failed"], gone.get("msg")
    assert gone["security_group"]["deleted"] and gone["diff"]["after"][label] is None
    assert network.endpoints() == [] and groups_named(network) == []
    assert groups_named(network, "agents-https")  # the user's group stays


def test_a_hand_made_group_of_that_name_gets_only_the_missing_rules_keeps_its_tags_and_stays(sandbox, network):
    mine = network.client.create_security_group(
        GroupName=GROUP, Description="mine", VpcId=network.vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "owner", "Value": "me"}]}])["GroupId"]
    network.client.authorize_security_group_ingress(GroupId=mine, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.40.0.0/16"}]}])
    args = network.args(services=["api"], security_group_ids=[], security_group={
        "name": GROUP, "https_ingress_cidrs": ["10.40.0.0/16", "192.168.0.0/16", "2600:1f18::/56"],
        "https_ingress_security_group_ids": [network.https_group]})
    result = run_module("vpc_endpoints", args)
    assert not result["failed"], result.get("msg")
    # 10.40.0.0/16 already gets TCP 443 through the user's port range: only the three others are added.
    assert sorted(result["security_group"]["https_ingress_added"]) == sorted(["192.168.0.0/16", "2600:1f18::/56", network.https_group])
    assert result["security_group"]["ownership"] == "found" and not result["security_group"]["created"]
    (group,) = groups_named(network)
    assert tags(group) == {"owner": "me"}  # used, never claimed
    assert sorted(https_sources(group)) == sorted(["192.168.0.0/16", "2600:1f18::/56", network.https_group])
    assert [g["GroupId"] for g in network.endpoints()[0]["Groups"]] == [mine]
    assert run_module("vpc_endpoints", args)["changed"] is False

    gone = run_module("vpc_endpoints", dict(args, state="absent"))
    assert not gone["failed"] and not gone["security_group"]["deleted"], gone
    assert network.endpoints() == [] and [g["GroupId"] for g in groups_named(network)] == [mine]


@pytest.mark.parametrize("group, message", [
    ({"name": "default"}, "the VPC's default group"),
    ({"name": " "}, "security_group.name is empty"),
    ({"https_ingress_cidrs": ["10.40.0.1/16"]}, "not a CIDR block"),
    ({"https_ingress_security_group_ids": ["agents"]}, "not a security group id"),
])
def test_a_wrong_security_group_option_is_refused_before_any_call(sandbox, network, group, message):
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(security_group=group))
    assert result["failed"] and message in result["msg"], result
    assert sandbox.calls()["total"] == 0


def test_a_wrong_subnet_leaves_no_security_group_behind(sandbox, network):
    other = Network(cidr="10.41.0.0/16")
    sandbox.reset_calls()
    result = run_module("vpc_endpoints", network.args(subnet_ids=[other.subnet_ids[0]], security_group={"name": GROUP}))
    assert result["failed"] and "Subnets outside" in result["msg"], result
    assert mutating_calls(sandbox.calls()["calls"]) == {} and groups_named(network) == []


def test_absent_keeps_its_group_while_an_endpoint_it_did_not_make_uses_it(sandbox, network):
    args = network.args(services=["api"], security_group_ids=[], security_group={"name": GROUP})
    made = run_module("vpc_endpoints", args)
    assert not made["failed"], made.get("msg")
    ours = made["security_group"]["group_id"]
    # A duplicate of the api endpoint made by hand afterwards, with the collection's group: foreign, left alone.
    theirs = hand_made(network, "api", [ours], PrivateDnsEnabled=False)
    gone = run_module("vpc_endpoints", dict(args, state="absent"))
    assert not gone["failed"], gone.get("msg")
    assert gone["security_group"]["in_use_by"] == [theirs] and not gone["security_group"]["deleted"]
    warnings = str(gone.get("warnings"))  # ansible-core 2.19 sends them as structured events
    assert ours in warnings and theirs in warnings and "is kept" in warnings, warnings
    assert [e["VpcEndpointId"] for e in network.endpoints()] == [theirs]
    assert [g["GroupId"] for g in groups_named(network)] == [ours]


def test_absent_waits_for_the_deleted_endpoints_interfaces_and_names_any_other_user_of_its_group(sandbox, network):
    # The sandbox deletes an endpoint's interfaces at once; AWS takes a while, and answers DependencyViolation meanwhile.
    args = network.args(services=["api"], security_group_ids=[], security_group={"name": GROUP})
    assert not run_module("vpc_endpoints", args)["failed"]
    sandbox.reset_calls()
    sandbox.add_fault("DeleteSecurityGroup", error="DependencyViolation", count=1, message="resource has a dependent object")
    try:
        gone = run_module("vpc_endpoints", dict(args, state="absent"))
    finally:
        sandbox.clear_faults()
    assert not gone["failed"] and gone["security_group"]["deleted"], gone
    assert sandbox.calls()["calls"]["ec2:DeleteSecurityGroup"] == 2 and groups_named(network) == []

    # An interface of the user's own (an instance, say) holding the group: named at once, not waited for.
    other = Network(cidr="10.42.0.0/16")
    args = other.args(services=["api"], security_group_ids=[], security_group={"name": GROUP})
    ours = run_module("vpc_endpoints", args)["security_group"]["group_id"]
    mine = other.client.create_network_interface(SubnetId=other.subnet_ids[0], Groups=[ours],
                                                 Description="my instance")["NetworkInterface"]["NetworkInterfaceId"]
    sandbox.add_fault("DeleteSecurityGroup", error="DependencyViolation", count=5, message="resource has a dependent object")
    started = time.monotonic()
    try:
        failed = run_module("vpc_endpoints", dict(args, state="absent"))
    finally:
        sandbox.clear_faults()
    assert failed["failed"] and mine in failed["msg"] and "my instance" in failed["msg"], failed
    assert time.monotonic() - started < 30
    assert len(failed["deleted"]) == 1 and other.endpoints() == []  # the result says what is gone
    assert [g["GroupId"] for g in groups_named(other)] == [ours]
