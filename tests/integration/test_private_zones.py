"""private_zones and private_zone_association against the sandbox: zones, alias records, associations."""

import json

import boto3

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _zone_plan as zone_plan

from conftest import OTHER_ACCOUNT, OTHER_ACCOUNT_KEYS, Network, mutating_calls, run_module

# The zones of us1's api and traces services are their anchors; the other Agent services are direct.
API_ZONE = catalog.service_entries("us1", ["api"])[0]["zone_name"]
TRACES_ZONE = catalog.service_entries("us1", ["traces"])[0]["zone_name"]


def default_zones(site="us1"):
    """{zone name: [keys]} of the Agent's ten services on a site (the catalog, as AWS reports it in the sandbox)."""
    return zone_plan.zone_names(catalog.service_entries(site), {})


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
    zones = default_zones()
    assert sorted(result["zones"]) == sorted(zones)
    assert API_ZONE in zones and API_ZONE != catalog.intake_hosts("us1", ["api"])["api"]  # an anchor, not the host
    calls = sandbox.calls()["calls"]
    assert calls["route53:CreateHostedZone"] == 10 and calls["route53:ChangeResourceRecordSets"] == 10
    # Existing zones are looked for on the run's two VPCs only, never account-wide.
    assert calls["route53:ListHostedZonesByVPC"] == 2 and "route53:ListHostedZones" not in calls
    for host, (key,) in zones.items():
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
    assert sorted(predicted["created_zones"]) == sorted([API_ZONE, TRACES_ZONE])
    assert "zone %s " % API_ZONE not in predicted["diff"]["before"]
    assert "zone %s (to be created) (created)\n" % API_ZONE in predicted["diff"]["after"]
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
    zone_id = result["zones"][API_ZONE]["zone_id"]
    r53().associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": by_hand.vpc_id, "VPCRegion": "eu-west-1"})

    added = run_module("private_zones", zone_args(net, services=services, vpcs=[vpc1, vpc2], purge_vpcs=True))
    assert added["changed"] and added["associated"] == [{"zone": API_ZONE, **vpc2}]
    assert added["disassociated"] == []

    removed = run_module("private_zones", zone_args(net, services=services, vpcs=[vpc2], purge_vpcs=True), diff=True)
    assert removed["disassociated"] == [{"zone": API_ZONE, **vpc1}]
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


def test_cross_account_vpc_with_its_aws_options_is_associated_in_the_same_call(sandbox):
    net = Network(cidr="10.91.0.0/16")
    other = Network(region="eu-west-1", cidr="10.92.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    services = ["api", "metrics"]
    endpoints = endpoints_without_private_dns(net, services)
    foreign = {"vpc_id": other.vpc_id, "region": "eu-west-1", "account_id": OTHER_ACCOUNT, "aws": dict(OTHER_ACCOUNT_KEYS)}
    sandbox.reset_calls()
    done = run_module("private_zones", zone_args(net, services=services, endpoints=endpoints, vpcs=[foreign]))
    assert not done["failed"], done.get("msg")
    zone_ids = [z["zone_id"] for z in done["zones"].values()]
    assert len(done["authorized"]) == len(done["deauthorized"]) == 2
    assert sorted(a["zone"] for a in done["associated"] if a["vpc_id"] == other.vpc_id) == sorted(done["zones"])
    assert all((other.vpc_id, "eu-west-1") in zone_vpcs(z) for z in zone_ids)
    assert all(r53().list_vpc_association_authorizations(HostedZoneId=z)["VPCs"] == [] for z in zone_ids)
    assert all(z["pending_authorizations"] == [] for z in done["zones"].values())
    assert OTHER_ACCOUNT_KEYS["secret_key"] not in json.dumps(done)
    # One association a zone, the other account's (the endpoint VPC's comes with the zone's creation).
    assert sandbox.calls()["calls"]["route53:AssociateVPCWithHostedZone"] == 2

    sandbox.reset_calls()
    again = run_module("private_zones", zone_args(net, services=services, vpcs=[foreign]))
    assert again["changed"] is False, again
    calls = sandbox.calls()["calls"]
    assert mutating_calls(calls) == {}
    # The tags and the three listed VPCs say it all: no zone read, no authorization listed; one record read a zone.
    assert "route53:GetHostedZone" not in calls and "route53:ListVPCAssociationAuthorizations" not in calls
    assert calls["route53:ListResourceRecordSets"] == 2 and calls["route53:ListHostedZonesByVPC"] == 2


def test_a_zone_of_the_other_account_on_its_vpc_is_refused_before_any_write(sandbox):
    net = Network(cidr="10.93.0.0/16")
    other = Network(region="eu-west-1", cidr="10.94.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    theirs = r53(OTHER_ACCOUNT_KEYS).create_hosted_zone(
        Name=API_ZONE, CallerReference="theirs-%s" % other.vpc_id, VPC={"VPCRegion": "eu-west-1", "VPCId": other.vpc_id},
        HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"].split("/")[-1]
    foreign = {"vpc_id": other.vpc_id, "region": "eu-west-1", "account_id": OTHER_ACCOUNT, "aws": dict(OTHER_ACCOUNT_KEYS)}
    sandbox.reset_calls()
    refused = run_module("private_zones", zone_args(net, services=["api"], vpcs=[foreign], validate_only=True))
    assert refused["failed"] and theirs in refused["msg"] and OTHER_ACCOUNT in refused["msg"], refused["msg"]
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_rejected_credentials_of_the_other_account_name_its_vpc(sandbox):
    net = Network(cidr="10.95.0.0/16")
    other = Network(region="eu-west-1", cidr="10.96.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    foreign = {"vpc_id": other.vpc_id, "region": "eu-west-1", "account_id": OTHER_ACCOUNT, "aws": dict(OTHER_ACCOUNT_KEYS)}
    args = zone_args(net, services=["dbm"], endpoints=endpoints_without_private_dns(net, ["dbm"]), vpcs=[foreign])
    # The zone is new (the endpoint VPC comes with it): the one association is the other account's.
    sandbox.add_fault("AssociateVPCWithHostedZone", "InvalidClientTokenId", status=403,
                      message="The security token included in the request is invalid.")
    refused = run_module("private_zones", args)
    assert refused["failed"] and "rejected the credentials" in refused["msg"], refused["msg"]
    assert "%s (eu-west-1) in vpcs working aws options" % other.vpc_id in refused["msg"]
    assert refused["authorized"] and refused["created_zones"] == ["dbm-metrics-intake.datadoghq.com"]  # what was done
    sandbox.clear_faults()
    again = run_module("private_zones", args)  # the next run finds the authorization and goes on
    assert not again["failed"], again.get("msg")
    assert [a["vpc_id"] for a in again["associated"]] == [other.vpc_id] and again["deauthorized"]


def test_association_without_authorization_is_refused_clearly(sandbox):
    net = Network(cidr="10.89.0.0/16")
    other = Network(region="eu-west-1", cidr="10.90.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    result = run_module("private_zones", zone_args(net, services=["dbm"], endpoints=endpoints_without_private_dns(net, ["dbm"])))
    zone_id = result["zones"]["dbm-metrics-intake.datadoghq.com"]["zone_id"]
    refused = run_module("private_zone_association", dict(OTHER_ACCOUNT_KEYS, region="eu-west-1", zone_ids=[zone_id],
                                                          vpc_id=other.vpc_id))
    assert refused["failed"] and "no association authorization" in refused["msg"]


def hand_made_zone(name, vpc_id, region="us-east-1", reference=None):
    """A private zone made by hand (no tag), as a user would with the console."""
    zone = r53().create_hosted_zone(Name=name, CallerReference=reference or "by-hand-%s-%s" % (name, vpc_id),
                                    VPC={"VPCRegion": region, "VPCId": vpc_id}, HostedZoneConfig={"PrivateZone": True})
    return zone["HostedZone"]["Id"].split("/")[-1]


def records_of(zone_id):
    return {(r["Name"].rstrip("."), r["Type"]): r for r in r53().list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]}


def tags_of(zone_id):
    return {t["Key"]: t["Value"] for t in r53().list_tags_for_resource(
        ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]["Tags"]}


def zones_named(name, *networks):
    """Ids of the zones of that name on these test VPCs (the sandbox is shared by the tests)."""
    found = set()
    for net in networks:
        found.update(z["HostedZoneId"] for z in r53().list_hosted_zones_by_vpc(VPCId=net.vpc_id, VPCRegion=net.region)[
            "HostedZoneSummaries"] if z["Name"].rstrip(".") == name)
    return sorted(found)


def test_a_zone_made_by_hand_is_adopted_corrected_and_never_deleted(sandbox):
    net = Network(cidr="10.91.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.97.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["api", "traces"])
    hand = hand_made_zone(API_ZONE, net.vpc_id)
    r53().change_resource_record_sets(HostedZoneId=hand, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": API_ZONE, "Type": "A", "TTL": 300,
                                                   "ResourceRecords": [{"Value": "10.91.9.9"}]}},
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "check." + API_ZONE, "Type": "TXT", "TTL": 60,
                                                   "ResourceRecords": [{"Value": '"owned by the network team"'}]}}]})
    args = zone_args(net, services=["api", "traces"], endpoints=endpoints,
                     vpcs=[{"vpc_id": agents.vpc_id, "region": "eu-west-1"}], purge_vpcs=True)

    result = run_module("private_zones", args, diff=True)
    assert not result["failed"], result.get("msg")
    assert result["adopted"] == [hand] and result["created_zones"] == [TRACES_ZONE]
    api = result["zones"][API_ZONE]
    assert api["zone_id"] == hand and api["ownership"] == "adopted"
    assert result["zones"][TRACES_ZONE]["ownership"] == "created"
    assert zones_named(API_ZONE, net, agents) == [hand]  # no second zone
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert "zone %s A TTL 300 10.91.9.9\n" % API_ZONE in before and "zone %s %s (unmanaged)\n" % (API_ZONE, hand) in before
    assert "zone %s A alias %s. (" % (API_ZONE, endpoints["api"]["regional_dns_entry"]["dns_name"]) in after
    assert "zone %s %s (adopted)\n" % (API_ZONE, hand) in after and "10.91.9.9" not in after
    records = records_of(hand)
    assert records[(API_ZONE, "A")]["AliasTarget"]["DNSName"].rstrip(".") == \
        endpoints["api"]["regional_dns_entry"]["dns_name"]
    assert records[("check." + API_ZONE, "TXT")]["ResourceRecords"] == [{"Value": '"owned by the network team"'}]
    assert zone_vpcs(hand) == sorted([(net.vpc_id, "us-east-1"), (agents.vpc_id, "eu-west-1")])
    tags = tags_of(hand)
    assert tags[plan_ownership_key()] == "adopted" and catalog.OWNER_TAG_KEY not in tags
    created_tags = tags_of(result["zones"][TRACES_ZONE]["zone_id"])
    assert created_tags[plan_ownership_key()] == "created" and created_tags[catalog.OWNER_TAG_KEY] == catalog.OWNER_TAG_VALUE

    sandbox.reset_calls()
    again = run_module("private_zones", args)
    assert again["changed"] is False and again["adopted"] == [], again
    assert mutating_calls(sandbox.calls()["calls"]) == {}

    gone = run_module("private_zones", zone_args(net, services=["api", "traces"], state="absent",
                                                 vpcs=[{"vpc_id": agents.vpc_id, "region": "eu-west-1"}]))
    assert not gone["failed"], gone.get("msg")
    assert gone["deleted_zones"] == [TRACES_ZONE]
    assert [(k["zone_id"], k["ownership"]) for k in gone["kept_zones"]] == [(hand, "adopted")]
    assert gone["disassociated"] == [{"zone": API_ZONE, "vpc_id": agents.vpc_id, "region": "eu-west-1"}]
    assert zones_named(API_ZONE, net, agents) == [hand]
    assert ("check." + API_ZONE, "TXT") in records_of(hand)
    assert zone_vpcs(hand) == [(net.vpc_id, "us-east-1")]  # the user's own association stays
    assert not any(k.startswith("datadog-privatelink:") for k in tags_of(hand))
    assert zones_named(TRACES_ZONE, net, agents) == []
    assert run_module("private_zones", zone_args(net, services=["api", "traces"], state="absent"))["changed"] is False


def plan_ownership_key():
    from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _zone_plan as zone_plan

    return zone_plan.OWNERSHIP_TAG_KEY


def test_a_zone_made_by_hand_on_an_unrelated_vpc_is_neither_named_nor_blocking(sandbox):
    net = Network(cidr="10.98.0.0/16")
    unrelated = Network(cidr="10.99.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["api"])
    elsewhere = hand_made_zone(API_ZONE, unrelated.vpc_id)
    result = run_module("private_zones", zone_args(net, services=["api"], endpoints=endpoints))
    assert not result["failed"], result.get("msg")
    assert result["created_zones"] == [API_ZONE] and result["adopted"] == []
    assert elsewhere not in json.dumps(result)
    assert zone_vpcs(elsewhere) == [(unrelated.vpc_id, "us-east-1")]
    absent = run_module("private_zones", zone_args(net, services=["api"], state="absent"))
    assert absent["deleted_zones"] == [API_ZONE] and elsewhere not in json.dumps(absent)
    assert zones_named(API_ZONE, net, unrelated) == [elsewhere]


def test_validate_only_finds_a_conflicting_zone_before_any_endpoint_and_writes_nothing(sandbox):
    net = Network(cidr="10.100.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.101.0.0/16")
    other = Network(region="eu-west-1", cidr="10.102.0.0/16")
    vpcs = [{"vpc_id": agents.vpc_id, "region": "eu-west-1"}, {"vpc_id": other.vpc_id, "region": "eu-west-1"}]
    one = hand_made_zone("metrics.agent.datadoghq.com", agents.vpc_id, "eu-west-1")
    two = hand_made_zone("metrics.agent.datadoghq.com", other.vpc_id, "eu-west-1")
    sandbox.reset_calls()
    # No endpoint exists yet: this is what a play runs before its first change.
    refused = run_module("private_zones", zone_args(net, services=["metrics"], vpcs=vpcs, validate_only=True))
    assert refused["failed"] and one in refused["msg"] and two in refused["msg"] and "Disassociate" in refused["msg"]
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    # The message names the zone in the way (with its VPC) and the one that serves the run.
    blocking, kept, blocked_vpc = (two, one, other) if other.vpc_id in refused["msg"] else (one, two, agents)
    assert refused["msg"].index(blocking) < refused["msg"].index(kept)

    r53().delete_hosted_zone(Id=blocking)  # the user follows the message
    sandbox.reset_calls()
    ok = run_module("private_zones", zone_args(net, services=["metrics"], vpcs=vpcs, validate_only=True))
    assert not ok["failed"], ok.get("msg")
    assert ok["changed"] is False and ok["adopted"] == [kept]
    assert ok["associated"] == sorted([{"zone": "metrics.agent.datadoghq.com", "vpc_id": net.vpc_id, "region": "us-east-1"},
                                       {"zone": "metrics.agent.datadoghq.com", "vpc_id": blocked_vpc.vpc_id,
                                        "region": "eu-west-1"}], key=lambda v: (v["vpc_id"], v["region"]))
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert tags_of(kept) == {}


def test_our_second_zone_of_a_name_is_deleted_and_reported(sandbox):
    net = Network(cidr="10.103.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.104.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["process"])
    agent_vpc = {"vpc_id": agents.vpc_id, "region": "eu-west-1"}
    kept = run_module("private_zones", zone_args(net, services=["process"], endpoints=endpoints))
    kept_id = kept["zones"]["process.datadoghq.com"]["zone_id"]
    # What an older race left: a second zone of ours for the name, on the Agent VPC.
    dup = hand_made_zone("process.datadoghq.com", agents.vpc_id, "eu-west-1", reference="old-run")
    r53().change_tags_for_resource(ResourceType="hostedzone", ResourceId=dup, AddTags=[
        {"Key": k, "Value": v} for k, v in tags_of(kept_id).items()])
    result = run_module("private_zones", zone_args(net, services=["process"], vpcs=[agent_vpc]))
    assert not result["failed"], result.get("msg")
    assert result["duplicates"] == [{"zone": "process.datadoghq.com", "zone_id": dup, "vpcs": [agent_vpc], "kept_zone_id": kept_id}]
    assert zones_named("process.datadoghq.com", net, agents) == [kept_id]
    assert zone_vpcs(kept_id) == sorted([(net.vpc_id, "us-east-1"), (agents.vpc_id, "eu-west-1")])
    assert run_module("private_zones", zone_args(net, services=["process"], vpcs=[agent_vpc]))["changed"] is False


def test_two_runs_at_once_make_one_zone_per_name(sandbox):
    from concurrent.futures import ThreadPoolExecutor

    net = Network(cidr="10.105.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.106.0.0/16")
    endpoints = endpoints_without_private_dns(net)
    args = zone_args(net, endpoints=endpoints, vpcs=[{"vpc_id": agents.vpc_id, "region": "eu-west-1"}], purge_vpcs=True)
    with ThreadPoolExecutor(max_workers=2) as pool:  # two processes, as two ansible-playbook runs
        results = list(pool.map(lambda _: run_module("private_zones", args), range(2)))
    for result in results:
        assert not result["failed"], result.get("msg")
    hosts = sorted(default_zones())
    assert sorted(results[0]["zones"]) == hosts
    for host in hosts:
        listed = zones_named(host, net, agents)
        assert len(listed) == 1, host
        assert results[0]["zones"][host]["zone_id"] == results[1]["zones"][host]["zone_id"] == listed[0]
        assert zone_vpcs(listed[0]) == sorted([(net.vpc_id, "us-east-1"), (agents.vpc_id, "eu-west-1")])
    assert sorted(results[0]["created_zones"] + results[1]["created_zones"]) == hosts  # each name made once
    assert run_module("private_zones", args)["changed"] is False


def test_a_zone_made_again_after_deletion_takes_the_next_caller_reference(sandbox):
    net = Network(cidr="10.107.0.0/16")
    args = zone_args(net, services=["dbm"], endpoints=endpoints_without_private_dns(net, ["dbm"]))
    name = "dbm-metrics-intake.datadoghq.com"
    first = run_module("private_zones", args)["zones"][name]["zone_id"]
    assert r53().get_hosted_zone(Id=first)["HostedZone"]["CallerReference"].endswith(":g0")
    assert run_module("private_zones", dict(args, state="absent"))["deleted_zones"] == [name]
    again = run_module("private_zones", args)
    assert not again["failed"], again.get("msg")
    assert again["created_zones"] == [name]
    assert r53().get_hosted_zone(Id=again["zones"][name]["zone_id"])["HostedZone"]["CallerReference"].endswith(":g1")


def test_rejected_or_missing_credentials_say_so(sandbox, monkeypatch):
    net = Network(cidr="10.108.0.0/16")
    args = zone_args(net, services=["api"], endpoints=endpoints_without_private_dns(net, ["api"]), verify=False)
    sandbox.add_fault("ListHostedZonesByVPC", "InvalidClientTokenId", status=403,
                      message="The security token included in the request is invalid.")
    refused = run_module("private_zones", args)
    assert refused["failed"] and "rejected the credentials" in refused["msg"] and "access_key" in refused["msg"]
    sandbox.add_fault("ListHostedZonesByVPC", "SignatureDoesNotMatch", status=403, message="Check your secret key.")
    association = run_module("private_zone_association", {"region": "us-east-1", "zone_ids": ["Z0000000000000000000"],
                                                          "vpc_id": net.vpc_id, "state": "absent"})
    assert association["failed"] and "rejected the credentials" in association["msg"], association["msg"]
    sandbox.clear_faults()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookup off this machine
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    missing = run_module("private_zones", args)
    assert missing["failed"] and "no usable AWS credentials" in missing["msg"], missing["msg"]


def test_an_agent_account_zone_of_the_same_name_is_named_by_the_association(sandbox):
    net = Network(cidr="10.109.0.0/16")
    other = Network(region="eu-west-1", cidr="10.110.0.0/16", account_keys=OTHER_ACCOUNT_KEYS)
    theirs = r53(OTHER_ACCOUNT_KEYS).create_hosted_zone(
        Name=API_ZONE, CallerReference="theirs-110", HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "eu-west-1", "VPCId": other.vpc_id})["HostedZone"]["Id"].split("/")[-1]
    foreign = {"vpc_id": other.vpc_id, "region": "eu-west-1", "account_id": OTHER_ACCOUNT}
    owner = run_module("private_zones", zone_args(net, services=["api"], endpoints=endpoints_without_private_dns(net, ["api"]),
                                                  vpcs=[foreign]))
    assert not owner["failed"], owner.get("msg")
    zone_id = owner["zones"][API_ZONE]["zone_id"]
    refused = run_module("private_zone_association", dict(OTHER_ACCOUNT_KEYS, region="eu-west-1", zone_ids=[zone_id],
                                                          vpc_id=other.vpc_id))
    assert refused["failed"] and theirs in refused["msg"] and API_ZONE in refused["msg"], refused["msg"]
    assert "Disassociate" in refused["msg"]
    assert zone_vpcs(theirs, OTHER_ACCOUNT_KEYS) == [(other.vpc_id, "eu-west-1")]


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


def test_keys_sharing_an_endpoint_share_its_anchors_zone(sandbox):
    net = Network(region="ap-southeast-2", cidr="10.94.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["logs_agent", "logs_user"], site="ap2")
    result = run_module("private_zones", {"region": "ap-southeast-2", "site": "ap2", "vpc_id": net.vpc_id,
                                          "services": ["logs_agent", "logs_user"], "endpoints": endpoints})
    assert not result["failed"], result.get("msg")
    anchor = catalog.service_entries("ap2", ["logs_agent"])[0]["anchor"]
    assert list(result["zones"]) == [anchor] and result["zones"][anchor]["service_keys"] == ["logs_agent", "logs_user"]
    assert result["services"] == {"logs_agent": [anchor], "logs_user": [anchor]}


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


def earlier_release_zone(name, keys, net, agents, target):
    """A zone as an earlier release made it: named after a host, its CallerReference, tags, alias and associations."""
    zone_id = hand_made_zone(name, net.vpc_id, reference=zone_plan.caller_reference(name, net.vpc_id))
    r53().associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCId": agents.vpc_id, "VPCRegion": agents.region})
    tags = zone_plan.zone_tags(keys, "ap2", net.vpc_id)
    tags[zone_plan.ASSOCIATED_VPC_TAG_PREFIX + agents.vpc_id] = agents.region
    r53().change_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id,
                                   AddTags=[{"Key": k, "Value": v} for k, v in tags.items()])
    r53().change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet":
                                      zone_plan.alias_record(name, target)}]})
    return zone_id


def test_zones_of_customer_facing_names_migrate_to_the_anchor_in_one_run_then_nothing_changes(sandbox):
    net = Network(region="ap-southeast-2", cidr="10.111.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.112.0.0/16")
    services = ["logs_agent", "logs_user", "api", "metrics"]
    endpoints = endpoints_without_private_dns(net, services, site="ap2")
    entries = {e["key"]: e for e in catalog.service_entries("ap2", services)}
    old = {key: earlier_release_zone(entries[key]["private_dns_name"], [key], net, agents,
                                     endpoints[key]["regional_dns_entry"]) for key in services}
    by_hand = hand_made_zone("agent.x.ap2.datadoghq.com", net.vpc_id)  # unrelated name: untouched
    args = {"region": "ap-southeast-2", "site": "ap2", "vpc_id": net.vpc_id, "services": services,
            "vpcs": [{"vpc_id": agents.vpc_id, "region": "eu-west-1"}]}

    predicted = run_module("private_zones", args, check=True, diff=True)
    assert predicted["changed"] and sorted(z["zone_id"] for z in predicted["migrated_zones"]) == sorted(old.values())
    assert all(zones_named(entries[k]["private_dns_name"], net, agents) == [old[k]] for k in services)  # check: no write

    result = run_module("private_zones", args, diff=True)
    assert not result["failed"], result.get("msg")
    anchors = sorted({e["anchor"] for e in entries.values()})
    assert sorted(result["zones"]) == sorted(result["created_zones"]) == anchors
    migrated = {m["zone"]: m for m in result["migrated_zones"]}
    assert sorted(migrated) == sorted(e["private_dns_name"] for e in entries.values())
    for key, zone_id in old.items():
        host = entries[key]["private_dns_name"]
        assert migrated[host]["zone_id"] == zone_id and migrated[host]["replaced_by"] == entries[key]["anchor"]
        assert zones_named(host, net, agents) == []  # gone from the endpoint VPC and the Agent VPC
        assert "zone %s %s (created)\n" % (host, zone_id) in result["diff"]["before"]
        assert "zone %s " % host not in result["diff"]["after"]
    for anchor in anchors:
        assert "zone %s " % anchor not in result["diff"]["before"]
        assert "zone %s %s (created)\n" % (anchor, result["zones"][anchor]["zone_id"]) in result["diff"]["after"]
        wanted = sorted([(net.vpc_id, "ap-southeast-2"), (agents.vpc_id, "eu-west-1")])
        assert zone_vpcs(result["zones"][anchor]["zone_id"]) == wanted
    assert result["services"] == {key: [entries[key]["anchor"]] for key in services}
    assert zones_named("agent.x.ap2.datadoghq.com", net) == [by_hand]

    sandbox.reset_calls()
    again = run_module("private_zones", args)
    assert again["changed"] is False and again["migrated_zones"] == [] and again["created_zones"] == [], again
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_a_hand_made_zone_of_a_customer_facing_name_is_left_with_a_warning(sandbox):
    net = Network(cidr="10.113.0.0/16")
    endpoints = endpoints_without_private_dns(net, ["api"])
    host = catalog.intake_hosts("us1", ["api"])["api"]
    theirs = hand_made_zone(host, net.vpc_id)
    result = run_module("private_zones", zone_args(net, services=["api"], endpoints=endpoints))
    assert not result["failed"], result.get("msg")
    assert result["migrated_zones"] == [] and zones_named(host, net) == [theirs]
    warned = json.dumps(result.get("warnings", []))
    assert theirs in warned and API_ZONE in warned and host in warned, warned
    gone = run_module("private_zones", zone_args(net, services=["api"], state="absent"))
    assert gone["deleted_zones"] == [API_ZONE] and zones_named(host, net) == [theirs]  # absent leaves it too
