"""Pure logic of private_zones: zone names (anchors, shared services), alias records, associations."""

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _zone_plan as plan


def test_zone_names_are_what_aws_reports_one_zone_per_anchor():
    entries = catalog.service_entries("ap2", ["logs_agent", "logs_user", "api"])
    api_name = entries[2]["service_name"]
    logs_name = entries[0]["service_name"]
    details = {
        api_name: {"PrivateDnsName": "other.intake.ap2.datadoghq.com"},  # what AWS says wins over the catalog
        logs_name: {"PrivateDnsName": entries[0]["anchor"], "PrivateDnsNames": [{"PrivateDnsName": entries[0]["anchor"]}]},
    }
    zones = plan.zone_names(entries, details)
    assert zones == {
        "other.intake.ap2.datadoghq.com": ["api"],
        entries[0]["anchor"]: ["logs_agent", "logs_user"],  # two keys, one service, one zone
    }


def test_zone_names_without_verification_are_the_catalog_anchors_and_direct_names():
    entries = catalog.service_entries("us1", ["metrics"])
    assert plan.zone_names(entries, {}) == {"metrics.agent.datadoghq.com": ["metrics"]}  # direct: its name
    every = catalog.service_entries("uk1", [catalog.ALL])
    zones = plan.zone_names(every, {})
    assert sorted(zones) == sorted({e["anchor"] for e in every})  # uk1: every name goes through an anchor
    assert len(zones) == len(catalog.group_by_service_name(every))


def test_legacy_zones_are_the_hosts_an_anchor_now_covers():
    entries = catalog.service_entries("us1", ["api", "metrics", "traces"])
    by_zone = plan.zone_names(entries, {})
    legacy = plan.legacy_zone_names(entries, by_zone)
    hosts = catalog.intake_hosts("us1", ["api", "traces"])
    assert legacy == {hosts["api"]: ["api"], hosts["traces"]: ["traces"]}  # metrics is direct: its zone stays
    ap1 = catalog.service_entries("ap1")
    assert plan.legacy_zone_names(ap1, plan.zone_names(ap1, {})) == {}  # no anchors on ap1: nothing moves


def test_alias_record_and_matching_ignore_case_and_final_dot():
    target = {"dns_name": "vpce-0abc-1x2y.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com", "hosted_zone_id": "Z7HUB22UULQXV"}
    wanted = plan.alias_record("api.datadoghq.com", target)
    assert wanted == {"Name": "api.datadoghq.com.", "Type": "A", "AliasTarget": {
        "HostedZoneId": "Z7HUB22UULQXV", "DNSName": "vpce-0abc-1x2y.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com.",
        "EvaluateTargetHealth": False}}
    existing = {"Name": "API.datadoghq.com.", "Type": "A", "AliasTarget": {
        "HostedZoneId": "Z7HUB22UULQXV", "DNSName": "VPCE-0abc-1x2y.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com",
        "EvaluateTargetHealth": False}}
    assert plan.record_matches(existing, wanted)
    moved = dict(existing, AliasTarget=dict(existing["AliasTarget"], HostedZoneId="ZOTHER"))
    assert not plan.record_matches(moved, wanted)
    assert not plan.record_matches(None, wanted)


def test_association_plan_keeps_the_endpoint_vpc_and_purges_only_what_we_associated():
    endpoint = {"vpc_id": "vpc-e", "region": "us-east-1"}
    current = [endpoint, {"vpc_id": "vpc-a", "region": "eu-west-1"}, {"vpc_id": "vpc-hand", "region": "eu-west-1"}]
    wanted = [{"vpc_id": "vpc-b", "region": "ap-northeast-1"}]
    tagged = {"vpc-a": "eu-west-1"}
    add, remove = plan.association_plan(current, wanted, endpoint, tagged, purge=True)
    assert add == [{"vpc_id": "vpc-b", "region": "ap-northeast-1"}]
    assert remove == [{"vpc_id": "vpc-a", "region": "eu-west-1"}]
    add, remove = plan.association_plan(current, wanted, endpoint, tagged, purge=False)
    assert remove == []
    add, remove = plan.association_plan([], [], endpoint, {}, purge=True)
    assert add == [endpoint] and remove == []


def test_ownership_needs_our_tag_and_our_endpoint_vpc():
    tags = plan.zone_tags(["api"], "us1", "vpc-e")
    assert plan.is_ours(tags, "vpc-e")
    assert not plan.is_ours(tags, "vpc-other")
    assert not plan.is_ours({}, "vpc-e")
    tags[plan.ASSOCIATED_VPC_TAG_PREFIX + "vpc-a"] = "eu-west-1"
    assert plan.associated_by_us(tags) == {"vpc-a": "eu-west-1"}


ENDPOINT = {"vpc_id": "vpc-e", "region": "us-east-1"}
AGENTS = {"vpc_id": "vpc-a", "region": "eu-west-1"}
OTHER_AGENTS = {"vpc_id": "vpc-b", "region": "eu-west-1"}


def zone(zone_id, ownership, vpcs, **extra):
    found = {"zone_id": zone_id, "ownership": ownership, "vpcs": vpcs, "run_vpcs": vpcs,
             "owner_account": None, "owner_service": None}
    found.update(extra)
    return found


def test_caller_reference_is_the_same_for_every_run_and_says_its_generation():
    ref = plan.caller_reference("API.datadoghq.com.", "vpc-e")
    assert ref == plan.caller_reference("api.datadoghq.com", "vpc-e", 0)
    assert len(plan.caller_reference("agent-http-intake.logs.ap2.datadoghq.com", "vpc-0123456789abcdef0", 49)) <= 128
    assert plan.reference_generation(plan.caller_reference("api.datadoghq.com", "vpc-e", 7), "api.datadoghq.com", "vpc-e") == 7
    assert plan.reference_generation(ref, "api.datadoghq.com", "vpc-other") is None
    assert plan.reference_generation(ref, "trace.agent.datadoghq.com", "vpc-e") is None
    assert plan.reference_generation("by-hand", "api.datadoghq.com", "vpc-e") is None
    assert plan.reference_generation(None, "api.datadoghq.com", "vpc-e") is None


def test_ownership_from_reference_tags_or_neither():
    name = "api.datadoghq.com"
    assert plan.ownership({}, plan.caller_reference(name, "vpc-e", 3), name, "vpc-e") == plan.CREATED  # tags not yet written
    assert plan.ownership(plan.zone_tags(["api"], "us1", "vpc-e"), "uuid-ref", name, "vpc-e") == plan.CREATED  # older versions
    adopted = plan.zone_tags(["api"], "us1", "vpc-e", plan.ADOPTED)
    assert catalog.OWNER_TAG_KEY not in adopted and adopted[plan.OWNERSHIP_TAG_KEY] == "adopted"
    assert plan.ownership(adopted, "by-hand", name, "vpc-e") == plan.ADOPTED
    assert plan.ownership(adopted, "by-hand", name, "vpc-x") == plan.OTHER_RUN
    assert plan.ownership(plan.zone_tags(["api"], "us1", "vpc-x"), "uuid-ref", name, "vpc-e") == plan.OTHER_RUN
    assert plan.ownership({"team": "network"}, "by-hand", name, "vpc-e") is None
    assert plan.collection_tag_keys(dict(adopted, team="network", **{plan.ASSOCIATED_VPC_TAG_PREFIX + "vpc-a": "eu-west-1"})) == sorted(
        list(adopted) + [plan.ASSOCIATED_VPC_TAG_PREFIX + "vpc-a"])


def test_choose_zone_creates_when_none_and_adopts_a_single_zone_made_by_hand():
    assert plan.choose_zone("api.datadoghq.com", [], ENDPOINT) == (None, [], None)
    hand = zone("ZHAND", None, [AGENTS])
    assert plan.choose_zone("api.datadoghq.com", [hand], ENDPOINT) == (hand, [], None)


def test_choose_zone_keeps_the_endpoint_vpcs_zone_and_deletes_our_duplicates_in_any_order():
    ours = zone("ZOURS", plan.CREATED, [ENDPOINT])
    dup_a = zone("ZDUPA", plan.CREATED, [AGENTS])
    dup_b = zone("ZDUPB", plan.CREATED, [OTHER_AGENTS])
    for zones in ([ours, dup_a, dup_b], [dup_b, dup_a, ours]):
        keep, duplicates, refusal = plan.choose_zone("api.datadoghq.com", zones, ENDPOINT)
        assert keep is ours and [d["zone_id"] for d in duplicates] == ["ZDUPA", "ZDUPB"] and refusal is None
    # Without one on the endpoint VPC, a zone made by hand wins over ours: it can never be deleted.
    hand = zone("ZZZHAND", None, [AGENTS])
    keep, duplicates, refusal = plan.choose_zone("api.datadoghq.com", [dup_b, hand], ENDPOINT)
    assert keep is hand and duplicates == [dup_b] and refusal is None


def test_choose_zone_names_the_zone_in_the_way_and_what_to_change():
    ours = zone("ZOURS", plan.CREATED, [ENDPOINT])
    hand = zone("ZHAND", None, [AGENTS])
    keep, duplicates, refusal = plan.choose_zone("api.datadoghq.com", [hand, ours], ENDPOINT)
    assert keep is ours and duplicates == []
    assert "ZHAND" in refusal and "vpc-a (eu-west-1)" in refusal and "Disassociate" in refusal and "ZOURS" in refusal
    assert "vpc-e" not in refusal.split("while")[0]  # the VPC named is the one in the way


def test_choose_zone_refuses_zones_of_other_accounts_services_and_runs():
    other_account = zone("ZACCOUNT", None, [AGENTS], owner_account="222222222222")
    refusal = plan.choose_zone("api.datadoghq.com", [other_account], ENDPOINT)[2]
    assert "222222222222" in refusal and "vpc-a" in refusal and "ZACCOUNT" in refusal
    service = zone("ZSERVICE", None, [ENDPOINT], owner_service="vpce.amazonaws.com")
    refusal = plan.choose_zone("api.datadoghq.com", [service], ENDPOINT)[2]
    assert "private_dns_enabled: false" in refusal and "vpc-e" in refusal
    other_run = zone("ZRUN", plan.OTHER_RUN, [AGENTS])
    refusal = plan.choose_zone("api.datadoghq.com", [zone("ZOURS", plan.CREATED, [ENDPOINT]), other_run], ENDPOINT)[2]
    assert "ZRUN" in refusal and plan.ENDPOINT_VPC_TAG_KEY in refusal


def test_record_view_shows_alias_or_values():
    assert plan.record_view(None) is None
    assert plan.record_view({"Name": "a.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "10.0.0.1"}]}) == {
        "TTL": 300, "ResourceRecords": ["10.0.0.1"]}
    alias = {"HostedZoneId": "Z7HUB22UULQXV", "DNSName": "x.", "EvaluateTargetHealth": False}
    assert plan.record_view({"Name": "a.", "Type": "A", "AliasTarget": alias}) == alias


class FakeClientError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": "The security token included in the request is invalid."}}


class NoCredentialsError(Exception):
    pass


def test_credentials_problem_tells_credentials_from_permissions():
    assert "rejected the credentials" in plan.credentials_problem(FakeClientError("InvalidClientTokenId"))
    assert "rejected the credentials" in plan.credentials_problem(FakeClientError("SignatureDoesNotMatch"))
    assert "no usable AWS credentials" in plan.credentials_problem(NoCredentialsError("Unable to locate credentials"))
    assert plan.credentials_problem(FakeClientError("AccessDenied")) is None
    assert plan.credentials_problem(ValueError("x")) is None


def test_a_zone_is_read_only_when_its_tags_and_the_listed_vpcs_leave_something_unknown():
    listed = {("vpc-e", "us-east-1"), ("vpc-a", "eu-west-1")}
    ours = plan.zone_tags(["api"], "us1", "vpc-e")
    ours[plan.ASSOCIATED_VPC_TAG_PREFIX + "vpc-a"] = "eu-west-1"
    assert plan.created_by_tags(ours, "vpc-e")
    assert plan.ownership(ours, None, "api.datadoghq.com", "vpc-e") == plan.CREATED  # the tags alone decide, as assumed
    assert not plan.zone_read_needed(ours, "vpc-e", listed, [])
    # Another endpoint VPC's zone, an adopted zone, a zone without tags: ownership needs the CallerReference.
    assert plan.zone_read_needed(ours, "vpc-other", listed, [])
    assert plan.zone_read_needed(plan.zone_tags(["api"], "us1", "vpc-e", plan.ADOPTED), "vpc-e", listed, [])
    assert plan.zone_read_needed({}, "vpc-e", listed, [])
    # A VPC this collection associated that no list covers (a purge candidate), or another account's VPC read without credentials.
    gone = dict(ours, **{plan.ASSOCIATED_VPC_TAG_PREFIX + "vpc-b": "eu-west-1"})
    assert plan.zone_read_needed(gone, "vpc-e", listed, [])
    assert plan.zone_read_needed(ours, "vpc-e", listed, [{"vpc_id": "vpc-f", "region": "eu-west-1"}])


def test_diff_lines_of_a_zone_one_per_fact_none_when_absent():
    view = {"zone_id": "Z1", "ownership": "created", "vpcs": [("vpc-e", "us-east-1")],
            "record": plan.record_view(plan.alias_record("api.x", {"dns_name": "vpce-1.aws", "hosted_zone_id": "ZH"})),
            "authorizations": [("vpc-f", "eu-west-1")]}
    assert plan.diff_lines("api.x", view) == [
        "zone api.x Z1 (created)", "zone api.x associated with vpc-e (us-east-1)", "zone api.x A alias vpce-1.aws. (ZH)",
        "zone api.x authorizes vpc-f (eu-west-1)"]
    assert plan.diff_lines("api.x", None) == []
    by_hand = plan.record_view({"Name": "api.x.", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "10.0.0.9"}]})
    assert plan.diff_lines("api.x", {"zone_id": None, "ownership": None, "record": by_hand}) == [
        "zone api.x (to be created) (unmanaged)", "zone api.x A TTL 300 10.0.0.9"]
