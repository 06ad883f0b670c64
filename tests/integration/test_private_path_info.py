"""private_path_info against the sandbox: every failure case of the guide's troubleshooting, made through AWS's API."""

import boto3
import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import Network, run_module, run_playbook
from test_peered_region import agent_entry, main_table, scenario

SERVICES = ["api", "metrics"]
API = catalog.service_entries("us1", ["api"])[0]  # a public CNAME to its anchor, whose zone or endpoint answers


def paths_by_name(result):
    assert not result["failed"], result.get("msg")
    return {(p["vpc_id"], p["name"]): p for p in result["paths"]}


def test_same_region_private_dns_off_sends_the_agents_to_the_public_address(network):
    created = run_module("vpc_endpoints", network.args(services=SERVICES))
    assert not created["failed"], created.get("msg")
    args = {"region": "us-east-1", "site": "us1", "services": SERVICES, "vpc_id": network.vpc_id}
    before = paths_by_name(run_module("private_path_info", args))
    api = before[(network.vpc_id, "api.datadoghq.com")]
    assert api["ok"] and api["answer"] == "endpoint_private_dns" and len(api["addresses"]) == 2
    assert all(a.startswith("10.40.") for a in api["addresses"])

    endpoint_id = created["endpoints"]["api"]["vpc_endpoint_id"]
    network.client.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=False)
    after = run_module("private_path_info", args)
    api = paths_by_name(after)[(network.vpc_id, "api.datadoghq.com")]
    assert not api["ok"] and api["answer"] == "public" and "private DNS on" in api["cause"]
    assert sorted(after["not_private"]) == sorted("%s %s" % (network.vpc_id, n) for n in API["check_names"])

    network.client.revoke_security_group_ingress(GroupId=network.https_group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    metrics = paths_by_name(run_module("private_path_info", args))[(network.vpc_id, "metrics.agent.datadoghq.com")]
    assert not metrics["ok"] and metrics["reachable"] is False
    assert "admit no TCP 443 from 10.40.0.0/16" in metrics["cause"] and network.https_group in metrics["cause"]


@pytest.fixture(scope="module")
def peered(sandbox):
    endpoint = Network(cidr="10.150.0.0/16")
    agents = Network(region="eu-west-1", cidr="10.151.0.0/16", zones=("a",))
    rc, out, _recap = run_playbook("datadog_privatelink.aws.peered_region",
                                   scenario(endpoint, [agents], endpoints_services=SERVICES))
    assert rc == 0, out[-3000:]
    args = {"region": "us-east-1", "site": "us1", "services": SERVICES, "vpc_id": endpoint.vpc_id,
            "agent_vpcs": [agent_entry(agents)]}
    return endpoint, agents, args


def verdicts(args):
    return paths_by_name(run_module("private_path_info", args))


def test_peered_every_name_resolves_through_its_zone_and_reaches_the_endpoint(peered):
    _endpoint, agents, args = peered
    found = verdicts(args)
    # every customer-facing name of the services, a wildcard through an example name
    assert sorted(name for _vpc, name in found) == sorted(n for e in catalog.service_entries("us1", SERVICES)
                                                          for n in e["check_names"])
    for (vpc, name), path in found.items():
        assert vpc == agents.vpc_id
        assert path["ok"] and path["answer"] == "private_zone" and path["zone_id"] and path["reachable"], path
        assert all(a.startswith("10.150.") for a in path["addresses"])


def test_peered_zone_not_associated_then_record_missing(peered):
    _endpoint, agents, args = peered
    r53 = boto3.client("route53", region_name="us-east-1")
    api = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]
    zone_id = api["zone_id"]
    vpc = {"VPCId": agents.vpc_id, "VPCRegion": agents.region}
    r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC=vpc)
    try:
        path = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]
        assert path["answer"] == "public" and not path["ok"]
        assert "no private hosted zone for api.datadoghq.com (its anchor %s) is associated with %s" % (
            API["anchor"], agents.vpc_id) in path["cause"]
    finally:
        r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=vpc)

    metrics_zone = verdicts(args)[(agents.vpc_id, "metrics.agent.datadoghq.com")]["zone_id"]
    record = [r for r in r53.list_resource_record_sets(HostedZoneId=metrics_zone)["ResourceRecordSets"] if r["Type"] == "A"][0]
    r53.change_resource_record_sets(HostedZoneId=metrics_zone, ChangeBatch={"Changes": [
        {"Action": "DELETE", "ResourceRecordSet": record}]})
    try:
        path = verdicts(args)[(agents.vpc_id, "metrics.agent.datadoghq.com")]
        assert path["answer"] == "no_record" and "holds no A record" in path["cause"]
    finally:
        r53.change_resource_record_sets(HostedZoneId=metrics_zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": record}]})
    assert all(p["ok"] for p in verdicts(args).values())


@pytest.mark.parametrize("side", ["agent", "endpoint"])
def test_peered_route_missing_on_either_side(peered, side):
    endpoint, agents, args = peered
    net, other = (agents, endpoint) if side == "agent" else (endpoint, agents)
    table = main_table(net)
    route = next(r for r in table["Routes"] if r.get("VpcPeeringConnectionId"))
    net.client.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock=route["DestinationCidrBlock"])
    try:
        path = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]
        assert path["answer"] == "private_zone" and path["reachable"] is False and not path["ok"]
        assert "route table %s of %s has no route" % (table["RouteTableId"], net.vpc_id) in path["cause"]
        assert route["VpcPeeringConnectionId"] in path["cause"]
    finally:
        net.client.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock=route["DestinationCidrBlock"],
                                VpcPeeringConnectionId=route["VpcPeeringConnectionId"])
    assert verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]["ok"]


def test_peered_security_group_without_443_from_the_agent_cidr(peered):
    endpoint, agents, args = peered
    endpoint_id = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]["endpoint_id"]
    group_id = endpoint.client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["Groups"][0]["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.151.0.0/16"}]}
    endpoint.client.revoke_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    try:
        path = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]
        assert path["reachable"] is False and "admit no TCP 443 from 10.151.0.0/16" in path["cause"]
    finally:
        endpoint.client.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    assert verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]["ok"]


def test_peered_peering_not_active(peered):
    endpoint, agents, args = peered
    peering_id = next(r for r in main_table(agents)["Routes"] if r.get("VpcPeeringConnectionId"))["VpcPeeringConnectionId"]
    endpoint.client.delete_vpc_peering_connection(VpcPeeringConnectionId=peering_id)
    path = verdicts(args)[(agents.vpc_id, "api.datadoghq.com")]
    assert path["reachable"] is False and "no active VPC peering connection" in path["cause"] and peering_id in path["cause"]
