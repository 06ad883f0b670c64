"""Proof on the wire: Datadog's real clients inside each Agent VPC's namespace reach the private intake.

For every scenario (same region, cross region, peered region with Agent VPCs in two regions and
two accounts), datadog-api-client sends a log and a metric series and the legacy ``datadog``
client sends an event; each must be recorded at the private intake of its service's endpoint and
none at the public one. Then changes made through the sandbox's AWS API move traffic to the public
intake or make it time out, as AWS would, and are reverted.
"""

import json
import sys
import time

import pytest

from sandbox.datadog import catalog

# What each real client sends, and to which catalog service (the host it resolves).
CLIENT_SERVICES = {"log": "logs_user", "metric": "api", "event": "api"}
CLIENT_PATHS = {"log": "/api/v2/logs", "metric": "/api/v2/series", "event": "/api/v1/events"}


def assert_private(scenario, vpc_id, results, records, endpoints):
    assert all(outcome["ok"] for outcome in results.values()), results
    assert [r for r in records if r["side"] == "public"] == []
    for client, key in CLIENT_SERVICES.items():
        hits = [r for r in records if r["path"] == CLIENT_PATHS[client]]
        assert len(hits) == 1, (client, records)
        (hit,) = hits
        assert hit["side"] == "private"
        assert hit["endpoint_id"] == endpoints[key]["VpcEndpointId"], (client, hit)
        assert hit["service_name"] == endpoints[key]["ServiceName"]
        assert hit["host"] == catalog.intake_hosts(scenario.site, [key])[key]
        assert hit["source"] == scenario.layout[vpc_id]["agent"]


def test_up_is_quick_and_the_twins_reads_are_not_counted(twin_scenario):
    assert twin_scenario.up_seconds < 30
    twin_scenario.sandbox.reset_calls()
    time.sleep(1.0)  # a few polls of the generation
    assert twin_scenario.sandbox.calls()["total"] == 0
    layout = twin_scenario.layout
    assert {twin_scenario.same_region_vpc, twin_scenario.cross_region_vpc, twin_scenario.peered_endpoint_vpc} \
        | {a["vpc_id"] for a in twin_scenario.peered_agents} == set(layout)
    for vpc_id, facts in layout.items():
        assert facts["namespace"] == "ddpl-" + vpc_id
        assert facts["resolver"].endswith(".0.2")


def test_same_region_clients_reach_the_private_intake(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    results, records = twin_scenario.send(vpc_id)
    assert_private(twin_scenario, vpc_id, results, records, twin_scenario.endpoints(vpc_id))


def test_cross_region_clients_reach_the_private_intake(twin_scenario):
    vpc_id = twin_scenario.cross_region_vpc
    endpoints = twin_scenario.endpoints(vpc_id, "eu-west-1")
    assert {e["ServiceRegion"] for e in endpoints.values()} == {"us-east-1"}
    results, records = twin_scenario.send(vpc_id)
    assert_private(twin_scenario, vpc_id, results, records, endpoints)


@pytest.mark.parametrize("agent", [0, 1, 2], ids=["eu-west-1", "ap-northeast-1", "eu-west-1-other-account"])
def test_peered_region_clients_reach_the_private_intake(twin_scenario, agent):
    entry = twin_scenario.peered_agents[agent]
    results, records = twin_scenario.send(entry["vpc_id"])
    assert_private(twin_scenario, entry["vpc_id"], results, records,
                   twin_scenario.endpoints(twin_scenario.peered_endpoint_vpc))


# --- negative controls: made through the sandbox's AWS API, reverted afterwards -------------

def _event(scenario, vpc_id):
    results, records = scenario.send(vpc_id, only=["event"])
    return results["event"], records


def test_removing_the_zone_association_sends_the_agent_vpc_to_the_public_intake(twin_scenario):
    import boto3

    agent = twin_scenario.peered_agents[0]
    r53 = boto3.client("route53")
    zone = next(z for z in r53.list_hosted_zones()["HostedZones"]
                if z["Name"].rstrip(".") == catalog.service_entries(twin_scenario.site, ["api"])[0]["zone_name"]
                and agent["vpc_id"] in {v["VPCId"] for v in r53.get_hosted_zone(Id=z["Id"])["VPCs"]})
    vpc = {"VPCRegion": agent["region"], "VPCId": agent["vpc_id"]}
    r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone["Id"], VPC=vpc)
    try:
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, agent["vpc_id"])
        assert outcome["ok"], outcome
        assert [(r["side"], r["path"]) for r in records] == [("public", "/api/v1/events")]
    finally:
        r53.associate_vpc_with_hosted_zone(HostedZoneId=zone["Id"], VPC=vpc)
        twin_scenario.sync()
    outcome, records = _event(twin_scenario, agent["vpc_id"])
    assert [r["side"] for r in records] == ["private"]


def test_private_dns_off_sends_the_same_region_vpc_to_the_public_intake(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    endpoint_id = twin_scenario.endpoints(vpc_id)["api"]["VpcEndpointId"]
    ec2 = twin_scenario.ec2()
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=False)
    try:
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, vpc_id)
        assert outcome["ok"], outcome
        assert [(r["side"], r["path"]) for r in records] == [("public", "/api/v1/events")]
    finally:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
        twin_scenario.sync()
    outcome, records = _event(twin_scenario, vpc_id)
    assert [(r["side"], r["endpoint_id"]) for r in records] == [("private", endpoint_id)]


def test_deleting_the_agent_vpcs_route_to_the_endpoints_times_out(twin_scenario):
    agent = twin_scenario.peered_agents[0]
    ec2 = twin_scenario.ec2(agent["region"])
    endpoint_cidr = twin_scenario.layout[twin_scenario.peered_endpoint_vpc]["cidr"]
    (table_id,) = agent["route_table_ids"]
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    route = next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == endpoint_cidr)
    ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock=endpoint_cidr)
    try:
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, agent["vpc_id"])
        assert not outcome["ok"] and outcome["timed_out"], outcome
        assert records == []
    finally:
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock=endpoint_cidr,
                         VpcPeeringConnectionId=route["VpcPeeringConnectionId"])
        twin_scenario.sync()
    outcome, records = _event(twin_scenario, agent["vpc_id"])
    assert outcome["ok"] and [r["side"] for r in records] == ["private"]


def test_revoking_the_endpoint_groups_https_rule_times_out(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    ec2 = twin_scenario.ec2()
    group_id = twin_scenario.endpoints(vpc_id)["api"]["Groups"][0]["GroupId"]
    rules = [r for r in ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissions"]
             if r.get("FromPort") == 443]
    assert rules
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=rules)
    try:
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, vpc_id)
        assert not outcome["ok"] and outcome["timed_out"], outcome
        assert records == []
    finally:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=rules)
        twin_scenario.sync()
    outcome, records = _event(twin_scenario, vpc_id)
    assert outcome["ok"] and [r["side"] for r in records] == ["private"]


def test_a_tagged_agent_group_applies_its_egress_rules_to_the_agent_host(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    ec2 = twin_scenario.ec2()
    group_id = ec2.create_security_group(GroupName="twin-agent-hosts", Description="Agent hosts", VpcId=vpc_id,
                                         TagSpecifications=[{"ResourceType": "security-group", "Tags": [
                                             {"Key": "datadog-privatelink:twin-agent-host", "Value": "true"}]}])["GroupId"]
    everything = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    try:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=everything)
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, vpc_id)  # the VPC's resolver still answers: AWS exempts it
        assert not outcome["ok"] and outcome["timed_out"], outcome
        assert records == []
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": twin_scenario.layout[vpc_id]["cidr"]}]}])
        twin_scenario.sync()
        outcome, records = _event(twin_scenario, vpc_id)
        assert outcome["ok"] and [r["side"] for r in records] == ["private"], (outcome, records)
    finally:
        ec2.delete_security_group(GroupId=group_id)
        twin_scenario.sync()


PROBE = """
import json, socket, ssl, sys
from dnslib import DNSRecord
resolver, name, logs_host, port, ca = sys.argv[1:6]
replies = [DNSRecord.parse(DNSRecord.question(name).send(resolver, 53, tcp=tcp, timeout=3)).rr for tcp in (False, True)]
answers = [sorted(str(r.rdata) for r in rr if r.rtype == 1) for rr in replies]  # A records
answers.append([(str(r.rname), str(r.rdata)) for r in replies[0] if r.rtype == 5])  # the CNAME chain
context = ssl.create_default_context(cafile=ca)
with socket.create_connection((logs_host, int(port)), timeout=3) as raw:
    with context.wrap_socket(raw, server_hostname=logs_host) as tls:
        tls.sendall(b"a log line over TCP" + bytes([10]))
print(json.dumps(answers))
"""


def test_the_resolver_answers_over_udp_and_tcp_and_logs_over_tcp_reach_the_public_intake(twin_scenario):
    agent = twin_scenario.peered_agents[1]
    facts = twin_scenario.layout[agent["vpc_id"]]
    api_host = catalog.intake_hosts(twin_scenario.site, ["api"])["api"]
    logs_host, port = catalog.logs_tcp_destination(twin_scenario.site)  # no PrivateLink service: public
    started = time.time()
    process = twin_scenario.api.run_in(agent["vpc_id"], [
        sys.executable, "-c", PROBE, facts["resolver"], api_host, logs_host, str(port), twin_scenario.ca_path()],
        timeout=30, state_dir=twin_scenario.state_dir)
    assert process.returncode == 0, process.stderr
    udp, tcp, cnames = json.loads(process.stdout)
    api = catalog.service_entries(twin_scenario.site, ["api"])[0]
    assert cnames == [[api_host + ".", api["anchor"] + "."]]  # Datadog's public CNAME; the anchor's zone answers
    endpoint = twin_scenario.endpoints(twin_scenario.peered_endpoint_vpc)["api"]
    snap = twin_scenario.api.snapshot(twin_scenario.state_dir)
    assert udp == tcp == sorted(snap["enis"][i]["address"] for i in endpoint["NetworkInterfaceIds"])
    deadline = time.time() + 5  # the intake records the connection from its own thread
    while True:
        found = [r for r in twin_scenario.api.requests(since=started, state_dir=twin_scenario.state_dir) if r["port"] == port]
        if found or time.time() > deadline:
            break
        time.sleep(0.1)
    (record,) = found
    assert (record["side"], record["path"], record["source"], record["host"]) == ("public", "", facts["agent"], logs_host)
