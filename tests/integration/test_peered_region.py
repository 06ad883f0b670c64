"""The peered_region playbook end to end: endpoints, peering, zones, associations (two accounts)."""

import boto3

from conftest import OTHER_ACCOUNT, OTHER_ACCOUNT_KEYS, Network, mutating_calls, run_playbook

PLAYBOOK = "datadog_privatelink.aws.peered_region"


def main_table(net):
    return net.client.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [net.vpc_id]},
                                                     {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]


def scenario(endpoint, agents, **extra):
    variables = {
        "endpoints_site": "datadoghq.com", "endpoints_services": ["api", "metrics", "logs_agent"],
        "endpoints_vpc_id": endpoint.vpc_id, "endpoints_subnet_ids": endpoint.subnet_ids,
        "peering_endpoint_route_table_ids": [main_table(endpoint)["RouteTableId"]],
        "peering_agent_vpcs": [agent_entry(a) for a in agents],
    }
    variables.update(extra)
    return variables


def agent_entry(net):
    entry = {"vpc_id": net.vpc_id, "region": net.region, "route_table_ids": [main_table(net)["RouteTableId"]]}
    if getattr(net, "other_account", False):
        entry.update(account_id=OTHER_ACCOUNT, aws=OTHER_ACCOUNT_KEYS)
    return entry


def zone_vpcs():
    """{zone name: set of VPC ids} of every private zone of the first account."""
    r53 = boto3.client("route53", region_name="us-east-1")
    zones = {}
    for zone in r53.list_hosted_zones()["HostedZones"]:
        vpcs = r53.get_hosted_zone(Id=zone["Id"])["VPCs"]
        zones.setdefault(zone["Name"].rstrip("."), []).append({v["VPCId"] for v in vpcs})
    return zones


def zones_of(endpoint):
    return {name: next(v for v in sets if endpoint.vpc_id in v) for name, sets in zone_vpcs().items()
            if any(endpoint.vpc_id in v for v in sets)}


def active_peerings(net):
    found = net.client.describe_vpc_peering_connections()["VpcPeeringConnections"]
    return [p for p in found if net.vpc_id in (p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"])
            and p["Status"]["Code"] == "active"]


def test_peered_region_two_regions_two_accounts_rerun_then_one_agent_vpc_removed(sandbox):
    endpoint = Network(cidr="10.140.0.0/16")
    eu = Network(region="eu-west-1", cidr="10.141.0.0/16", zones=("a",))
    other = Network(region="eu-west-1", cidr="10.142.0.0/16", zones=("a",), account_keys=OTHER_ACCOUNT_KEYS)
    other.other_account = True

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, scenario(endpoint, [eu, other]), check=True)
    assert rc == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert endpoint.endpoints() == [] and zones_of(endpoint) == {}

    rc, output, recap = run_playbook(PLAYBOOK, scenario(endpoint, [eu, other]))
    assert rc == 0, output
    assert all(not e["PrivateDnsEnabled"] for e in endpoint.endpoints())
    zones = zones_of(endpoint)
    assert sorted(zones) == ["agent-http-intake.logs.datadoghq.com", "api.datadoghq.com", "metrics.agent.datadoghq.com"]
    for vpcs in zones.values():
        assert vpcs == {endpoint.vpc_id, eu.vpc_id, other.vpc_id}
    assert len(active_peerings(eu)) == 1 and len(active_peerings(other)) == 1
    assert "resolves agent-http-intake.logs.datadoghq.com, api.datadoghq.com, metrics.agent.datadoghq.com" in output
    r53 = boto3.client("route53", region_name="us-east-1")
    for zone in r53.list_hosted_zones()["HostedZones"]:  # the used authorizations were deleted
        assert r53.list_vpc_association_authorizations(HostedZoneId=zone["Id"].split("/")[-1])["VPCs"] == []

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, scenario(endpoint, [eu, other]))
    assert rc == 0 and recap["changed"] == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}

    # Taken off the list, and nothing else said: its peering, routes, rule and associations go.
    rc, output, recap = run_playbook(PLAYBOOK, scenario(endpoint, [other]))
    assert rc == 0, output
    for vpcs in zones_of(endpoint).values():
        assert vpcs == {endpoint.vpc_id, other.vpc_id}
    # The requester side (the endpoint's region) is where the connection is deleted.
    assert [p["AccepterVpcInfo"]["VpcId"] for p in active_peerings(endpoint)] == [other.vpc_id]
    assert len(endpoint.endpoints()) == 3


def test_peered_region_refuses_an_agent_vpc_list_missing_or_the_wrong_region(sandbox):
    endpoint = Network(cidr="10.143.0.0/16")
    rc, output, _recap = run_playbook(PLAYBOOK, scenario(endpoint, []))
    assert rc != 0 and "peering_agent_vpcs lists the Agent VPCs" in output
    rc, output, _recap = run_playbook(PLAYBOOK, scenario(endpoint, [], endpoints_region="eu-west-1"))
    assert rc != 0 and "us-east-1" in output
