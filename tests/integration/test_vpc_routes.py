"""vpc_routes against the sandbox: exact routes added and removed, nothing else touched."""

from conftest import Network, mutating_calls, run_module


def peered_pair(sandbox):
    left = Network(cidr="10.130.0.0/16", zones=("a",))
    right = Network(cidr="10.131.0.0/16", zones=("a",))
    pcx = left.client.create_vpc_peering_connection(VpcId=left.vpc_id, PeerVpcId=right.vpc_id)["VpcPeeringConnection"]
    pcx_id = pcx["VpcPeeringConnectionId"]
    left.client.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    table = left.client.create_route_table(VpcId=left.vpc_id)["RouteTable"]["RouteTableId"]
    igw = left.client.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    left.client.attach_internet_gateway(InternetGatewayId=igw, VpcId=left.vpc_id)
    left.client.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    return left, right, pcx_id, table, igw


def routes_of(net, table):
    answer = net.client.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    return sorted((r.get("DestinationCidrBlock"), r.get("VpcPeeringConnectionId") or r.get("GatewayId")) for r in answer)


def test_adds_exactly_the_routes_then_nothing_then_removes_only_them(sandbox):
    left, _right, pcx, table, igw = peered_pair(sandbox)
    want = [{"route_table_id": table, "destination_cidr": "10.131.0.0/16", "vpc_peering_connection_id": pcx,
             "vpc_id": left.vpc_id}]
    before = routes_of(left, table)

    sandbox.reset_calls()
    check = run_module("vpc_routes", {"region": "us-east-1", "routes": want}, check=True, diff=True)
    assert check["changed"] and len(check["added"]) == 1 and mutating_calls(sandbox.calls()["calls"]) == {}
    assert check["diff"] == {"before": "", "after": "route %s 10.131.0.0/16 via %s\n" % (table, pcx)}

    added = run_module("vpc_routes", {"region": "us-east-1", "routes": want})
    assert added["changed"] and routes_of(left, table) == sorted(before + [("10.131.0.0/16", pcx)])
    sandbox.reset_calls()
    again = run_module("vpc_routes", {"region": "us-east-1", "routes": want})
    assert again["changed"] is False and mutating_calls(sandbox.calls()["calls"]) == {}

    removed = run_module("vpc_routes", {"region": "us-east-1", "routes": want, "state": "absent"})
    assert removed["changed"] and routes_of(left, table) == before
    assert ("0.0.0.0/0", igw) in routes_of(left, table)
    assert run_module("vpc_routes", {"region": "us-east-1", "routes": want, "state": "absent"})["changed"] is False


def test_a_destination_through_something_else_is_refused_and_never_deleted(sandbox):
    left, _right, pcx, table, igw = peered_pair(sandbox)
    taken = [{"route_table_id": table, "destination_cidr": "0.0.0.0/0", "vpc_peering_connection_id": pcx}]
    refused = run_module("vpc_routes", {"region": "us-east-1", "routes": taken})
    assert refused["failed"] and igw in refused["msg"] and "not replaced" in refused["msg"]
    kept = run_module("vpc_routes", {"region": "us-east-1", "routes": taken, "state": "absent"})
    assert kept["changed"] is False and ("0.0.0.0/0", igw) in routes_of(left, table)


def test_a_table_of_another_vpc_or_unknown_is_refused(sandbox):
    left, right, pcx, table, _igw = peered_pair(sandbox)
    wrong = run_module("vpc_routes", {"region": "us-east-1", "routes": [
        {"route_table_id": table, "destination_cidr": "10.131.0.0/16", "vpc_peering_connection_id": pcx, "vpc_id": right.vpc_id}]})
    assert wrong["failed"] and "outside their VPC" in wrong["msg"] and right.vpc_id in wrong["msg"]
    unknown = run_module("vpc_routes", {"region": "us-east-1", "routes": [
        {"route_table_id": "rtb-0123456789abcdef0", "destination_cidr": "10.131.0.0/16", "vpc_peering_connection_id": pcx}]})
    assert unknown["failed"] and "not found" in unknown["msg"]
