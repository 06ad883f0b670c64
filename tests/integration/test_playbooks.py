"""The scenario playbooks and the endpoints role, run with ansible-playbook against the sandbox."""

import concurrent.futures

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import ROOT, Network, mutating_calls, run_playbook

SAME_REGION = "datadog_privatelink.aws.same_region"
CROSS_REGION = "datadog_privatelink.aws.cross_region"
ROLE_PLAY = ROOT / "tests/integration/playbooks/endpoints_role.yml"  # the role alone, no scenario assertion


def scenario_vars(net, **extra):
    variables = {"endpoints_site": "datadoghq.com", "endpoints_vpc_id": net.vpc_id, "endpoints_subnet_ids": net.subnet_ids}
    variables.update(extra)
    return variables


def endpoint_group(net):
    groups = net.client.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [net.vpc_id]}, {"Name": "group-name", "Values": ["datadog-privatelink-endpoints"]}])
    return groups["SecurityGroups"]


def test_same_region_creates_everything_then_reruns_with_changed_0(sandbox):
    net = Network(cidr="10.50.0.0/16")
    rc, output, recap = run_playbook(SAME_REGION, scenario_vars(net))
    assert rc == 0, output
    assert recap["changed"] == 1 and recap["failed"] == 0  # one module call: the group and the endpoints
    assert "10 Datadog services in us-east-1" in output and "10 created" in output
    endpoints = net.endpoints()
    assert len(endpoints) == 10 and all(e["State"] == "available" for e in endpoints)
    (group,) = endpoint_group(net)
    assert all([g["GroupId"] for g in e["Groups"]] == [group["GroupId"]] for e in endpoints)
    rules = group["IpPermissions"]
    assert [(r["IpProtocol"], r["FromPort"], r["ToPort"], [c["CidrIp"] for c in r["IpRanges"]]) for r in rules] == \
        [("tcp", 443, 443, ["10.50.0.0/16"])]

    sandbox.reset_calls()
    rc, output, recap = run_playbook(SAME_REGION, scenario_vars(net))
    assert rc == 0, output
    assert recap["changed"] == 0
    assert mutating_calls(sandbox.calls()["calls"]) == {}


def test_security_group_keeps_rules_it_did_not_write(sandbox):
    net = Network(cidr="10.51.0.0/16")
    run_playbook(SAME_REGION, scenario_vars(net, endpoints_services=["api"]))
    (group,) = endpoint_group(net)
    net.client.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.168.0.0/24"}]}])
    rc, output, recap = run_playbook(SAME_REGION, scenario_vars(
        net, endpoints_services=["api"], endpoints_https_ingress_cidrs=["10.99.0.0/16"]))
    assert rc == 0, output
    (group,) = endpoint_group(net)
    cidrs = sorted(c["CidrIp"] for r in group["IpPermissions"] for c in r["IpRanges"])
    assert cidrs == ["10.51.0.0/16", "10.99.0.0/16", "192.168.0.0/24"]


def test_check_mode_on_a_fresh_vpc_changes_nothing(sandbox):
    net = Network(cidr="10.52.0.0/16")
    sandbox.reset_calls()
    rc, output, recap = run_playbook(SAME_REGION, scenario_vars(net), check=True, diff=True)
    assert rc == 0, output
    assert recap["changed"] >= 1
    assert mutating_calls(sandbox.calls()["calls"]) == {}
    assert net.endpoints() == [] and endpoint_group(net) == []


def test_cross_region_playbook(sandbox):
    net = Network(region="eu-west-1", cidr="10.53.0.0/16")
    rc, output, recap = run_playbook(CROSS_REGION, scenario_vars(net, endpoints_region="eu-west-1",
                                                                 endpoints_services=["api", "metrics", "logs_agent"]))
    assert rc == 0, output
    assert "services reached in us-east-1" in output
    assert {e["ServiceRegion"] for e in net.endpoints()} == {"us-east-1"}
    rc, output, recap = run_playbook(CROSS_REGION, scenario_vars(net, endpoints_region="eu-west-1",
                                                                 endpoints_services=["api", "metrics", "logs_agent"]))
    assert rc == 0 and recap["changed"] == 0, output


def test_playbooks_refuse_the_wrong_scenario(sandbox):
    net = Network(region="eu-west-1", cidr="10.54.0.0/16")
    rc, output, dummy = run_playbook(SAME_REGION, scenario_vars(net, endpoints_region="eu-west-1"))
    assert rc != 0 and "run datadog_privatelink.aws.cross_region instead" in output
    rc, output, dummy = run_playbook(CROSS_REGION, scenario_vars(net, endpoints_region="us-east-1"))
    assert rc != 0 and "datadog_privatelink.aws.same_region" in output


def test_absent_removes_only_what_the_collection_created(sandbox):
    net = Network(cidr="10.55.0.0/16")
    variables = scenario_vars(net, endpoints_services=["api", "traces"], endpoints_secretsmanager_endpoint=True)
    rc, output, dummy = run_playbook(SAME_REGION, variables)
    assert rc == 0, output
    names = sorted(e["ServiceName"] for e in net.endpoints())
    assert len(names) == 3 and "com.amazonaws.us-east-1.secretsmanager" in names
    rc, output, recap = run_playbook(SAME_REGION, variables)
    assert rc == 0 and recap["changed"] == 0, output

    rc, output, dummy = run_playbook(SAME_REGION, dict(variables, endpoints_state="absent"))
    assert rc == 0, output
    assert net.endpoints() == []
    assert endpoint_group(net) == []
    assert net.https_group in [g["GroupId"] for g in net.client.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [net.vpc_id]}])["SecurityGroups"]]


def test_module_defaults_group_sets_aws_options_once(sandbox):
    net = Network(cidr="10.56.0.0/16")
    rc, output, recap = run_playbook(ROOT / "tests/integration/playbooks/module_defaults.yml",
                                     {"target_region": "us-east-1", "target_vpc_id": net.vpc_id})
    assert rc == 0, output
    assert recap["failed"] == 0


# ---- adoption, ownership of the security group, validation before any change, races ----

def tags_of(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_hand_made_endpoint_is_adopted_with_its_group_and_absent_leaves_exactly_it(sandbox):
    net = Network(cidr="10.57.0.0/16")
    api_name = catalog.service_entries("us1", ["api"])[0]["service_name"]
    user_group = net.security_group("user-own", https=True)
    hand_made = net.client.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=net.vpc_id, ServiceName=api_name,
                                               SubnetIds=net.subnet_ids, SecurityGroupIds=[user_group])["VpcEndpoint"]
    variables = scenario_vars(net, endpoints_site="us")

    rc, output, recap = run_playbook(SAME_REGION, variables, check=True, diff=True)
    assert rc == 0, output
    assert hand_made["VpcEndpointId"] in output and "datadog-privatelink:ownership" in output  # the diff shows it
    assert len(net.endpoints()) == 1

    rc, output, recap = run_playbook(SAME_REGION, variables, diff=True)
    assert rc == 0, output
    assert recap["changed"] == 1  # one call: the group, then the endpoints (created and adopted)
    endpoints = net.endpoints()
    assert sorted(e["ServiceName"] for e in endpoints) == sorted(e["service_name"] for e in catalog.service_entries("us1"))
    (api,) = [e for e in endpoints if e["ServiceName"] == api_name]
    assert api["VpcEndpointId"] == hand_made["VpcEndpointId"]
    (group,) = endpoint_group(net)
    assert sorted(g["GroupId"] for g in api["Groups"]) == sorted([user_group, group["GroupId"]])
    assert tags_of(api)[catalog.OWNERSHIP_TAG_KEY] == "adopted"

    sandbox.reset_calls()
    rc, output, recap = run_playbook(SAME_REGION, variables)
    assert rc == 0 and recap["changed"] == 0, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}

    rc, output, recap = run_playbook(SAME_REGION, dict(variables, endpoints_state="absent"))
    assert rc == 0, output
    (left,) = net.endpoints()
    assert left["VpcEndpointId"] == hand_made["VpcEndpointId"]
    assert [g["GroupId"] for g in left["Groups"]] == [user_group]  # the role's group let go before its deletion
    assert endpoint_group(net) == []


def test_a_hand_made_group_of_the_default_name_is_used_never_deleted(sandbox):
    net = Network(cidr="10.58.0.0/16")
    mine = net.client.create_security_group(GroupName="datadog-privatelink-endpoints", Description="mine",
                                            VpcId=net.vpc_id)["GroupId"]
    variables = scenario_vars(net, endpoints_services=["api"])
    rc, output, recap = run_playbook(SAME_REGION, variables)
    assert rc == 0, output
    (group,) = endpoint_group(net)
    assert group["GroupId"] == mine and catalog.OWNERSHIP_TAG_KEY not in tags_of(group)
    assert [g["GroupId"] for g in net.endpoints()[0]["Groups"]] == [mine]
    rc, output, recap = run_playbook(SAME_REGION, dict(variables, endpoints_state="absent"))
    assert rc == 0, output
    assert net.endpoints() == [] and [g["GroupId"] for g in endpoint_group(net)] == [mine]


@pytest.mark.parametrize("operation, error, message, octet", [
    ("CreateSecurityGroup", "InvalidGroup.Duplicate",
     "The security group 'datadog-privatelink-endpoints' already exists for VPC", 59),
    ("AuthorizeSecurityGroupIngress", "InvalidPermission.Duplicate",
     "the specified rule \"peer: 10.0.0.0/16, TCP, from port: 443, to port: 443, ALLOW\" already exists", 167),
])
def test_the_loser_of_a_security_group_race_uses_the_group(sandbox, operation, error, message, octet):
    """What a concurrent run's win looks like to the loser (AWS may list the winner's group a moment later)."""
    net = Network(cidr="10.%d.0.0/16" % octet)
    sandbox.reset_calls()
    sandbox.add_fault(operation, error=error, count=1, message=message)
    try:
        rc, output, recap = run_playbook(SAME_REGION, scenario_vars(net, endpoints_services=["api"]))
    finally:
        sandbox.clear_faults()
    assert rc == 0, output
    assert sandbox.calls()["calls"]["ec2:" + operation] == 2  # the refused call, then the one that found its way
    (group,) = endpoint_group(net)
    assert len(net.endpoints()) == 1
    assert [g["GroupId"] for g in net.endpoints()[0]["Groups"]] == [group["GroupId"]]
    assert [(p["FromPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]] == [(443, ["10.%d.0.0/16" % octet])]


def test_two_playbook_runs_at_once_make_one_group_and_one_endpoint_per_service(sandbox):
    net = Network(cidr="10.60.0.0/16")
    variables = scenario_vars(net, endpoints_services=["api", "metrics", "traces"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _i: run_playbook(SAME_REGION, variables), range(2)))
    for rc, output, dummy in runs:
        assert rc == 0, output
    assert len(endpoint_group(net)) == 1
    assert len(net.endpoints()) == 3 and len({e["ServiceName"] for e in net.endpoints()}) == 3


def _other_vpc_subnet(net):
    return Network(cidr="10.62.0.0/16", zones=("c",)).subnet_ids[0]


def _same_zone_subnet(net):
    return net.client.create_subnet(VpcId=net.vpc_id, CidrBlock="10.61.9.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]


BAD_INPUTS = {
    "subnet of another VPC": (lambda net: {"endpoints_subnet_ids": [net.subnet_ids[0], _other_vpc_subnet(net)]},
                              "Subnets outside"),
    "two subnets in one AZ": (lambda net: {"endpoints_subnet_ids": net.subnet_ids + [_same_zone_subnet(net)]},
                              "one subnet per availability zone"),
    "mistyped service key": (lambda net: {"endpoints_services": ["api", "metric"]}, "Unknown Datadog service key(s): metric"),
    "empty subnet list": (lambda net: {"endpoints_subnet_ids": []}, "subnet_ids is required"),
    "unknown service name": (lambda net: {"endpoints_service_names": {
        "api": "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"}}, "Datadog support"),
    "missing VPC id": (lambda net: {"endpoints_vpc_id": ""}, "is not a VPC id"),
    "malformed VPC id": (lambda net: {"endpoints_vpc_id": "vpc-nothex"}, "is not a VPC id"),
    "unknown VPC": (lambda net: {"endpoints_vpc_id": "vpc-0123456789abcdef0"}, "not found"),
    "unknown region": (lambda net: {"endpoints_region": "us-east-7"}, "is not an AWS region"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_before_any_change(sandbox, case):
    net = Network(cidr="10.61.0.0/16")
    make, message = BAD_INPUTS[case]
    variables = scenario_vars(net, **make(net))
    sandbox.reset_calls()
    rc, output, recap = run_playbook(ROLE_PLAY, variables)
    assert rc != 0
    assert message in output, output
    assert "_AnsibleLazyTemplateList" not in output and "object has no element" not in output
    assert mutating_calls(sandbox.calls()["calls"]) == {}  # not even the security group
    assert net.endpoints() == [] and endpoint_group(net) == []


@pytest.mark.parametrize("omitted", ["endpoints_site", "endpoints_vpc_id"])
def test_a_required_role_option_left_out_is_named_before_any_call(sandbox, omitted):
    net = Network(cidr="10.64.0.0/16")
    variables = scenario_vars(net)
    del variables[omitted]
    sandbox.reset_calls()
    rc, output, recap = run_playbook(ROLE_PLAY, variables)
    assert rc != 0 and "missing required arguments: %s" % omitted in output, output
    assert sandbox.calls()["total"] == 0


def test_bad_credentials_are_refused_before_any_change(sandbox):
    net = Network(cidr="10.63.0.0/16")
    sandbox.reset_calls()
    sandbox.add_fault("*", error="AuthFailure", count=1, message="AWS was not able to validate the provided access credentials")
    try:
        rc, output, recap = run_playbook(SAME_REGION, scenario_vars(net))
    finally:
        sandbox.clear_faults()
    assert rc != 0 and "AWS rejected the credentials" in output, output
    assert mutating_calls(sandbox.calls()["calls"]) == {}
