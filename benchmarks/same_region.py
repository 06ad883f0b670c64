#!/usr/bin/env python
"""Benchmark: the same-region scenario with all ten us1 services against the sandbox.

Compares, in one run and on the same sandbox, the collection's vpc_endpoints (one call for
the whole set, one polling loop) with what users do today (amazon.aws.ec2_vpc_endpoint in a
loop, then ec2_vpc_endpoint_info until all are available). Each is run on a fresh VPC, then
run again with nothing to change. Reports wall time, the wait overhead (how long after the
slowest endpoint became available the playbook returned, process exit included) and the AWS
API calls the sandbox received, by operation ("DVE" counts every DescribeVpcEndpoints: the
collection's one read of existing endpoints and its polls; the loop's per-item reads and polls).

    python benchmarks/same_region.py [--pending-seconds 10] [--json PATH]
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from harness import COLLECTIONS, PLAYBOOKS, ROOT, fresh_network, load_catalog, sandbox

REGION = "us-east-1"
SITE = "us1"


def ready_times(vpc_id):
    """When each endpoint of the VPC became (or becomes) available, on this process's monotonic clock."""
    from moto.ec2 import ec2_backends  # the sandbox runs in this process

    backend = ec2_backends["123456789012"][REGION]
    return [e.__dict__["_sandbox_ready_at"] for e in backend.vpc_end_points.values()
            if e.vpc_id == vpc_id and "_sandbox_ready_at" in e.__dict__]


def run(box, playbook, variables, first):
    box.reset_calls()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    process = subprocess.run(["ansible-playbook", str(playbook), "-e", json.dumps(variables)],
                             capture_output=True, text=True, env=env, check=False)
    end = time.monotonic()
    if process.returncode != 0:
        raise SystemExit("%s failed:\n%s\n%s" % (playbook, process.stdout[-3000:], process.stderr[-3000:]))
    calls = box.calls()
    ready = ready_times(variables["bench_vpc_id"])
    recap = [line for line in process.stdout.splitlines() if line.startswith("localhost") and "changed=" in line]
    return {
        "wall_seconds": round(end - start, 2),
        # Only meaningful on the first run: the playbook's end minus the slowest endpoint's availability.
        "wait_overhead_seconds": round(end - max(ready), 2) if first and ready else None,
        "api_calls": calls["total"],
        "polls": calls["calls"].get("ec2:DescribeVpcEndpoints", 0),
        "by_operation": calls["calls"],
        "recap": recap[-1].split(":", 1)[1].strip() if recap else "",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending-seconds", type=float, default=10.0,
                        help="how long a new endpoint stays pending in the sandbox (AWS: about 1-3 minutes)")
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "same_region.json"))
    args = parser.parse_args()

    catalog = load_catalog()
    names = sorted(catalog.group_by_service_name(catalog.service_entries(SITE)))
    box = sandbox(args.pending_seconds, REGION)
    try:
        results = {}
        for label, playbook, cidr in (
            ("collection: vpc_endpoints", "same_region_collection.yml", "10.60.0.0/16"),
            ("today: ec2_vpc_endpoint + _info loop", "same_region_loop.yml", "10.61.0.0/16"),
        ):
            net = fresh_network(REGION, cidr)
            variables = {"bench_region": REGION, "bench_site": SITE, "bench_vpc_id": net["vpc_id"],
                         "bench_subnet_ids": net["subnet_ids"], "bench_security_group_ids": net["security_group_ids"],
                         "bench_service_names": names}
            path = PLAYBOOKS / playbook
            results[label] = {"first run": run(box, path, variables, True), "rerun": run(box, path, variables, False)}
    finally:
        box.stop()
    title = "Same region, %d Datadog services (%s), sandbox pending time %.1f s" % (len(names), SITE, args.pending_seconds)
    print(title)
    print("%-38s %-10s %7s %11s %6s %6s  %s" % ("approach", "run", "wall s", "overhead s", "calls", "DVE", "calls by operation"))
    for label, runs in results.items():
        for run_name, numbers in runs.items():
            operations = ", ".join("%s %d" % (op.split(":", 1)[1], n) for op, n in sorted(numbers["by_operation"].items()))
            overhead = "%.2f" % numbers["wait_overhead_seconds"] if numbers["wait_overhead_seconds"] is not None else "-"
            print("%-38s %-10s %7.2f %11s %6d %6d  %s" % (label, run_name, numbers["wall_seconds"], overhead,
                                                         numbers["api_calls"], numbers["polls"], operations))
    ours, theirs = (runs["first run"]["wait_overhead_seconds"] for runs in results.values())
    print("wait overhead: vpc_endpoints %.2f s, amazon.aws loop %.2f s (ratio %.2f)" % (ours, theirs, ours / theirs))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"title": title, "results": results}, indent=2))
    print("JSON: %s" % args.json)


if __name__ == "__main__":
    main()
