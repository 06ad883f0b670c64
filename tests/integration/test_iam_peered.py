"""docs/iam/peered_region_*.json, enforced: the peered_region playbook as two IAM users.

The endpoint account's user holds peered_region_endpoint_account.json; another account's user,
whose keys are that Agent VPC's aws options, holds peered_region_agent_account.json. Every
request must be allowed and stay within the two policies. (The playbook is too slow to repeat
per action; test_iam.py proves the removal of each action for the endpoints' scenarios.)
"""

import json
import os

import boto3
import pytest

from conftest import Network, run_playbook
from test_iam import User, policy, policy_actions
from test_peered_region import OTHER_ACCOUNT_KEYS, PLAYBOOK, scenario

OPTIONAL = {"iam:ListAccountAliases"}  # asked for by amazon.aws.aws_caller_info, which does without it


@pytest.fixture
def enforcing(sandbox):
    """IAM enforced on this worker's sandbox for the test."""
    sandbox.set_enforce_iam(True)
    yield sandbox
    sandbox.set_enforce_iam(False)


def test_peered_region_playbook_runs_with_exactly_the_policies_of_both_accounts(enforcing):
    endpoint_user = User("iam-peered-endpoint-account")
    endpoint_user.hold(policy("peered_region_endpoint_account"))
    other_iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id=OTHER_ACCOUNT_KEYS["access_key"],
                             aws_secret_access_key=OTHER_ACCOUNT_KEYS["secret_key"])
    other_iam.create_user(UserName="iam-peered-agent-account")
    other_iam.put_user_policy(UserName="iam-peered-agent-account", PolicyName="datadog-privatelink",
                              PolicyDocument=json.dumps(policy("peered_region_agent_account")))
    key = other_iam.create_access_key(UserName="iam-peered-agent-account")["AccessKey"]

    endpoint = Network(cidr="10.164.0.0/16")
    eu = Network(region="eu-west-1", cidr="10.165.0.0/16", zones=("a",))
    other = Network(region="eu-west-1", cidr="10.166.0.0/16", zones=("a",), account_keys=OTHER_ACCOUNT_KEYS)
    other.other_account = True
    variables = scenario(endpoint, [eu, other])
    variables["peering_agent_vpcs"][1]["aws"] = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    saved = {k: os.environ.get(k) for k in endpoint_user.keys}
    os.environ.update(endpoint_user.keys)
    try:
        rc, output, recap = run_playbook(PLAYBOOK, variables)
    finally:
        os.environ.update(saved)
    # aws_caller_info (peering role) asks for the account alias and goes on without it: no policy grants it.
    decisions = [d for d in enforcing.iam_decisions() if "/iam-peered-" in d["principal"]
                 and d["action"] not in OPTIONAL]
    refused = [d for d in decisions if not d["allowed"]]
    assert rc == 0 and not refused, (refused, output[-3000:])
    used = {"endpoint": set(), "agent": set()}
    for decision in decisions:
        used["agent" if decision["principal"].endswith("/iam-peered-agent-account") else "endpoint"].add(decision["action"])
    assert used["endpoint"] <= set(policy_actions(policy("peered_region_endpoint_account")))
    assert used["agent"] <= set(policy_actions(policy("peered_region_agent_account")))
