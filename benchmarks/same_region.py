#!/usr/bin/env python
"""Benchmark: the same-region scenario with all ten us1 services against the sandbox.

Compares, in one run and on the same sandbox, the collection's vpc_endpoints (one call for
the whole set) with what users do today (amazon.aws.ec2_vpc_endpoint in a loop, wait: true).
Each is run on a fresh VPC, then run again with nothing to change. Reports wall time and the
AWS API calls the sandbox received, by operation.

    python benchmarks/same_region.py [--pending-seconds 3] [--json PATH]
"""

import argparse

from harness import PLAYBOOKS, ROOT, fresh_network, load_catalog, report, run_playbook, sandbox

REGION = "us-east-1"
SITE = "us1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending-seconds", type=float, default=3.0,
                        help="how long a new endpoint stays pending in the sandbox (AWS: up to 10 minutes)")
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "same_region.json"))
    args = parser.parse_args()

    catalog = load_catalog()
    names = sorted(catalog.group_by_service_name(catalog.service_entries(SITE)))
    box = sandbox(args.pending_seconds, REGION)
    try:
        results = {}
        for label, playbook, cidr in (
            ("collection: vpc_endpoints", "same_region_collection.yml", "10.60.0.0/16"),
            ("today: ec2_vpc_endpoint loop", "same_region_loop.yml", "10.61.0.0/16"),
        ):
            net = fresh_network(REGION, cidr)
            variables = {"bench_region": REGION, "bench_site": SITE, "bench_vpc_id": net["vpc_id"],
                         "bench_subnet_ids": net["subnet_ids"], "bench_security_group_ids": net["security_group_ids"],
                         "bench_service_names": names}
            path = PLAYBOOKS / playbook
            results[label] = {"first run": run_playbook(box, path, variables), "rerun": run_playbook(box, path, variables)}
    finally:
        box.stop()
    report("Same region, %d Datadog services (%s), sandbox pending time %.1f s" % (len(names), SITE, args.pending_seconds),
           results, args.json)


if __name__ == "__main__":
    main()
