"""Pure logic of private_zones: zone names (anchors, shared services), alias records, associations."""

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import zone_plan as plan


def test_zone_names_take_what_aws_reports_and_the_catalog_host_names():
    entries = catalog.service_entries("ap2", ["logs_agent", "logs_user", "api"])
    api_name = entries[2]["service_name"]
    logs_name = entries[0]["service_name"]
    details = {
        api_name: {"PrivateDnsName": "lime.intake.ap2.datadoghq.com"},  # an anchor name
        logs_name: {"PrivateDnsName": "agent-http-intake.logs.ap2.datadoghq.com",
                    "PrivateDnsNames": [{"PrivateDnsName": "agent-http-intake.logs.ap2.datadoghq.com"}]},
    }
    zones = plan.zone_names(entries, details)
    assert zones == {
        "lime.intake.ap2.datadoghq.com": ["api"],
        "api.ap2.datadoghq.com": ["api"],
        "agent-http-intake.logs.ap2.datadoghq.com": ["logs_agent", "logs_user"],
        "http-intake.logs.ap2.datadoghq.com": ["logs_user"],
    }


def test_zone_names_without_verification_are_the_catalog():
    entries = catalog.service_entries("us1", ["metrics"])
    assert plan.zone_names(entries, {}) == {"metrics.agent.datadoghq.com": ["metrics"]}


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
