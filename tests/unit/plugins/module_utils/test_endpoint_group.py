"""The endpoints' security group, planned without AWS."""

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_group as endpoint_group
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


def options(**given):
    base = dict((key, spec["default"]) for key, spec in endpoint_group.OPTIONS_SPEC.items())
    base.update(given)
    return base


def group(*permissions):
    return {"GroupId": "sg-0123456789abcdef0", "IpPermissions": list(permissions)}


def tcp(from_port, to_port, cidrs=(), groups=(), cidrs6=()):
    return {"IpProtocol": "tcp", "FromPort": from_port, "ToPort": to_port, "IpRanges": [{"CidrIp": c} for c in cidrs],
            "Ipv6Ranges": [{"CidrIpv6": c} for c in cidrs6], "UserIdGroupPairs": [{"GroupId": g} for g in groups]}


def test_the_defaults_are_valid():
    assert endpoint_group.problems(options()) == []


@pytest.mark.parametrize("given, words", [
    ({"name": ""}, "name is empty"),
    ({"name": "default"}, "default group"),
    ({"https_ingress_cidrs": ["10.0.0.0/33"]}, "not a CIDR block"),
    ({"https_ingress_cidrs": ["10.0.0.1/16"]}, "not a CIDR block"),  # host bits set: AWS would store another block
    ({"https_ingress_security_group_ids": ["sg-12"]}, "not a security group id"),
])
def test_problems_say_what_to_change(given, words):
    (problem,) = endpoint_group.problems(options(**given))
    assert words in problem


def test_every_problem_is_named_at_once():
    assert len(endpoint_group.problems(options(name="", https_ingress_cidrs=["x"], https_ingress_security_group_ids=["y"]))) == 3


def test_a_rule_covering_443_counts_and_other_ports_do_not():
    current = group(tcp(0, 65535, cidrs=["10.0.0.0/16"]), tcp(80, 80, cidrs=["10.1.0.0/16"]),
                    {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-0aaaaaaaaaaaaaaaa"}]},
                    {"IpProtocol": "udp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.2.0.0/16"}]},
                    tcp(443, 443, cidrs6=["2600:1f18::/56"]))
    assert endpoint_group.admitted_sources(current) == {"10.0.0.0/16", "sg-0aaaaaaaaaaaaaaaa", "2600:1f18::/56"}
    wanted = ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "sg-0aaaaaaaaaaaaaaaa", "2600:1f18::/56", "sg-0bbbbbbbbbbbbbbbb"]
    assert endpoint_group.missing_sources(current, wanted) == ["10.1.0.0/16", "10.2.0.0/16", "sg-0bbbbbbbbbbbbbbbb"]


def test_a_group_not_made_yet_admits_nothing():
    assert endpoint_group.missing_sources(None, ["10.0.0.0/16"]) == ["10.0.0.0/16"]


@pytest.mark.parametrize("source, key, field", [
    ("10.0.0.0/16", "IpRanges", "CidrIp"),
    ("2600:1f18::/56", "Ipv6Ranges", "CidrIpv6"),
    ("sg-0123456789abcdef0", "UserIdGroupPairs", "GroupId"),
])
def test_one_permission_per_source_tcp_443_described(source, key, field):
    entry = endpoint_group.permission(source)
    assert (entry["IpProtocol"], entry["FromPort"], entry["ToPort"]) == ("tcp", 443, 443)
    assert entry[key] == [{field: source, "Description": endpoint_group.RULE_DESCRIPTION}]
    assert endpoint_group.admitted_sources(group(entry)) == {source}


def test_a_group_it_makes_carries_the_ownership_tags_and_a_name_the_user_may_set():
    made = endpoint_group.wanted_tags({"team": "sre"}, "datadog-privatelink-endpoints")
    assert made[catalog.OWNERSHIP_TAG_KEY] == catalog.OWNERSHIP_CREATED and made[catalog.OWNER_TAG_KEY] == catalog.OWNER_TAG_VALUE
    assert made["Name"] == "datadog-privatelink-endpoints" and made["team"] == "sre"
    assert endpoint_group.wanted_tags({"Name": "mine"}, "datadog-privatelink-endpoints")["Name"] == "mine"
    assert "Name" not in endpoint_group.wanted_tags({})  # a group made earlier keeps the Name it has (or has none)
