"""The scenario playbooks and the endpoints role, run with ansible-playbook against the sandbox."""

from conftest import ROOT, Network, mutating_calls, run_playbook

SAME_REGION = "datadog_privatelink.aws.same_region"
CROSS_REGION = "datadog_privatelink.aws.cross_region"


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
    assert recap["changed"] == 2 and recap["failed"] == 0
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
