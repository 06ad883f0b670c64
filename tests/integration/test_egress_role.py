"""The egress role against the sandbox, on a group that already holds the user's own egress rules."""

import json
import re

import pytest

from conftest import ec2, mutating_calls, run_playbook, ROOT
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from tests.https_mirror import DocumentServer, ip_ranges_document

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "egress_role.yml"
OWNER = "datadog-privatelink:egress"


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    box = DocumentServer(tmp_path)
    box.body = json.dumps(ip_ranges_document()).encode()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the lookup's cache, not the user's
    yield box
    box.stop()


@pytest.fixture
def agents_group(network):
    client = network.client
    group_id = client.create_security_group(GroupName="agents", Description="agents", VpcId=network.vpc_id)["GroupId"]
    client.authorize_security_group_egress(GroupId=group_id, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.9.0.0/16", "Description": "user db"}]},
        {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.40.0.2/32", "Description": "user dns"}]},
    ])
    return group_id


def egress(group_id):
    rules = ec2().describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return {r["SecurityGroupRuleId"]: r for r in rules if r["IsEgress"]}


def ours(rules):
    return sorted((r["IpProtocol"], r["FromPort"], r.get("CidrIpv4") or r.get("CidrIpv6")) for r in rules.values()
                  if {"Key": catalog.RULE_OWNER_TAG_KEY, "Value": OWNER} in r["Tags"])


def test_role_is_idempotent_predicts_shows_a_diff_and_keeps_the_users_rules(sandbox, network, agents_group, mirror):
    users = egress(agents_group)
    logs = ip_ranges_document()["logs"][catalog.IP_RANGES_PREFIX_KEYS[4]]
    tcp_port = catalog.logs_tcp_destination("us1")[1]
    ntp = [d for d in catalog.network_destinations("us1") if d["key"] == "ntp_aws"][0]
    variables = {
        "egress_region": "us-east-1", "egress_security_group_ids": [agents_group], "egress_endpoint_vpc_id": network.vpc_id,
        "egress_public_ranges": True, "egress_site": "us1", "egress_public_destinations": ["logs_tcp"],
        "egress_ip_ranges_url": mirror.url, "egress_ip_ranges_ca_path": mirror.ca_path,
    }
    expected = sorted([("tcp", 443, "10.40.0.0/16"), ("udp", ntp["port"], ntp["cidr"])] + [("tcp", tcp_port, c) for c in logs])

    sandbox.reset_calls()
    rc, out, recap = run_playbook(PLAYBOOK, variables, check=True, diff=True)
    assert rc == 0, out
    assert recap["changed"] == 1 and mutating_calls(sandbox.calls()["calls"]) == {}
    assert egress(agents_group) == users
    for _proto, port, cidr in expected:
        assert re.search(r"^\+egress \w+ %d to %s$" % (port, re.escape(cidr)), out, re.M), out

    sandbox.reset_calls()
    rc, out, recap = run_playbook(PLAYBOOK, variables, diff=True)
    assert rc == 0 and recap["changed"] == 1, out
    assert '"allows_all": true' in out  # the group's default allow-all egress, reported, never removed
    after = egress(agents_group)
    assert ours(after) == expected
    assert {k: after[k] for k in users} == users
    assert mutating_calls(sandbox.calls()["calls"]) == {"ec2:AuthorizeSecurityGroupEgress": len(expected)}  # one call per rule

    sandbox.reset_calls()
    rc, out, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0 and recap["changed"] == 0, out
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert mirror.requests == 1  # the cached document served the later runs

    # The public ranges are no longer wanted: only those rules go, one by one.
    sandbox.reset_calls()
    rc, out, recap = run_playbook(PLAYBOOK, dict(variables, egress_public_ranges=False), diff=True)
    assert rc == 0 and recap["changed"] == 1, out
    assert re.search(r"^-egress tcp %d to %s$" % (tcp_port, re.escape(logs[0])), out, re.M), out
    assert mutating_calls(sandbox.calls()["calls"]) == {"ec2:RevokeSecurityGroupEgress": len(logs)}
    assert ours(egress(agents_group)) == sorted([("tcp", 443, "10.40.0.0/16"), ("udp", ntp["port"], ntp["cidr"])])

    rc, out, recap = run_playbook(PLAYBOOK, dict(variables, egress_state="absent"))
    assert rc == 0 and recap["changed"] == 1, out
    assert egress(agents_group) == users


def test_too_many_rules_are_refused_before_any_change(sandbox, network, agents_group, mirror):
    rc, out, _recap = run_playbook(PLAYBOOK, {
        "egress_region": "us-east-1", "egress_security_group_ids": [agents_group], "egress_endpoint_cidrs": ["10.40.0.0/16"],
        "egress_public_ranges": True, "egress_site": "us1", "egress_max_rules": 3,
        "egress_ip_ranges_url": mirror.url, "egress_ip_ranges_ca_path": mirror.ca_path})
    assert rc != 0 and "egress_max_rules (3)" in out and "egress_public_destinations" in out
    assert ours(egress(agents_group)) == []


def test_missing_endpoint_target_is_refused(sandbox, agents_group):
    rc, out, _recap = run_playbook(PLAYBOOK, {"egress_region": "us-east-1", "egress_security_group_ids": [agents_group]})
    assert rc != 0 and "egress_endpoint_cidrs" in out
