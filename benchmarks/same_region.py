#!/usr/bin/env python
"""Benchmark: the same-region scenario with all ten us1 services against the sandbox.

Compares, in one run and on the same sandbox, the collection's vpc_endpoints (one call for
the whole set) with what users do today (amazon.aws.ec2_vpc_endpoint in a loop, wait: true).
Each is run on a fresh VPC, then run again with nothing to change. Reports wall time and the
AWS API calls the sandbox received, by operation.

    python benchmarks/same_region.py [--pending-seconds 3] [--json PATH]
"""

import argparse
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
REGION = "us-east-1"
SITE = "us1"


def load_catalog():
    import importlib.util

    spec = importlib.util.spec_from_file_location("catalog", ROOT / "plugins" / "module_utils" / "catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fresh_network(cidr):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": True}})
    prefix = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc_id, CidrBlock="%s.%d.0/24" % (prefix, i + 1), AvailabilityZone=REGION + zone)
               ["Subnet"]["SubnetId"] for i, zone in enumerate("ab")]
    group = ec2.create_security_group(GroupName="agents", Description="agents", VpcId=vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr}]}])
    return {"bench_region": REGION, "bench_site": SITE, "bench_vpc_id": vpc_id, "bench_subnet_ids": subnets,
            "bench_security_group_ids": [group]}


def run(sandbox, playbook, variables):
    sandbox.reset_calls()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    process = subprocess.run(["ansible-playbook", str(playbook), "-e", json.dumps(variables)],
                             capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit("%s failed:\n%s\n%s" % (playbook, process.stdout[-3000:], process.stderr[-3000:]))
    calls = sandbox.calls()
    changed = [line for line in process.stdout.splitlines() if line.startswith("localhost") and "changed=" in line]
    return {"wall_seconds": round(wall, 2), "api_calls": calls["total"], "by_operation": calls["calls"],
            "recap": changed[-1].split(":", 1)[1].strip() if changed else ""}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending-seconds", type=float, default=3.0,
                        help="how long a new endpoint stays pending in the sandbox (AWS: up to 10 minutes)")
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "same_region.json"))
    args = parser.parse_args()

    catalog = load_catalog()
    names = sorted(catalog.group_by_service_name(catalog.service_entries(SITE)))
    sandbox = start_sandbox(port=0, pending_seconds=args.pending_seconds)
    os.environ.update(sandbox.env(REGION))
    os.environ["AWS_DEFAULT_REGION"] = REGION
    try:
        results = {}
        for label, playbook, cidr in (
            ("collection: vpc_endpoints", "same_region_collection.yml", "10.60.0.0/16"),
            ("today: ec2_vpc_endpoint loop", "same_region_loop.yml", "10.61.0.0/16"),
        ):
            variables = fresh_network(cidr)
            variables["bench_service_names"] = names
            path = ROOT / "benchmarks" / "playbooks" / playbook
            results[label] = {"first run": run(sandbox, path, variables), "rerun": run(sandbox, path, variables)}
    finally:
        sandbox.stop()

    print("Same region, %d Datadog services (%s), sandbox pending time %.1f s" % (len(names), SITE, args.pending_seconds))
    print("%-30s %-10s %8s %10s  %s" % ("approach", "run", "wall s", "API calls", "calls by operation"))
    for label, runs in results.items():
        for run_name, numbers in runs.items():
            operations = ", ".join("%s %d" % (op.split(":", 1)[1], n) for op, n in sorted(numbers["by_operation"].items()))
            print("%-30s %-10s %8.2f %10d  %s" % (label, run_name, numbers["wall_seconds"], numbers["api_calls"], operations))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"pending_seconds": args.pending_seconds, "results": results}, indent=2))
    print("JSON: %s" % args.json)


if __name__ == "__main__":
    main()
