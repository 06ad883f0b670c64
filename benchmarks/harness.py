"""Shared by the benchmarks: a sandbox, fresh networks, a timed playbook run with API call counts."""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.server import start_sandbox  # noqa: E402  (needs ROOT on sys.path)

COLLECTIONS = ROOT / ".cache" / "collections"
PLAYBOOKS = ROOT / "benchmarks" / "playbooks"


def load_catalog():
    spec = importlib.util.spec_from_file_location("catalog", ROOT / "plugins" / "module_utils" / "catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sandbox(pending_seconds, region="us-east-1"):
    box = start_sandbox(port=0, pending_seconds=pending_seconds)
    os.environ.update(box.env(region))
    os.environ["AWS_DEFAULT_REGION"] = region
    return box


def fresh_network(region, cidr, zones="ab", https_from=None, keys=None):
    """A VPC with DNS attributes on, one subnet per zone, a group admitting TCP 443, its main route table.

    keys: access_key and secret_key of another account of the sandbox (default: the first one).
    """
    credentials = {"aws_access_key_id": keys["access_key"], "aws_secret_access_key": keys["secret_key"]} if keys else {}
    ec2 = boto3.client("ec2", region_name=region, **credentials)
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": True}})
    prefix = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock="%s.%d.0/24" % (prefix, i + 1), AvailabilityZone=region + zone)
               ["Subnet"]["SubnetId"] for i, zone in enumerate(zones)]
    group = ec2.create_security_group(GroupName="agents", Description="agents", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": https_from or cidr}]}])
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return {"region": region, "vpc_id": vpc_id, "subnet_ids": subnets, "security_group_ids": [group],
            "route_table_ids": [t["RouteTableId"] for t in tables], "cidr": cidr}


def run_playbook(box, playbook, variables, collections=COLLECTIONS):
    """Run a playbook once (with the collection found in `collections`); return wall time, API calls and the recap."""
    box.reset_calls()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    process = subprocess.run(["ansible-playbook", str(playbook), "-e", json.dumps(variables)],
                             capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit("%s failed:\n%s\n%s" % (playbook, process.stdout[-3000:], process.stderr[-3000:]))
    calls = box.calls()
    recap = [line for line in process.stdout.splitlines() if line.startswith("localhost") and "changed=" in line]
    return {"wall_seconds": round(wall, 2), "api_calls": calls["total"], "by_operation": calls["calls"],
            "recap": recap[-1].split(":", 1)[1].strip() if recap else ""}


def median_run(runs):
    """The run of median wall time (a no-change rerun varies by a second or so on a shared machine); all walls kept."""
    ordered = sorted(runs, key=lambda r: r["wall_seconds"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["walls"] = [r["wall_seconds"] for r in runs]
    return middle


def report(title, results, json_path):
    print(title)
    print("%-34s %-10s %8s %10s  %s" % ("approach", "run", "wall s", "API calls", "calls by operation"))
    for label, runs in results.items():
        for run_name, numbers in runs.items():
            operations = ", ".join("%s %d" % (op.split(":", 1)[1], n) for op, n in sorted(numbers["by_operation"].items()))
            if "walls" in numbers:
                operations = "median of %s s; %s" % (", ".join("%.2f" % w for w in numbers["walls"]), operations)
            print("%-34s %-10s %8.2f %10d  %s" % (label, run_name, numbers["wall_seconds"], numbers["api_calls"], operations))
    Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    Path(json_path).write_text(json.dumps({"title": title, "results": results}, indent=2))
    print("JSON: %s\n" % json_path)
