"""The peered_region playbook end to end: endpoints, peering, zones, associations (two accounts)."""

import boto3

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog, _zone_plan as zone_plan

from conftest import OTHER_ACCOUNT, OTHER_ACCOUNT_KEYS, Network, mutating_calls, run_playbook

PLAYBOOK = "datadog_privatelink.aws.peered_region"
ZONES_STEP = "datadog_privatelink.aws.private_zones : Private zones with their alias records"


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


def run_zones(r53, endpoint):
    """The private zones of this run (attached to its endpoint VPC): other tests share the sandbox's account."""
    return [z for z in r53.list_hosted_zones()["HostedZones"]
            if endpoint.vpc_id in {v["VPCId"] for v in r53.get_hosted_zone(Id=z["Id"])["VPCs"]}]


def active_peerings(net):
    found = net.client.describe_vpc_peering_connections()["VpcPeeringConnections"]
    return [p for p in found if net.vpc_id in (p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"])
            and p["Status"]["Code"] == "active"]


def own_group(endpoint):
    """The user's own endpoint group: TCP 443 from one range of theirs only (no Agent CIDR)."""
    group = endpoint.client.create_security_group(GroupName="mine", Description="mine", VpcId=endpoint.vpc_id)["GroupId"]
    endpoint.client.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.168.0.0/24", "Description": "theirs"}]}])
    return group


def https_cidrs(endpoint, group):
    rules = endpoint.client.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    return sorted(r["CidrIpv4"] for r in rules if not r["IsEgress"] and r.get("FromPort") == 443)


def user_route(net):
    """A route of the user's own in the VPC's main table (through an internet gateway)."""
    gateway = net.client.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    net.client.attach_internet_gateway(InternetGatewayId=gateway, VpcId=net.vpc_id)
    net.client.create_route(RouteTableId=main_table(net)["RouteTableId"], DestinationCidrBlock="172.31.0.0/16", GatewayId=gateway)
    return gateway


def routes(net):
    return {r["DestinationCidrBlock"]: r.get("VpcPeeringConnectionId") or r.get("GatewayId") for r in main_table(net)["Routes"]}


def test_peered_region_two_regions_two_accounts_own_group_rerun_then_one_agent_vpc_taken_off(sandbox):
    endpoint = Network(cidr="10.140.0.0/16")
    eu = Network(region="eu-west-1", cidr="10.141.0.0/16", zones=("a",))
    ap = Network(region="ap-northeast-1", cidr="10.144.0.0/16", zones=("a",))
    other = Network(region="eu-west-1", cidr="10.142.0.0/16", zones=("a",), account_keys=OTHER_ACCOUNT_KEYS)
    other.other_account = True
    group = own_group(endpoint)
    gateways = {net.vpc_id: user_route(net) for net in (endpoint, eu, ap, other)}
    # The user's own endpoint group, and Agent VPCs whose tables are found (not given).
    variables = dict(scenario(endpoint, [eu, ap, other]), endpoints_create_security_group=False,
                     endpoints_security_group_ids=[group])
    for entry in variables["peering_agent_vpcs"]:
        del entry["route_table_ids"]

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, variables, check=True)
    assert rc == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert endpoint.endpoints() == [] and zones_of(endpoint) == {}

    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0, output
    assert all(not e["PrivateDnsEnabled"] for e in endpoint.endpoints())
    zones = zones_of(endpoint)
    wanted = sorted(zone_plan.zone_names(catalog.service_entries("us1", ["api", "metrics", "logs_agent"]), {}))
    assert sorted(zones) == wanted  # one per anchor (api's) or direct name
    for vpcs in zones.values():
        assert vpcs == {endpoint.vpc_id, eu.vpc_id, ap.vpc_id, other.vpc_id}
    pcx = {}
    for net in (eu, ap, other):
        (connection,) = active_peerings(net)
        pcx[net.vpc_id] = connection["VpcPeeringConnectionId"]
        assert routes(net)["10.140.0.0/16"] == pcx[net.vpc_id] and routes(net)["172.31.0.0/16"] == gateways[net.vpc_id]
    assert {d: t for d, t in routes(endpoint).items() if t and t.startswith("pcx-")} == {
        "10.141.0.0/16": pcx[eu.vpc_id], "10.144.0.0/16": pcx[ap.vpc_id], "10.142.0.0/16": pcx[other.vpc_id]}
    assert routes(endpoint)["172.31.0.0/16"] == gateways[endpoint.vpc_id]
    assert https_cidrs(endpoint, group) == ["10.141.0.0/16", "10.142.0.0/16", "10.144.0.0/16", "192.168.0.0/24"]
    assert "resolves %s" % ", ".join(wanted) in output
    r53 = boto3.client("route53", region_name="us-east-1")
    for zone in run_zones(r53, endpoint):  # the used authorizations were deleted
        assert r53.list_vpc_association_authorizations(HostedZoneId=zone["Id"].split("/")[-1])["VPCs"] == []

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0 and recap["changed"] == 0, output
    calls = sandbox.calls()["calls"]
    assert mutating_calls(calls) == {}
    # The early check plans the zones step (each alias record read once) and finds nothing to do, so that step is
    # skipped; the private-path check reads each record once more. The zones' tags with the four listed VPCs leave
    # nothing for GetHostedZone to tell.
    (zones_step,) = [task for task in output.split("TASK [") if task.startswith(ZONES_STEP)]
    assert "skipping: [localhost]" in zones_step and "ok: [" not in zones_step and "changed: [" not in zones_step, output
    assert calls["route53:ListResourceRecordSets"] == 2 * len(wanted), calls
    assert "route53:GetHostedZone" not in calls and "route53:ListVPCAssociationAuthorizations" not in calls, calls
    assert calls["route53:ListHostedZonesByVPC"] == 4 + 3, calls  # early check, private path

    # A record changed by hand: the plan sees it, the zones step runs and puts it back.
    r53 = boto3.client("route53", region_name="us-east-1")
    api_zone = next(z for z in run_zones(r53, endpoint) if z["Name"].rstrip(".") == wanted[0])
    r53.change_resource_record_sets(HostedZoneId=api_zone["Id"], ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": wanted[0], "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.10"}]}}]})
    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0 and recap["changed"] == 1, output
    (record,) = [r for r in r53.list_resource_record_sets(HostedZoneId=api_zone["Id"])["ResourceRecordSets"] if r["Type"] == "A"]
    assert record.get("AliasTarget"), record

    # Taken off the list, and nothing else said: exactly its peering, routes, rule and associations go.
    variables["peering_agent_vpcs"] = [e for e in variables["peering_agent_vpcs"] if e["vpc_id"] != eu.vpc_id]
    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0, output
    for vpcs in zones_of(endpoint).values():
        assert vpcs == {endpoint.vpc_id, ap.vpc_id, other.vpc_id}
    assert sorted(p["AccepterVpcInfo"]["VpcId"] for p in active_peerings(endpoint)) == sorted([ap.vpc_id, other.vpc_id])
    assert "10.140.0.0/16" not in routes(eu) and routes(eu)["172.31.0.0/16"] == gateways[eu.vpc_id]
    assert "10.141.0.0/16" not in routes(endpoint) and routes(endpoint)["10.144.0.0/16"] == pcx[ap.vpc_id]
    assert routes(endpoint)["172.31.0.0/16"] == gateways[endpoint.vpc_id]
    assert https_cidrs(endpoint, group) == ["10.142.0.0/16", "10.144.0.0/16", "192.168.0.0/24"]
    assert len(endpoint.endpoints()) == 3


def test_peered_region_refuses_an_agent_vpc_list_missing_or_the_wrong_region(sandbox):
    endpoint = Network(cidr="10.143.0.0/16")
    rc, output, _recap = run_playbook(PLAYBOOK, scenario(endpoint, []))
    assert rc != 0 and "peering_agent_vpcs lists the Agent VPCs" in output
    rc, output, _recap = run_playbook(PLAYBOOK, scenario(endpoint, [], endpoints_region="eu-west-1"))
    assert rc != 0 and "us-east-1" in output


def secretsmanager_endpoints(net):
    name = catalog.aws_service_entries(net.region, ["secretsmanager"])[0]["service_name"]
    return [e for e in net.endpoints() if e["ServiceName"] == name]


def test_secrets_manager_endpoint_goes_to_the_agent_vpcs_that_list_subnets_in_their_region_and_account(sandbox):
    endpoint = Network(cidr="10.146.0.0/16")
    eu = Network(region="eu-west-1", cidr="10.147.0.0/16", zones=("a",))
    other = Network(region="eu-west-1", cidr="10.148.0.0/16", zones=("a",), account_keys=OTHER_ACCOUNT_KEYS)
    other.other_account = True
    bare = Network(region="ap-northeast-1", cidr="10.149.0.0/16", zones=("a",))  # lists no subnet_ids
    by_hand = other.client.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=other.vpc_id, SubnetIds=other.subnet_ids,
        ServiceName=catalog.aws_service_entries(other.region, ["secretsmanager"])[0]["service_name"])["VpcEndpoint"]
    variables = scenario(endpoint, [eu, other, bare], endpoints_secretsmanager_endpoint=True)
    for entry, net in zip(variables["peering_agent_vpcs"], (eu, other)):
        entry["subnet_ids"] = net.subnet_ids
    variables["peering_agent_vpcs"][0]["security_group_ids"] = [eu.https_group]  # the Lambdas' own group
    (default,) = other.client.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [other.vpc_id]},
                                                                {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    other.client.authorize_security_group_ingress(GroupId=default["GroupId"], IpPermissions=[  # the Lambdas' TCP 443
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, variables, check=True)
    assert rc == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {} and secretsmanager_endpoints(eu) == []

    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0, output
    (made,) = secretsmanager_endpoints(eu)
    assert made["State"] == "available" and made["PrivateDnsEnabled"] is True and made["SubnetIds"] == eu.subnet_ids
    assert [g["GroupId"] for g in made["Groups"]] == [eu.https_group]
    assert {t["Key"]: t["Value"] for t in made["Tags"]}[catalog.OWNERSHIP_TAG_KEY] == "created"
    (adopted,) = secretsmanager_endpoints(other)
    assert adopted["VpcEndpointId"] == by_hand["VpcEndpointId"]
    assert {t["Key"]: t["Value"] for t in adopted["Tags"]}[catalog.OWNERSHIP_TAG_KEY] == "adopted"
    assert secretsmanager_endpoints(bare) == []
    # Not in the endpoint VPC, nor anywhere in Datadog's region.
    assert secretsmanager_endpoints(endpoint) == []
    everywhere = endpoint.client.describe_vpc_endpoints()["VpcEndpoints"]
    assert not [e for e in everywhere if e["ServiceName"].endswith(".secretsmanager")]

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0 and recap["changed"] == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
