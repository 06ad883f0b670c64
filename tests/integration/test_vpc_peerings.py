"""vpc_peerings against the sandbox: connections, routes both ways, TCP 443 rules, adoption, declarative removal."""

import boto3
from conftest import OTHER_ACCOUNT, OTHER_ACCOUNT_KEYS, mutating_calls, run_module

ENDPOINT_ACCOUNT = "123456789012"


def ec2(region, keys=None):
    if keys:
        return boto3.client("ec2", region_name=region, aws_access_key_id=keys["access_key"],
                            aws_secret_access_key=keys["secret_key"])
    return boto3.client("ec2", region_name=region)


class Vpc:
    """A VPC whose subnet has a route table of its own, holding the user's own routes and tag."""

    def __init__(self, region, cidr, keys=None):
        self.region, self.cidr, self.keys, self.client = region, cidr, keys, ec2(region, keys)
        self.vpc_id = self.client.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        self.subnet_id = self.client.create_subnet(VpcId=self.vpc_id, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                                                   AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
        self.table_id = self.client.create_route_table(VpcId=self.vpc_id)["RouteTable"]["RouteTableId"]
        self.client.associate_route_table(RouteTableId=self.table_id, SubnetId=self.subnet_id)
        self.client.create_tags(Resources=[self.table_id], Tags=[{"Key": "Name", "Value": "theirs"}])
        gateway = self.client.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.client.attach_internet_gateway(InternetGatewayId=gateway, VpcId=self.vpc_id)
        self.gateway = gateway
        self.client.create_route(RouteTableId=self.table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        self.client.create_route(RouteTableId=self.table_id, DestinationCidrBlock="172.31.0.0/16", GatewayId=gateway)
        self.main_id = self.client.describe_route_tables(Filters=[
            {"Name": "vpc-id", "Values": [self.vpc_id]}, {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
        self.before = {t: self.table(t) for t in (self.table_id, self.main_id)}

    def table(self, table_id=None):
        return self.client.describe_route_tables(RouteTableIds=[table_id or self.table_id])["RouteTables"][0]

    def routes(self, table_id=None):
        return {r["DestinationCidrBlock"]: r.get("VpcPeeringConnectionId") or r.get("GatewayId")
                for r in self.table(table_id)["Routes"]}

    def untouched_except(self, *destinations):
        for table_id, before in self.before.items():
            now = self.table(table_id)
            assert [r for r in now["Routes"] if r["DestinationCidrBlock"] not in destinations] == before["Routes"]
            assert now["Associations"] == before["Associations"] and now.get("Tags") == before.get("Tags")

    def peerings(self, states=("active", "pending-acceptance", "provisioning")):
        found = self.client.describe_vpc_peering_connections()["VpcPeeringConnections"]
        return [p for p in found if self.vpc_id in (p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"])
                and p["Status"]["Code"] in states]

    def peer(self, **extra):
        entry = {"vpc_id": self.vpc_id, "region": self.region}
        if self.keys:
            entry.update(account_id=OTHER_ACCOUNT, aws=dict(self.keys))
        entry.update(extra)
        return entry


class Endpoint(Vpc):
    """The endpoint VPC with the user's own endpoint group: a 443 rule and an SSH rule of theirs."""

    def __init__(self, region="us-east-1", cidr="10.90.0.0/16"):
        super().__init__(region, cidr)
        self.group_id = self.client.create_security_group(GroupName="mine", Description="mine", VpcId=self.vpc_id)["GroupId"]
        self.client.authorize_security_group_ingress(GroupId=self.group_id, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.168.0.0/24", "Description": "theirs"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "ssh"}]}])
        self.rules_before = self.rules()

    def rules(self):
        found = self.client.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [self.group_id]}])
        return sorted(((r["IpProtocol"], r["FromPort"], r.get("CidrIpv4")) for r in found["SecurityGroupRules"] if not r["IsEgress"]))

    def https_cidrs(self):
        return sorted(cidr for proto, port, cidr in self.rules() if port == 443)

    def args(self, peers, **extra):
        args = {"region": self.region, "vpc_id": self.vpc_id, "security_group_ids": [self.group_id], "peers": peers}
        args.update(extra)
        return args


def test_two_regions_another_account_own_group_then_rerun_changes_nothing(sandbox):
    endpoint = Endpoint(cidr="10.90.0.0/16")
    near = Vpc("eu-west-1", "10.91.0.0/16")
    far = Vpc("us-west-2", "10.92.0.0/16", keys=OTHER_ACCOUNT_KEYS)
    args = endpoint.args([near.peer(), far.peer(route_table_ids=[far.table_id])], tags={"team": "observability"})

    result = run_module("vpc_peerings", args)
    assert not result["failed"], result
    assert result["changed"] and len(result["created"]) == 2 and result["adopted"] == []
    (near_pcx,), (far_pcx,) = near.peerings(), far.peerings()
    for vpc, pcx, account in ((near, near_pcx, ENDPOINT_ACCOUNT), (far, far_pcx, OTHER_ACCOUNT)):
        assert pcx["Status"]["Code"] == "active"
        assert pcx["AccepterVpcInfo"]["OwnerId"] == account and pcx["AccepterVpcInfo"]["Region"] == vpc.region
    tags = {t["Key"]: t["Value"] for t in endpoint.peerings()[0]["Tags"]}
    assert tags["datadog-privatelink:ownership"] == "created" and tags["team"] == "observability"
    near_id, far_id = near_pcx["VpcPeeringConnectionId"], far_pcx["VpcPeeringConnectionId"]
    # Routes both ways, exactly: the near VPC's tables were found (its subnet's table and its main table).
    by_vpc = {p["vpc_id"]: p for p in result["peers"]}
    assert by_vpc[near.vpc_id]["route_tables_found"] and by_vpc[near.vpc_id]["route_table_ids"] == sorted([near.table_id, near.main_id])
    assert near.routes()["10.90.0.0/16"] == near_id and near.routes(near.main_id)["10.90.0.0/16"] == near_id
    assert far.routes()["10.90.0.0/16"] == far_id and "10.90.0.0/16" not in far.routes(far.main_id)
    assert endpoint.routes()["10.91.0.0/16"] == near_id and endpoint.routes()["10.92.0.0/16"] == far_id
    near.untouched_except("10.90.0.0/16")
    far.untouched_except("10.90.0.0/16")
    endpoint.untouched_except("10.91.0.0/16", "10.92.0.0/16")
    # TCP 443 from each Agent CIDR on the user's own group; the user's rules stay.
    assert endpoint.https_cidrs() == ["10.91.0.0/16", "10.92.0.0/16", "192.168.0.0/24"]
    assert set(endpoint.rules_before) <= set(endpoint.rules())
    assert by_vpc[far.vpc_id]["cross_account"] and by_vpc[far.vpc_id]["ingress_cidrs_added"] == ["10.92.0.0/16"]
    assert "testing" not in str(result)

    sandbox.reset_calls()
    again = run_module("vpc_peerings", args, diff=True)
    assert not again["failed"] and not again["changed"], again
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert again["diff"]["before"] == again["diff"]["after"]


def test_taking_one_peer_off_the_list_removes_exactly_its_peering_routes_and_rule(sandbox):
    endpoint = Endpoint(cidr="10.100.0.0/16")
    dropped = Vpc("eu-west-1", "10.101.0.0/16")
    kept = Vpc("us-west-2", "10.102.0.0/16", keys=OTHER_ACCOUNT_KEYS)
    assert not run_module("vpc_peerings", endpoint.args([dropped.peer(), kept.peer()]))["failed"]
    (kept_pcx,) = kept.peerings()
    kept_routes = endpoint.routes()

    check = run_module("vpc_peerings", endpoint.args([kept.peer()]), check=True, diff=True)
    assert check["changed"] and len(check["removed_peers"]) == 1 and dropped.peerings(), check
    assert "10.101.0.0/16" in check["diff"]["before"] and "10.101.0.0/16" not in check["diff"]["after"]

    result = run_module("vpc_peerings", endpoint.args([kept.peer()]))
    assert not result["failed"] and result["changed"], result
    assert [r["vpc_id"] for r in result["removed_peers"]] == [dropped.vpc_id]
    assert result["deleted"] == [result["removed_peers"][0]["peering_connection_id"]]
    assert dropped.peerings() == []
    dropped.untouched_except()
    assert [p["VpcPeeringConnectionId"] for p in kept.peerings()] == [kept_pcx["VpcPeeringConnectionId"]]
    assert endpoint.routes() == {k: v for k, v in kept_routes.items() if k != "10.101.0.0/16"}
    assert kept.routes()["10.100.0.0/16"] == kept_pcx["VpcPeeringConnectionId"]
    assert endpoint.https_cidrs() == ["10.102.0.0/16", "192.168.0.0/24"]
    assert set(endpoint.rules_before) <= set(endpoint.rules())

    sandbox.reset_calls()
    again = run_module("vpc_peerings", endpoint.args([kept.peer()]))
    assert not again["changed"] and mutating_calls(sandbox.calls()["calls"]) == {}, again


def test_a_connection_made_by_hand_is_adopted_not_duplicated_and_never_deleted(sandbox):
    endpoint = Endpoint(cidr="10.110.0.0/16")
    near = Vpc("eu-west-1", "10.111.0.0/16")
    # Requested from the Agent side by hand, and accepted: the module must find it from the endpoint side.
    by_hand = near.client.create_vpc_peering_connection(VpcId=near.vpc_id, PeerVpcId=endpoint.vpc_id,
                                                        PeerRegion="us-east-1")["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    endpoint.client.accept_vpc_peering_connection(VpcPeeringConnectionId=by_hand)

    result = run_module("vpc_peerings", endpoint.args([near.peer(route_table_ids=[near.table_id])],
                                                      route_table_ids=[endpoint.table_id]))
    assert not result["failed"], result
    assert result["adopted"] == [by_hand] and result["created"] == []
    assert result["peers"][0]["ownership"] == "adopted" and result["peers"][0]["peering_connection_id"] == by_hand
    assert len(near.peerings()) == 1 and near.routes()["10.110.0.0/16"] == by_hand
    tags = {t["Key"]: t["Value"] for t in endpoint.peerings()[0].get("Tags", [])}
    assert tags["datadog-privatelink:ownership"] == "adopted"
    assert not run_module("vpc_peerings", endpoint.args([near.peer(route_table_ids=[near.table_id])],
                                                        route_table_ids=[endpoint.table_id]))["changed"]

    gone = run_module("vpc_peerings", endpoint.args([near.peer()], state="absent"))
    assert not gone["failed"] and gone["handed_back"] == [by_hand] and gone["deleted"] == [], gone
    assert [p["VpcPeeringConnectionId"] for p in near.peerings()] == [by_hand]
    assert "datadog-privatelink:ownership" not in {t["Key"] for t in endpoint.peerings()[0].get("Tags", [])}
    assert endpoint.https_cidrs() == ["192.168.0.0/24"]


def test_check_mode_predicts_and_changes_nothing(sandbox):
    endpoint = Endpoint(cidr="10.120.0.0/16")
    near = Vpc("eu-west-1", "10.121.0.0/16")
    sandbox.reset_calls()
    result = run_module("vpc_peerings", endpoint.args([near.peer()]), check=True, diff=True)
    assert not result["failed"] and result["changed"], result
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert result["created"] == ["pcx-to-be-requested"] and result["peers"][0]["ingress_cidrs_added"] == ["10.121.0.0/16"]
    assert {"route_table_id": near.table_id, "destination": "10.120.0.0/16"} in result["peers"][0]["routes_added"]
    assert "ingress %s tcp 443 from 10.121.0.0/16" % endpoint.group_id in result["diff"]["after"]
    assert near.peerings() == [] and endpoint.rules() == endpoint.rules_before
    near.untouched_except()


def test_refusals_change_nothing_and_say_what_to_change(sandbox):
    endpoint = Endpoint(cidr="10.130.0.0/16")
    overlapping = Vpc("eu-west-1", "10.130.0.0/16")
    near = Vpc("eu-west-1", "10.131.0.0/16")
    far = Vpc("us-west-2", "10.132.0.0/16", keys=OTHER_ACCOUNT_KEYS)
    near.client.create_route(RouteTableId=near.table_id, DestinationCidrBlock="10.130.0.0/16", GatewayId=near.gateway)
    sandbox.reset_calls()
    result = run_module("vpc_peerings", endpoint.args([overlapping.peer()]))
    assert result["failed"] and "Overlapping CIDRs: endpoint VPC %s 10.130.0.0/16 and Agent VPC %s 10.130.0.0/16" % (
        endpoint.vpc_id, overlapping.vpc_id) in result["msg"]
    result = run_module("vpc_peerings", endpoint.args([far.peer(aws=None)]))
    assert result["failed"] and "Agent VPC %s is in account %s but its credentials are those of account %s" % (
        far.vpc_id, OTHER_ACCOUNT, ENDPOINT_ACCOUNT) in result["msg"]
    result = run_module("vpc_peerings", endpoint.args([near.peer()]))
    assert result["failed"] and "%s routes 10.130.0.0/16 through %s" % (near.table_id, near.gateway) in result["msg"]
    result = run_module("vpc_peerings", endpoint.args([far.peer(route_table_ids=[near.table_id])]))
    assert result["failed"] and "route tables not found in their VPC: %s" % near.table_id in result["msg"]
    result = run_module("vpc_peerings", endpoint.args([far.peer(), far.peer()]))
    assert result["failed"] and "listed more than once" in result["msg"]
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert near.peerings() == [] and far.peerings() == [] and endpoint.rules() == endpoint.rules_before
