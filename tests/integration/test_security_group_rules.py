"""security_group_rules against the sandbox: exact rules added and revoked one by one, the user's rules never touched."""

import pytest

from conftest import ec2, mutating_calls, run_module
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

NTP = {"protocol": "udp", "from_port": 123, "cidr_ip": "169.254.169.123/32"}
HTTPS = {"protocol": "tcp", "from_port": 443, "cidr_ip": "10.40.0.0/16", "description": "datadog-privatelink:egress endpoints"}


@pytest.fixture
def group(network):
    """An Agents' group that already holds the user's own egress rules (and the default allow-all)."""
    client = network.client
    group_id = client.create_security_group(GroupName="agents", Description="agents", VpcId=network.vpc_id)["GroupId"]
    client.authorize_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.9.0.0/16", "Description": "db"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32", "Description": "user"}]},
    ])
    return group_id


def egress_rules(group_id):
    rules = ec2().describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return {r["SecurityGroupRuleId"]: r for r in rules if r["IsEgress"]}


def run(group_id, rules, **extra):
    args = {"region": "us-east-1", "group_id": group_id, "rules": rules}
    args.update(extra)
    return run_module("security_group_rules", args, diff=True)


def test_adds_tagged_rules_once_predicts_in_check_mode_and_leaves_the_users_rules(sandbox, group):
    users = egress_rules(group)
    sandbox.reset_calls()
    predicted = run_module("security_group_rules", {"region": "us-east-1", "group_id": group, "rules": [NTP, HTTPS]}, check=True, diff=True)
    assert predicted["changed"] and len(predicted["added"]) == 2 and not mutating_calls(sandbox.calls()["calls"])
    assert "egress udp 123 to 169.254.169.123/32" in predicted["diff"]["after"] and predicted["diff"]["before"] == ""
    assert predicted["allows_all"] is True

    done = run(group, [NTP, HTTPS])
    assert done["changed"] and [r["cidr_ip"] for r in done["added"]] == [NTP["cidr_ip"], HTTPS["cidr_ip"]]
    assert done["diff"] == predicted["diff"]
    after = egress_rules(group)
    for rule_id, rule in users.items():
        assert after[rule_id] == rule  # the user's rules, untouched
    ours = [r for r in after.values() if r["SecurityGroupRuleId"] not in users]
    assert len(ours) == 2
    for rule in ours:
        tags = {t["Key"]: t["Value"] for t in rule["Tags"]}
        assert tags == {catalog.RULE_OWNER_TAG_KEY: "datadog-privatelink:egress", catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE}
    assert {r["Description"] for r in ours} == {"datadog-privatelink:egress", HTTPS["description"]}

    sandbox.reset_calls()
    again = run(group, [HTTPS, NTP])
    assert not again["changed"] and len(again["unchanged"]) == 2 and again["diff"]["before"] == again["diff"]["after"]
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_a_rule_the_user_already_has_is_foreign_and_never_revoked(sandbox, group):
    users = {"protocol": "tcp", "from_port": 443, "cidr_ipv6": "2001:db8::/32"}
    result = run(group, [users, NTP])
    assert result["changed"] and [r["cidr_ipv6"] for r in result["foreign"]] == ["2001:db8::/32"]
    assert [r["cidr_ip"] for r in result["added"]] == [NTP["cidr_ip"]]
    gone = run(group, [users, NTP], state="absent")
    assert [r["cidr_ip"] for r in gone["removed"]] == [NTP["cidr_ip"]] and len(gone["foreign"]) == 1
    assert any(r.get("CidrIpv6") == "2001:db8::/32" for r in egress_rules(group).values())


def test_purge_revokes_only_the_owners_rules_one_by_one(sandbox, group):
    users = egress_rules(group)
    run(group, [NTP, HTTPS])
    other_owner = run(group, [{"protocol": "tcp", "from_port": 10516, "cidr_ip": "192.0.2.0/24"}], owner="someone-else")
    assert other_owner["changed"]
    sandbox.reset_calls()
    shrunk = run(group, [NTP], purge=True)
    assert [r["cidr_ip"] for r in shrunk["removed"]] == [HTTPS["cidr_ip"]]
    assert "egress tcp 443 to 10.40.0.0/16" in shrunk["diff"]["before"] and "443" not in shrunk["diff"]["after"]
    assert mutating_calls(sandbox.calls()["calls"]) == {"ec2:RevokeSecurityGroupEgress": 1}
    cleared = run(group, [], state="absent", purge=True)
    assert [r["cidr_ip"] for r in cleared["removed"]] == [NTP["cidr_ip"]]
    left = egress_rules(group)
    assert set(users) < set(left) and len(left) == len(users) + 1  # the user's and someone-else's rule
    assert not run(group, [], state="absent", purge=True)["changed"]


def test_ingress_and_group_peers(sandbox, network, group):
    rule = {"protocol": "tcp", "from_port": 443, "security_group_id": group}
    result = run(network.https_group, [rule], direction="ingress")
    assert result["changed"] and result["added"][0]["security_group_id"] == group
    assert not run(network.https_group, [rule], direction="ingress")["changed"]
    assert run(network.https_group, [rule], direction="ingress", state="absent")["removed"]


@pytest.mark.parametrize("rule, message", [
    ({"protocol": "tcp", "cidr_ip": "10.0.0.0/8"}, "need from_port"),
    ({"protocol": "tcp", "from_port": 443}, "exactly one of"),
    ({"protocol": "tcp", "from_port": 443, "cidr_ip": "10.0.0.0/8", "cidr_ipv6": "::/0"}, "exactly one of"),
])
def test_invalid_rules_are_refused_before_any_call(sandbox, group, rule, message):
    result = run(group, [rule])
    assert result["failed"] and message in result["msg"] and "rules[0]" in result["msg"]


def test_an_unknown_group_is_named(sandbox):
    result = run("sg-0123456789abcdef0", [NTP])
    assert result["failed"] and "sg-0123456789abcdef0 not found" in result["msg"]


def test_the_diff_names_the_direction_group_and_owner_on_both_sides(sandbox, group):
    result = run_module("security_group_rules", {"region": "us-east-1", "group_id": group, "rules": [NTP], "direction": "ingress",
                                                 "owner": "team-a"}, check=True, diff=True)
    header = "ingress rules of %s owned by team-a" % group
    assert result["diff"]["before_header"] == header and result["diff"]["after_header"] == header
    assert result["diff"]["after"] == "ingress udp 123 from 169.254.169.123/32\n" and result["diff"]["before"] == ""
