"""Integration fixtures: a sandbox per pytest worker, a fresh VPC per test, module runners.

Modules run as real processes that talk HTTP to the sandbox, exactly as Ansible runs them
on the controller; playbooks run through ansible-playbook.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import pytest

from sandbox.server import start_sandbox

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
MUTATING_PREFIXES = ("Create", "Modify", "Delete", "Authorize", "Revoke", "Associate", "Disassociate", "Change")


@pytest.fixture(scope="session")
def sandbox():
    box = start_sandbox(port=0, pending_seconds=1)
    env = box.env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield box
    box.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


OTHER_ACCOUNT = "222222222222"
OTHER_ACCOUNT_KEYS = {"access_key": "AKIASBOX" + OTHER_ACCOUNT, "secret_key": "testing"}  # the sandbox maps it to that account


def ec2(region="us-east-1", account_keys=None):
    if account_keys:
        return boto3.client("ec2", region_name=region, aws_access_key_id=account_keys["access_key"],
                            aws_secret_access_key=account_keys["secret_key"])
    return boto3.client("ec2", region_name=region)


class Network:
    """A fresh VPC with one subnet per AZ and a security group admitting TCP 443."""

    def __init__(self, region="us-east-1", cidr="10.40.0.0/16", zones=("a", "b"), account_keys=None):
        self.region = region
        self.client = ec2(region, account_keys)
        self.vpc_id = self.client.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):  # private DNS needs both
            self.client.modify_vpc_attribute(VpcId=self.vpc_id, **{attribute: {"Value": True}})
        prefix = cidr.rsplit(".", 2)[0]
        self.subnet_ids = [
            self.client.create_subnet(VpcId=self.vpc_id, CidrBlock="%s.%d.0/24" % (prefix, i + 1),
                                      AvailabilityZone=region + zone)["Subnet"]["SubnetId"]
            for i, zone in enumerate(zones)
        ]
        self.https_group = self.security_group("agents-https", https=True)
        self.closed_group = self.security_group("closed", https=False)

    def security_group(self, name, https):
        group_id = self.client.create_security_group(GroupName=name, Description=name, VpcId=self.vpc_id)["GroupId"]
        port = 443 if https else 80
        self.client.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
        )
        return group_id

    def endpoints(self, live_only=True):
        found = self.client.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]}])["VpcEndpoints"]
        if live_only:
            found = [e for e in found if e["State"].lower() not in ("deleted", "deleting")]
        return found

    def args(self, **extra):
        base = {"region": self.region, "site": "us1", "vpc_id": self.vpc_id, "subnet_ids": self.subnet_ids,
                "security_group_ids": [self.https_group]}
        base.update(extra)
        return base


@pytest.fixture
def network(sandbox):
    return Network()


def run_module(name, args, check=False, diff=False):
    """Run a module of this collection as Ansible does (a process reading its args file)."""
    payload = dict(args)
    payload["_ansible_check_mode"] = check
    payload["_ansible_diff"] = diff
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": payload}, handle)
    try:
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        process = subprocess.run(
            [sys.executable, "-m", "ansible_collections.datadog_privatelink.aws.plugins.modules." + name, handle.name],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )
    finally:
        os.unlink(handle.name)
    try:
        result = json.loads(process.stdout)
    except ValueError:
        raise AssertionError("module printed no JSON:\n%s\n%s" % (process.stdout, process.stderr))
    result.setdefault("failed", False)
    return result


def mutating_calls(calls):
    return {op: n for op, n in calls.items() if op.split(":", 1)[1].startswith(MUTATING_PREFIXES)}


def run_playbook(playbook, extra_vars=None, check=False, diff=False, extra_args=()):
    """Run ansible-playbook; return (rc, stdout, recap dict of localhost)."""
    command = ["ansible-playbook", str(playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    command += list(extra_args)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    process = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=600, check=False)
    recap = {}
    for line in process.stdout.splitlines():
        if line.startswith("localhost") and "ok=" in line:
            recap = dict(part.split("=") for part in line.split(":", 1)[1].split())
            recap = {key: int(value) for key, value in recap.items()}
    return process.returncode, process.stdout + process.stderr, recap
