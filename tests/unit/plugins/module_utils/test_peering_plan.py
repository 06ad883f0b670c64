"""Pure logic of vpc_peerings (and vpc_routes): connections, routes, TCP 443 rules, overlaps, route tables."""

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _peering_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

EP = "vpc-endpoint"


def connection(pcx, requester, accepter, code="active", tags=None):
    return {"VpcPeeringConnectionId": pcx, "Status": {"Code": code},
            "RequesterVpcInfo": {"VpcId": requester}, "AccepterVpcInfo": {"VpcId": accepter},
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def table(table_id, vpc_id, routes=(), main=False, subnets=()):
    associations = [{"Main": True}] if main else []
    associations += [{"Main": False, "SubnetId": s} for s in subnets]
    return {"RouteTableId": table_id, "VpcId": vpc_id, "Routes": list(routes), "Associations": associations}


def rule(rule_id, cidr, port=443, to_port=None, protocol="tcp", tags=None, description="", egress=False):
    return {"SecurityGroupRuleId": rule_id, "IsEgress": egress, "IpProtocol": protocol, "FromPort": port,
            "ToPort": port if to_port is None else to_port, "CidrIpv4": cidr, "Description": description,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


OURS = {catalog.RULE_OWNER_TAG_KEY: plan.RULE_OWNER, catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE}


def test_joining_finds_either_direction_prefers_active_and_ignores_dead_ones():
    found = [connection("pcx-dead", EP, "vpc-a", code="deleted"),
             connection("pcx-pending", "vpc-a", EP, code="pending-acceptance"),
             connection("pcx-live", "vpc-a", EP),
             connection("pcx-other", EP, "vpc-b")]
    assert plan.joining(found, EP, "vpc-a")["VpcPeeringConnectionId"] == "pcx-live"
    assert plan.joining(found, EP, "vpc-c") is None
    assert plan.other_side(found[2], EP)["VpcId"] == "vpc-a"


def test_ownership_reads_created_adopted_and_connections_from_before_the_ownership_tag():
    assert plan.ownership(connection("p", EP, "a")) is None
    assert plan.ownership(connection("p", EP, "a", tags={catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE})) == "created"
    adopted = {catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE, catalog.OWNERSHIP_TAG_KEY: catalog.OWNERSHIP_ADOPTED}
    assert plan.ownership(connection("p", EP, "a", tags=adopted)) == "adopted"
    tags = plan.wanted_tags({"team": "x"}, "datadog-privatelink-vpc-a", "created")
    assert tags == {"team": "x", "Name": "datadog-privatelink-vpc-a", catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE,
                    catalog.OWNERSHIP_TAG_KEY: "created"}


def test_overlaps_between_endpoint_and_peers_and_between_peers():
    peers = [{"vpc_id": "vpc-a", "blocks": ["10.1.0.0/16"], "cidrs": ["10.1.0.0/16"]},
             {"vpc_id": "vpc-b", "blocks": ["10.0.128.0/17"], "cidrs": ["10.0.128.0/17"]},
             {"vpc_id": "vpc-c", "blocks": ["10.1.4.0/24"], "cidrs": ["10.1.4.0/24"]},
             {"vpc_id": EP, "blocks": [], "cidrs": []}]
    assert plan.overlaps(EP, ["10.0.0.0/16"], peers) == [
        "Agent VPC vpc-a 10.1.0.0/16 and Agent VPC vpc-c 10.1.4.0/24",
        "endpoint VPC vpc-endpoint 10.0.0.0/16 and Agent VPC vpc-b 10.0.128.0/17",
        "vpc-endpoint is the endpoint VPC itself",
    ]
    assert plan.overlaps(EP, ["10.0.0.0/16"], peers[:1]) == []


def test_used_tables_are_the_main_one_and_those_of_subnets_never_an_idle_one():
    tables = [table("rtb-main", "vpc-a", main=True), table("rtb-sub", "vpc-a", subnets=["subnet-1"]),
              table("rtb-idle", "vpc-a"), table("rtb-elsewhere", "vpc-b", main=True)]
    assert plan.used_tables(tables, "vpc-a") == ["rtb-main", "rtb-sub"]
    assert plan.used_tables([table("rtb-idle", "vpc-a")], "vpc-a") == []


def test_plan_routes_adds_keeps_refuses_and_replaces_only_a_blackhole_of_a_dead_peering():
    tables = [table("rtb-1", "vpc-a", routes=[
        {"DestinationCidrBlock": "10.9.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"},
        {"DestinationCidrBlock": "10.8.0.0/16", "GatewayId": "igw-1", "State": "active"},
        {"DestinationCidrBlock": "10.7.0.0/16", "VpcPeeringConnectionId": "pcx-old", "State": "blackhole"},
    ])]

    def want(dest, table_id="rtb-1", vpc_id="vpc-a"):
        return {"route_table_id": table_id, "destination_cidr": dest, "vpc_peering_connection_id": "pcx-1", "vpc_id": vpc_id}

    routes = plan.plan_routes(tables, [want("10.9.0.0/16"), want("10.6.0.0/16"), want("10.8.0.0/16"), want("10.7.0.0/16"),
                                       want("10.5.0.0/16", table_id="rtb-gone"), want("10.5.0.0/16", vpc_id="vpc-b")])
    assert routes["unchanged"] == [want("10.9.0.0/16")]
    assert routes["todo"] == [want("10.6.0.0/16"), dict(want("10.7.0.0/16"), replace=True)]
    assert routes["conflicts"] == ["rtb-1 routes 10.8.0.0/16 through igw-1"]
    assert routes["missing"] == ["rtb-gone"] and routes["wrong_vpc"] == ["rtb-1 (in vpc-a, not vpc-b)"]
    removal = plan.plan_routes(tables, [want("10.9.0.0/16"), want("10.8.0.0/16")], present=False)
    assert removal["todo"] == [want("10.9.0.0/16")] and removal["unchanged"] == [want("10.8.0.0/16")]
    assert plan.routes_through(tables, ["pcx-old"]) == [
        {"route_table_id": "rtb-1", "destination_cidr": "10.7.0.0/16", "vpc_peering_connection_id": "pcx-old", "vpc_id": "vpc-a"}]


def test_plan_rules_adds_one_rule_per_cidr_keeps_ours_respects_covering_rules_and_purges_only_ours():
    rules = [rule("sgr-ours", "10.1.0.0/16", tags=OURS),
             rule("sgr-stale", "10.3.0.0/16", tags=OURS),
             rule("sgr-legacy", "10.4.0.0/16", description=plan.rule_description("vpc-d")),
             rule("sgr-wide", "10.2.0.0/15", port=0, to_port=65535),  # the user's: admits 10.2/16 on 443
             rule("sgr-theirs", "10.5.0.0/16"),
             rule("sgr-ssh", "10.6.0.0/16", port=22),
             rule("sgr-egress", "10.7.0.0/16", egress=True, tags=OURS)]
    wanted = {"10.1.0.0/16": "vpc-a", "10.2.0.0/16": "vpc-b", "10.6.0.0/16": "vpc-c", "10.7.0.0/16": "vpc-e"}
    rules_plan = plan.plan_rules(rules, wanted, known_peer_ids=["vpc-d"])
    assert [r["rule_id"] for r in rules_plan["unchanged"]] == ["sgr-ours"]
    assert rules_plan["covered"] == [{"cidr": "10.2.0.0/16", "vpc_id": "vpc-b", "rule_id": "sgr-wide", "by": "10.2.0.0/15"}]
    assert [(a["cidr"], a["description"]) for a in rules_plan["add"]] == [
        ("10.6.0.0/16", plan.rule_description("vpc-c")), ("10.7.0.0/16", plan.rule_description("vpc-e"))]
    assert sorted(r["rule_id"] for r in rules_plan["revoke"]) == ["sgr-legacy", "sgr-stale"]
    assert plan.plan_rules(rules, wanted, purge=False)["revoke"] == []
    assert plan.removal_rules(rules, ["10.1.0.0/16", "10.5.0.0/16"], []) == [{"cidr": "10.1.0.0/16", "rule_id": "sgr-ours"}]
    assert plan.ingress_permissions(rules_plan["add"]) == [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [
        {"CidrIp": "10.6.0.0/16", "Description": plan.rule_description("vpc-c")},
        {"CidrIp": "10.7.0.0/16", "Description": plan.rule_description("vpc-e")}]}]


def test_all_traffic_rules_admit_443_and_blocks_come_from_associated_cidrs():
    assert plan.plan_rules([rule("sgr-all", "0.0.0.0/0", protocol="-1")], {"10.1.0.0/16": "vpc-a"})["covered"]
    vpc = {"CidrBlock": "10.1.0.0/16", "CidrBlockAssociationSet": [
        {"CidrBlock": "10.1.0.0/16", "CidrBlockState": {"State": "associated"}},
        {"CidrBlock": "10.2.0.0/16", "CidrBlockState": {"State": "disassociated"}}]}
    assert plan.associated_blocks(vpc) == ["10.1.0.0/16"]
    assert plan.duplicates(["a", "b", "a", "a"]) == ["a"]
