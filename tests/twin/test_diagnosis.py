"""Every failure case of the guide's troubleshooting, made through the sandbox's AWS API, diagnosed twice.

On the Agent host, ``intake_check`` runs inside the Agent VPC's namespace (its resolver, its routes)
and must give the verdict and cause of the guide; from AWS, ``private_path_info`` must name the
resource at fault. Each case is reverted, and the path is private again afterwards.
"""

import json
import os
import sys
import tempfile

import boto3
import pytest

from sandbox.datadog import catalog
from tests.twin.conftest import COLLECTIONS, OTHER_KEYS, ROOT, SERVICES, STATE_DIR

VERSION = "7.52.1"


def run_module(name, args, vpc_id=None, scenario=None):
    """A module of this collection as Ansible runs it: on the host (vpc_id None) or inside a VPC's namespace."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=False)}, handle)
    argv = [sys.executable, "-m", "ansible_collections.datadog_privatelink.aws.plugins.modules." + name, handle.name]
    env = {"PYTHONPATH": "%s%s%s" % (COLLECTIONS, os.pathsep, ROOT)}
    try:
        if vpc_id:
            process = scenario.api.run_in(vpc_id, argv, env=env, timeout=120, state_dir=STATE_DIR)
        else:
            import subprocess

            process = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **env), timeout=120,
                                     check=False)
    finally:
        os.unlink(handle.name)
    try:
        return json.loads(process.stdout)
    except ValueError:
        raise AssertionError("%s printed no JSON:\n%s\n%s" % (name, process.stdout, process.stderr))


def check_in(scenario, vpc_id, mode, **extra):
    """intake_check inside the VPC: {name: check}."""
    args = dict({"site": scenario.site, "services": SERVICES, "agent_version": VERSION, "config_path": "",
                 "expected_cidrs": [scenario.layout[scenario.peered_endpoint_vpc]["cidr"]] if mode == "private_zone"
                 else [scenario.layout[vpc_id]["cidr"]], "dns_mode": mode, "timeout": 1.5, "fail_on_error": False},
                **extra)
    result = run_module("intake_check", args, vpc_id, scenario)
    assert "checks" in result, result
    return {c["name"]: c for c in result["checks"]}


def path_info(scenario, vpc_id=None, agent=None):
    """private_path_info from the controller: {(vpc, name): path}."""
    if agent is None:
        region = "eu-west-1" if vpc_id == scenario.cross_region_vpc else "us-east-1"
        args = {"region": region, "site": scenario.site, "services": SERVICES, "vpc_id": vpc_id}
    else:
        args = {"region": "us-east-1", "site": scenario.site, "services": SERVICES,
                "vpc_id": scenario.peered_endpoint_vpc, "agent_vpcs": [agent]}
    result = run_module("private_path_info", args)
    assert "paths" in result, result
    return {p["name"]: p for p in result["paths"]}


def all_private(checks):
    return {name: c["verdict"] for name, c in checks.items() if not c["ok"]} == {}


@pytest.fixture
def peered_agent(twin_scenario):
    return twin_scenario.peered_agents[0]


def zone_of(name, vpc_id):
    r53 = boto3.client("route53")
    return next(z for z in r53.list_hosted_zones()["HostedZones"]
                if z["Name"].rstrip(".") == name and vpc_id in {v["VPCId"] for v in r53.get_hosted_zone(Id=z["Id"])["VPCs"]})


def test_every_scenario_is_private_from_the_host_and_from_aws_versioned_metrics_host_included(twin_scenario):
    scenario = twin_scenario
    for vpc_id, mode in [(scenario.same_region_vpc, "endpoint_private_dns"),
                         (scenario.cross_region_vpc, "endpoint_private_dns")] + \
            [(a["vpc_id"], "private_zone") for a in scenario.peered_agents]:
        checks = check_in(scenario, vpc_id, mode)
        assert all_private(checks), (vpc_id, checks)
        assert "7-52-1-app.agent.%s" % scenario.site in checks  # the host the Agent sends metrics to
        agent = next((a for a in scenario.peered_agents if a["vpc_id"] == vpc_id), None)
        paths = path_info(scenario, vpc_id, agent)
        assert {name: p["ok"] for name, p in paths.items()} == dict.fromkeys(paths, True), paths
        for name, path in paths.items():  # AWS's view and the wire agree on the addresses
            assert sorted(checks[name]["addresses"]) == path["addresses"], name


def test_every_name_of_the_api_anchor_synthetics_included_is_private_in_every_scenario(twin_scenario):
    """us1's orchid anchor serves api and Synthetics: the zone (or private DNS) of the api endpoint covers every name."""
    scenario = twin_scenario
    api, synthetics = catalog.service_entries(scenario.site, ["api", "synthetics"])
    assert api["anchor"] == synthetics["anchor"] and api["service_name"] == synthetics["service_name"]
    names = api["check_names"] + synthetics["check_names"]
    for vpc_id, mode in [(scenario.same_region_vpc, "endpoint_private_dns"),
                         (scenario.cross_region_vpc, "endpoint_private_dns")] + \
            [(a["vpc_id"], "private_zone") for a in scenario.peered_agents]:
        checks = check_in(scenario, vpc_id, mode, services=SERVICES + ["synthetics"])
        assert all_private(checks), (vpc_id, checks)
        assert set(names) <= set(checks)
        addresses = {tuple(sorted(checks[n]["addresses"])) for n in names}
        assert len(addresses) == 1, (vpc_id, addresses)  # one endpoint, reached through its anchor


def test_zone_not_associated_is_a_public_answer_naming_the_zone(twin_scenario, peered_agent):
    name = "api.%s" % twin_scenario.site
    anchor = catalog.service_entries(twin_scenario.site, ["api"])[0]["anchor"]
    zone = zone_of(anchor, peered_agent["vpc_id"])
    vpc = {"VPCRegion": peered_agent["region"], "VPCId": peered_agent["vpc_id"]}
    r53 = boto3.client("route53")
    r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone["Id"], VPC=vpc)
    try:
        twin_scenario.sync()
        check = check_in(twin_scenario, peered_agent["vpc_id"], "private_zone")[name]
        assert check["verdict"] == "public" and not check["ok"]
        assert "the private hosted zone %s is not associated with this VPC" % anchor in check["problem"]
        path = path_info(twin_scenario, agent=peered_agent)[name]
        assert path["answer"] == "public" and "no private hosted zone for %s (its anchor %s) is associated with %s" % (
            name, anchor, peered_agent["vpc_id"]) in path["cause"]
    finally:
        r53.associate_vpc_with_hosted_zone(HostedZoneId=zone["Id"], VPC=vpc)
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))


def test_a_record_missing_leaves_the_name_and_the_versioned_host_without_address(twin_scenario, peered_agent):
    name = "metrics.agent.%s" % twin_scenario.site
    zone = zone_of(name, peered_agent["vpc_id"])
    r53 = boto3.client("route53")
    record = next(r for r in r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
                  if r["Type"] == "A")
    r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": record}]})
    try:
        twin_scenario.sync()
        checks = check_in(twin_scenario, peered_agent["vpc_id"], "private_zone")
        for host in (name, "7-52-1-app.agent.%s" % twin_scenario.site):
            assert checks[host]["verdict"] == "unresolved" and checks[host]["addresses"] == []
            assert "holds no A record" in checks[host]["problem"] and name in checks[host]["problem"]
        path = path_info(twin_scenario, agent=peered_agent)[name]
        assert path["answer"] == "no_record" and "holds no A record" in path["cause"]
    finally:
        r53.change_resource_record_sets(HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": record}]})
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))


def test_private_dns_off_on_a_same_region_endpoint(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    name = "api.%s" % twin_scenario.site
    endpoint_id = twin_scenario.endpoints(vpc_id)["api"]["VpcEndpointId"]
    ec2 = twin_scenario.ec2()
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=False)
    try:
        twin_scenario.sync()
        check = check_in(twin_scenario, vpc_id, "endpoint_private_dns")[name]
        assert check["verdict"] == "public" and "does not have private DNS enabled" in check["problem"]
        path = path_info(twin_scenario, vpc_id)[name]
        assert path["answer"] == "public" and "private DNS on" in path["cause"]
    finally:
        ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True)
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, vpc_id, "endpoint_private_dns"))


def _unreachable(scenario, agent, expected_in_cause):
    scenario.sync()
    checks = check_in(scenario, agent["vpc_id"], "private_zone")
    api = checks["api.%s" % scenario.site]
    assert api["verdict"] == "unreachable" and api["private"] and "timed out" in api["problem"], api
    assert "the peering connection must be active and both route tables must route" in api["problem"]
    path = path_info(scenario, agent=agent)["api.%s" % scenario.site]
    assert path["answer"] == "private_zone" and path["reachable"] is False, path
    assert expected_in_cause in path["cause"], path["cause"]


@pytest.mark.parametrize("side", ["agent", "endpoint"])
def test_route_missing_on_either_side(twin_scenario, peered_agent, side):
    if side == "agent":
        ec2, (table_id,) = twin_scenario.ec2(peered_agent["region"]), peered_agent["route_table_ids"]
        destination, vpc_id = twin_scenario.layout[twin_scenario.peered_endpoint_vpc]["cidr"], peered_agent["vpc_id"]
    else:
        ec2 = twin_scenario.ec2()
        (table_id,) = twin_scenario.vars["peered_region"]["peering_endpoint_route_table_ids"]
        destination, vpc_id = twin_scenario.layout[peered_agent["vpc_id"]]["cidr"], twin_scenario.peered_endpoint_vpc
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    route = next(r for r in table["Routes"] if r.get("DestinationCidrBlock") == destination)
    ec2.delete_route(RouteTableId=table_id, DestinationCidrBlock=destination)
    try:
        _unreachable(twin_scenario, peered_agent, "route table %s of %s has no route" % (table_id, vpc_id))
    finally:
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock=destination,
                         VpcPeeringConnectionId=route["VpcPeeringConnectionId"])
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))


def test_endpoint_security_group_without_443_from_the_agent_cidr(twin_scenario, peered_agent):
    ec2 = twin_scenario.ec2()
    group_id = twin_scenario.endpoints(twin_scenario.peered_endpoint_vpc)["api"]["Groups"][0]["GroupId"]
    agent_cidr = twin_scenario.layout[peered_agent["vpc_id"]]["cidr"]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": agent_cidr}]}
    ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    try:
        _unreachable(twin_scenario, peered_agent, "admit no TCP 443 from %s" % agent_cidr)
    finally:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))


def test_agent_egress_without_443_to_the_endpoint_cidr(twin_scenario, peered_agent):
    ec2 = twin_scenario.ec2(peered_agent["region"])
    group_id = ec2.create_security_group(
        GroupName="agents-no-443", Description="Agent hosts", VpcId=peered_agent["vpc_id"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [
            {"Key": "datadog-privatelink:twin-agent-host", "Value": "true"}]}])["GroupId"]
    try:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [
            {"CidrIp": "0.0.0.0/0"}]}])
        twin_scenario.sync()
        api = check_in(twin_scenario, peered_agent["vpc_id"], "private_zone")["api.%s" % twin_scenario.site]
        assert api["verdict"] == "unreachable" and "this host's security group and network ACLs must let TCP 443 out" \
            in api["problem"]
        assert path_info(twin_scenario, agent=peered_agent)["api.%s" % twin_scenario.site]["ok"]  # AWS cannot see it
    finally:
        ec2.delete_security_group(GroupId=group_id)
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))


def test_a_proxy_in_datadog_yaml_is_reported_not_claimed(twin_scenario, peered_agent, tmp_path):
    config = tmp_path / "datadog.yaml"
    config.write_text("api_key: 0123456789abcdef0123456789abcdef\nproxy:\n  https: http://proxy.internal:3128\n")
    checks = check_in(twin_scenario, peered_agent["vpc_id"], "private_zone", config_path=str(config))
    assert {c["verdict"] for c in checks.values()} == {"proxy"}
    assert all("proxy.internal:3128" in c["problem"] and "does not resolve" in c["problem"] for c in checks.values())


def test_peering_not_active_then_a_new_connection_restores_the_path(twin_scenario, peered_agent):
    endpoint_vpc = twin_scenario.peered_endpoint_vpc
    ec2, agent_ec2 = twin_scenario.ec2(), twin_scenario.ec2(peered_agent["region"])
    (agent_table,) = peered_agent["route_table_ids"]
    (endpoint_table,) = twin_scenario.vars["peered_region"]["peering_endpoint_route_table_ids"]
    endpoint_cidr = twin_scenario.layout[endpoint_vpc]["cidr"]
    agent_cidr = twin_scenario.layout[peered_agent["vpc_id"]]["cidr"]
    route = next(r for r in agent_ec2.describe_route_tables(RouteTableIds=[agent_table])["RouteTables"][0]["Routes"]
                 if r.get("DestinationCidrBlock") == endpoint_cidr)
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=route["VpcPeeringConnectionId"])
    try:
        _unreachable(twin_scenario, peered_agent, "no active VPC peering connection between %s" % peered_agent["vpc_id"])
    finally:  # a new connection, accepted, and both routes moved onto it
        new = ec2.create_vpc_peering_connection(VpcId=endpoint_vpc, PeerVpcId=peered_agent["vpc_id"],
                                                PeerRegion=peered_agent["region"])["VpcPeeringConnection"]
        agent_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=new["VpcPeeringConnectionId"])
        agent_ec2.replace_route(RouteTableId=agent_table, DestinationCidrBlock=endpoint_cidr,
                                VpcPeeringConnectionId=new["VpcPeeringConnectionId"])
        ec2.replace_route(RouteTableId=endpoint_table, DestinationCidrBlock=agent_cidr,
                          VpcPeeringConnectionId=new["VpcPeeringConnectionId"])
        twin_scenario.sync()
    assert all_private(check_in(twin_scenario, peered_agent["vpc_id"], "private_zone"))
    assert OTHER_KEYS  # the other account's Agent VPC is covered by the scenario test above
