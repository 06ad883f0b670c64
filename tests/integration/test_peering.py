"""The peering role, run with ansible-playbook against the sandbox, outcomes read back with boto3."""

import boto3
from conftest import ROOT, mutating_calls, run_playbook

from sandbox.server import access_key_for

PLAYBOOK = ROOT / "tests/integration/playbooks/peering_role.yml"
OWNER = {"Key": "datadog-privatelink:managed-by", "Value": "datadog_privatelink.aws"}
OTHER_ACCOUNT = "222222222222"
SECRET = "sandbox-secret-of-222"


def ec2(region, account=None):
    if account is None:
        return boto3.client("ec2", region_name=region)
    return boto3.client("ec2", region_name=region, aws_access_key_id=access_key_for(account),
                        aws_secret_access_key=SECRET)


class Vpc:
    """A VPC with one subnet, a route table of its own holding a route and a tag nobody else may touch."""

    def __init__(self, region, cidr, account=None):
        self.region, self.cidr, self.client = region, cidr, ec2(region, account)
        self.vpc_id = self.client.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        self.subnet_id = self.client.create_subnet(VpcId=self.vpc_id, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                                                   AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
        self.table_id = self.client.create_route_table(VpcId=self.vpc_id)["RouteTable"]["RouteTableId"]
        self.client.associate_route_table(RouteTableId=self.table_id, SubnetId=self.subnet_id)
        self.client.create_tags(Resources=[self.table_id], Tags=[{"Key": "Name", "Value": "theirs"}])
        gateway = self.client.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        self.client.attach_internet_gateway(InternetGatewayId=gateway, VpcId=self.vpc_id)
        self.client.create_route(RouteTableId=self.table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        self.table_before = self.table()

    def table(self, table_id=None):
        return self.client.describe_route_tables(RouteTableIds=[table_id or self.table_id])["RouteTables"][0]

    def routes(self):
        return {r["DestinationCidrBlock"]: r.get("VpcPeeringConnectionId") or r.get("GatewayId")
                for r in self.table()["Routes"]}

    def untouched_except(self, *destinations):
        """Everything of the table but the given routes is as it was before the role ran."""
        now, before = self.table(), self.table_before
        assert [r for r in now["Routes"] if r["DestinationCidrBlock"] not in destinations] == before["Routes"]
        assert now["Associations"] == before["Associations"] and now["Tags"] == before["Tags"]

    def peerings(self):
        found = self.client.describe_vpc_peering_connections()["VpcPeeringConnections"]
        return [p for p in found if self.vpc_id in (p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"])
                and p["Status"]["Code"] != "deleted"]


class Endpoint(Vpc):
    """The endpoint VPC, with an endpoint security group already holding a rule of the user's."""

    def __init__(self, region="us-east-1", cidr="10.70.0.0/16"):
        super().__init__(region, cidr)
        self.group_id = self.client.create_security_group(GroupName="endpoints", Description="endpoints",
                                                          VpcId=self.vpc_id)["GroupId"]
        self.client.authorize_security_group_ingress(GroupId=self.group_id, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "192.168.0.0/24", "Description": "theirs"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": self.group_id}]}])
        self.rules_before = self.ingress()

    def ingress(self):
        return self.client.describe_security_groups(GroupIds=[self.group_id])["SecurityGroups"][0]["IpPermissions"]

    def https_cidrs(self):
        return sorted((c["CidrIp"], c.get("Description")) for p in self.ingress() if p.get("FromPort") == 443
                      for c in p["IpRanges"])

    def variables(self, agents, **extra):
        variables = {"peering_endpoint_vpc_id": self.vpc_id, "peering_endpoint_region": self.region,
                     "peering_endpoint_route_table_ids": [self.table_id],
                     "peering_endpoint_security_group_id": self.group_id, "peering_agent_vpcs": agents}
        variables.update(extra)
        return variables


def agent(vpc, **extra):
    entry = {"vpc_id": vpc.vpc_id, "region": vpc.region, "route_table_ids": [vpc.table_id]}
    entry.update(extra)
    return entry


def rule_desc(vpc):
    return "Datadog Agents in peered VPC %s (datadog_privatelink.aws)" % vpc.vpc_id


def test_two_regions_and_another_account_then_rerun_with_changed_0(sandbox):
    endpoint = Endpoint(cidr="10.70.0.0/16")
    near = Vpc("eu-west-1", "10.71.0.0/16")
    far = Vpc("us-west-2", "10.72.0.0/16", account=OTHER_ACCOUNT)
    agents = [agent(near),
              agent(far, account_id=OTHER_ACCOUNT, aws={"access_key": access_key_for(OTHER_ACCOUNT), "secret_key": SECRET})]
    variables = endpoint.variables(agents, peering_tags={"team": "observability"})

    rc, output, recap = run_playbook(PLAYBOOK, variables, extra_args=("-v",))
    assert rc == 0, output
    assert SECRET not in output
    (near_pcx,), (far_pcx,) = near.peerings(), far.peerings()
    for vpc, pcx, account in ((near, near_pcx, "123456789012"), (far, far_pcx, OTHER_ACCOUNT)):
        assert pcx["Status"]["Code"] == "active"
        assert pcx["RequesterVpcInfo"]["VpcId"] == endpoint.vpc_id and pcx["AccepterVpcInfo"]["Region"] == vpc.region
        assert pcx["AccepterVpcInfo"]["OwnerId"] == account
        assert OWNER in pcx["Tags"] and {"Key": "team", "Value": "observability"} in pcx["Tags"]
        assert {"Key": "Name", "Value": "datadog-privatelink-" + vpc.vpc_id} in pcx["Tags"]
        assert vpc.routes()["10.70.0.0/16"] == pcx["VpcPeeringConnectionId"]
        vpc.untouched_except("10.70.0.0/16")
    near_id, far_id = near_pcx["VpcPeeringConnectionId"], far_pcx["VpcPeeringConnectionId"]
    assert endpoint.routes()["10.71.0.0/16"] == near_id and endpoint.routes()["10.72.0.0/16"] == far_id
    endpoint.untouched_except("10.71.0.0/16", "10.72.0.0/16")
    assert endpoint.https_cidrs() == [("10.71.0.0/16", rule_desc(near)), ("10.72.0.0/16", rule_desc(far)),
                                      ("192.168.0.0/24", "theirs")]
    assert [p for p in endpoint.ingress() if p["FromPort"] == 22] == [p for p in endpoint.rules_before if p["FromPort"] == 22]
    assert '"peering_connection_id": "%s"' % far_id in output and '"cross_account": true' in output

    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, variables)
    assert rc == 0, output
    assert recap["changed"] == 0
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_an_agent_vpc_taken_off_the_list_loses_only_what_was_made_for_it(sandbox):
    endpoint = Endpoint(cidr="10.80.0.0/16")
    dropped = Vpc("eu-west-1", "10.81.0.0/16")
    kept = Vpc("us-west-2", "10.82.0.0/16")
    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(dropped), agent(kept)]))
    assert rc == 0, output
    (kept_pcx,) = kept.peerings()
    kept_id = kept_pcx["VpcPeeringConnectionId"]
    assert dropped.peerings() and endpoint.routes()["10.81.0.0/16"] == dropped.peerings()[0]["VpcPeeringConnectionId"]

    # The user drops it from the list, and says nothing else.
    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(kept)]))
    assert rc == 0, output
    assert dropped.peerings() == [] and [p["VpcPeeringConnectionId"] for p in kept.peerings()] == [kept_id]
    assert dropped.table()["Routes"] == dropped.table_before["Routes"]
    dropped.untouched_except()
    assert endpoint.routes()["10.82.0.0/16"] == kept_id and "10.81.0.0/16" not in endpoint.routes()
    endpoint.untouched_except("10.82.0.0/16")
    assert kept.routes()["10.80.0.0/16"] == kept_id
    kept.untouched_except("10.80.0.0/16")
    assert endpoint.https_cidrs() == [("10.82.0.0/16", rule_desc(kept)), ("192.168.0.0/24", "theirs")]
    assert [p for p in endpoint.ingress() if p["FromPort"] == 22] == [p for p in endpoint.rules_before if p["FromPort"] == 22]


def test_check_mode_on_fresh_vpcs_changes_nothing(sandbox):
    endpoint = Endpoint(cidr="10.73.0.0/16")
    near = Vpc("eu-west-1", "10.74.0.0/16")
    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(near)]), check=True, diff=True)
    assert rc == 0, output
    assert recap["changed"] == 1  # one module call: request, routes, rule
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert near.peerings() == [] and endpoint.peerings() == []
    endpoint.untouched_except()
    near.untouched_except()
    assert endpoint.ingress() == endpoint.rules_before


def test_refuses_overlapping_cidrs_and_a_table_of_another_vpc(sandbox):
    endpoint = Endpoint(cidr="10.75.0.0/16")
    overlapping = Vpc("eu-west-1", "10.75.0.0/16")
    near = Vpc("eu-west-1", "10.76.0.0/16")
    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(overlapping)]))
    assert rc != 0
    assert "Overlapping CIDRs: endpoint VPC %s 10.75.0.0/16 and Agent VPC %s 10.75.0.0/16" % (
        endpoint.vpc_id, overlapping.vpc_id) in output

    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(near, route_table_ids=[overlapping.table_id])]))
    assert rc != 0
    assert "route tables not found in their VPC: %s (not in %s)" % (overlapping.table_id, near.vpc_id) in output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert near.peerings() == [] and endpoint.peerings() == []


def test_refuses_another_account_without_credentials_and_a_route_it_would_replace(sandbox):
    endpoint = Endpoint(cidr="10.77.0.0/16")
    far = Vpc("us-west-2", "10.78.0.0/16", account=OTHER_ACCOUNT)
    near = Vpc("eu-west-1", "10.79.0.0/16")
    gateway = near.routes()["0.0.0.0/0"]
    near.client.create_route(RouteTableId=near.table_id, DestinationCidrBlock="10.77.0.0/16", GatewayId=gateway)
    sandbox.reset_calls()
    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(far, account_id=OTHER_ACCOUNT)]))
    assert rc != 0
    assert "Agent VPC %s is in account %s but its credentials are those of account 123456789012" % (
        far.vpc_id, OTHER_ACCOUNT) in output

    rc, output, recap = run_playbook(PLAYBOOK, endpoint.variables([agent(near)]))
    assert rc != 0
    assert "%s routes 10.77.0.0/16 through %s" % (near.table_id, gateway) in output and "not replaced" in output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert near.peerings() == [] and endpoint.peerings() == []
