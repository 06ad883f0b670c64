"""docs/iam/*.json, enforced: each scenario runs as an IAM user holding exactly its policy.

The sandbox authorizes that user's requests (sandbox/iam.py); the network is built with root
keys. Each scenario is the module calls of its playbook (roles/endpoints, the private-path
check), run in this process for speed, starting like a user arriving from Datadog's manual
guide: an api endpoint made by hand, with the user's own security group, is adopted.

The removal proof runs the scenario once more on a fresh VPC, and before each call it takes
away, one at a time, every action that call is first to need (in the order a full run needed
them) and expects the call to fail naming that action; then it makes the call with the whole
policy and goes on. So every action of the policy is shown to be needed, by a failure that
tells the user which permission to grant, in one pass. Cross region's policy is same
region's plus vpce:AllowMultiRegion, so its proof takes away that action only.

The peered scenario is proven by its playbook (test_iam_peered.py).
"""

import contextlib
import importlib
import io
import json
import os

import boto3
import pytest

from conftest import ROOT, Network

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:  # 2.16-2.18 read a module's arguments from basic._ANSIBLE_ARGS
    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

SITE = "datadoghq.com"
GROUP_NAME = "datadog-privatelink-endpoints"  # roles/endpoints/defaults/main.yml
MODULES = {
    "vpc_endpoints": "ansible_collections.datadog_privatelink.aws.plugins.modules.vpc_endpoints",
    "private_path_info": "ansible_collections.datadog_privatelink.aws.plugins.modules.private_path_info",
}


def policy(name):
    return json.loads((ROOT / "docs" / "iam" / (name + ".json")).read_text())


def policy_actions(document):
    return sorted({action for entry in document["Statement"] for action in entry["Action"]})


def without(document, action):
    statements = []
    for entry in document["Statement"]:
        kept = [a for a in entry["Action"] if a != action]
        if kept:
            statements.append(dict(entry, Action=kept))
    return dict(document, Statement=statements)


class User:
    """An IAM user of the sandbox's first account whose one inline policy the test sets."""

    def __init__(self, name):
        self.iam = boto3.client("iam", region_name="us-east-1")
        self.name = name
        self.iam.create_user(UserName=name)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        self.keys = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def hold(self, document):
        self.iam.put_user_policy(UserName=self.name, PolicyName="datadog-privatelink", PolicyDocument=json.dumps(document))


def run(module, args, keys):
    """Run a module in this process as that user; its result (failed or not)."""
    code = importlib.import_module(MODULES[module])
    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out):
            with contextlib.suppress(SystemExit):
                code.main()
    finally:
        for key, value in saved.items():
            os.environ[key] = value
    result = json.loads(out.getvalue())
    result.setdefault("failed", False)
    return result


def arriving_from_the_guide(region, cidr):
    """A VPC with an api endpoint made by hand (no tags, the user's own security group)."""
    net = Network(region=region, cidr=cidr)
    (api,) = catalog.service_entries(SITE, ["api"])
    cross = {"ServiceRegion": api["region"]} if region != api["region"] else {}
    net.client.create_vpc_endpoint(VpcId=net.vpc_id, ServiceName=api["service_name"], VpcEndpointType="Interface",
                                   SubnetIds=net.subnet_ids, SecurityGroupIds=[net.https_group],
                                   PrivateDnsEnabled=True, **cross)
    return net


def endpoints_scenario(net):
    """The module calls of same_region / cross_region (roles/endpoints, then the private path), present then absent."""
    common = {"region": net.region, "site": SITE, "vpc_id": net.vpc_id}
    group = {"name": GROUP_NAME, "https_ingress_cidrs": [], "https_ingress_security_group_ids": []}
    endpoints = yield "vpc_endpoints", dict(common, subnet_ids=net.subnet_ids, security_group=group,
                                            validate_https_ingress=True, private_dns_enabled=True,
                                            name_prefix="datadog-privatelink-", tags={}, purge_tags=True,
                                            purge_subnets=False, purge_security_groups=False, wait=True,
                                            wait_timeout=600)
    assert len(endpoints["adopted"]) == 1, endpoints
    assert endpoints["security_group"]["ownership"] == "created", endpoints["security_group"]
    path = yield "private_path_info", dict(common, agent_vpcs=[])
    assert path["not_private"] == [], path["summary"]
    # endpoints_state: absent
    gone = yield "vpc_endpoints", dict(common, security_group=group, state="absent", wait=True, wait_timeout=600)
    assert gone["security_group"]["deleted"], gone["security_group"]


SCENARIOS = {  # region, CIDR of the full run's VPC, CIDR of the removal proof's
    "same_region": ("us-east-1", "10.160.0.0/16", "10.162.0.0/16"),
    "cross_region": ("eu-west-1", "10.161.0.0/16", "10.163.0.0/16"),
}
# Actions each removal proof takes away. Cross region holds same region's policy plus one action
# (tests/unit/test_iam_policies.py), so only that one is taken away there: the rest is proven once.
BASE = {"cross_region": "same_region"}


@pytest.fixture(scope="module", autouse=True)
def models_read_once():
    """botocore's service models, read once for all the in-process module runs (each run makes a new session)."""
    import botocore.loaders

    original = botocore.loaders.Loader.load_service_model
    cache = {}

    def load_service_model(self, service_name, type_name, api_version=None):
        key = (service_name, type_name, api_version)
        if key not in cache:
            cache[key] = original(self, service_name, type_name, api_version)
        return cache[key]

    botocore.loaders.Loader.load_service_model = load_service_model
    yield
    botocore.loaders.Loader.load_service_model = original


@pytest.fixture(scope="module")
def enforcing(sandbox):
    """IAM enforced on this worker's sandbox while these tests run; endpoints available at once."""
    sandbox.set_enforce_iam(True)
    sandbox.set_pending_seconds(0)
    yield sandbox
    sandbox.set_enforce_iam(False)
    sandbox.set_pending_seconds(1)


def play(steps, keys):
    """Run a scenario's calls until one fails; (results, failed result or None)."""
    results = []
    try:
        module, args = next(steps)
        while True:
            result = run(module, args, keys)
            results.append((module, result))
            if result["failed"]:
                return results, result
            module, args = steps.send(result)
    except StopIteration:
        return results, None


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_runs_with_exactly_its_policy_and_needs_every_action(enforcing, scenario):
    region, cidr, fresh_cidr = SCENARIOS[scenario]
    document = policy(scenario)
    user = User("iam-" + scenario.replace("_", "-"))
    user.hold(document)

    # A full run: every call passes, and records which actions each call is first to need.
    full = arriving_from_the_guide(region, cidr)
    first_need = []  # [(call index, action)] in the order the calls needed them
    steps = endpoints_scenario(full)
    index, seen = 0, set()
    module, args = next(steps)
    while True:
        before = len(enforcing.iam_decisions())
        result = run(module, args, user.keys)
        assert not result["failed"], (module, result.get("msg"))
        for decision in enforcing.iam_decisions()[before:]:
            assert decision["allowed"], decision
            if decision["action"] not in seen:
                seen.add(decision["action"])
                first_need.append((index, decision["action"]))
        index += 1
        try:
            module, args = steps.send(result)
        except StopIteration:
            break
    unneeded = sorted(set(policy_actions(document)) - seen)
    assert not unneeded, "docs/generate_iam.py grants what %s never asks for: %s" % (scenario, unneeded)

    # The removal proof, on a fresh VPC: each action taken away before the call first to need it.
    to_prove = set(policy_actions(document)) - set(policy_actions(policy(BASE[scenario])) if scenario in BASE else [])
    fresh = arriving_from_the_guide(region, fresh_cidr)
    steps = endpoints_scenario(fresh)
    index = 0
    not_refused = []
    module, args = next(steps)
    while True:
        for _index, action in [entry for entry in first_need if entry[0] == index and entry[1] in to_prove]:
            user.hold(without(document, action))
            result = run(module, args, user.keys)
            named = action in json.dumps(result)  # Ansible prints the whole result
            if not (result["failed"] and named):
                not_refused.append("without %s, %s: %s" % (action, module, json.dumps(result)[:700]))
        user.hold(document)
        result = run(module, args, user.keys)
        assert not result["failed"], (module, result.get("msg"))
        index += 1
        try:
            module, args = steps.send(result)
        except StopIteration:
            break
    assert not not_refused, "\n".join(not_refused)
