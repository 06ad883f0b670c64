#!/usr/bin/env python
"""Benchmark: the peered-region scenario against the sandbox.

1. The whole peered_region playbook (endpoints without private DNS, peering to three Agent VPCs
   in two regions and two accounts, ten zones with alias records and associations), first run
   and no-change rerun, side by side: this checkout, and the collection at a reference commit
   (default 0.2.0's peering role planned in Jinja, --reference) on networks of their own.
2. Its DNS part alone, the collection's private_zones against what users do today
   (amazon.aws.route53_zone and amazon.aws.route53 in loops), first run and rerun.

    python benchmarks/peered_region.py [--pending-seconds 3] [--reruns 3] [--reference COMMIT] [--json PATH]

Last figures (README.md, "Performance"), load average about 0.7 on 2 cores: this version first run
18.6 s / 186 API calls, rerun (median of three) 9.4 s / 73; the reference (bbb5a94) 59.2 s / 325 and
35.7 s / 245. The version before the endpoints' group moved into vpc_endpoints made 198 and 99 calls
(25.3 s and 14.5 s).
"""

import argparse
import subprocess
import tempfile
from pathlib import Path

from harness import PLAYBOOKS, ROOT, fresh_network, load_catalog, median_run, report, run_playbook, sandbox

from sandbox.server import access_key_for

REGION = "us-east-1"
SITE = "us1"
OTHER_ACCOUNT = "222222222222"
OTHER_KEYS = {"access_key": access_key_for(OTHER_ACCOUNT), "secret_key": "bench"}
# The last commit whose peering role planned in Jinja (before vpc_peerings).
REFERENCE = "bbb5a94"


def reference_collections(commit, into):
    """The collection at `commit`, unpacked where ansible-playbook finds it."""
    target = Path(into) / "ansible_collections" / "datadog_privatelink" / "aws"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return Path(into)


def scenario(octet):
    """Endpoint VPC in us-east-1; Agent VPCs in eu-west-1, ap-northeast-1 and eu-west-1 of another account."""
    endpoint = fresh_network(REGION, "10.%d.0.0/16" % octet)
    agents = [fresh_network("eu-west-1", "10.%d.0.0/16" % (octet + 1), zones="a"),
              fresh_network("ap-northeast-1", "10.%d.0.0/16" % (octet + 2), zones="a"),
              fresh_network("eu-west-1", "10.%d.0.0/16" % (octet + 3), zones="a", keys=OTHER_KEYS)]
    peers = [{"vpc_id": a["vpc_id"], "region": a["region"], "route_table_ids": a["route_table_ids"]} for a in agents]
    peers[2].update(account_id=OTHER_ACCOUNT, aws=OTHER_KEYS)
    return {"endpoints_site": SITE, "endpoints_vpc_id": endpoint["vpc_id"], "endpoints_subnet_ids": endpoint["subnet_ids"],
            "peering_endpoint_route_table_ids": endpoint["route_table_ids"], "peering_agent_vpcs": peers}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending-seconds", type=float, default=3.0)
    parser.add_argument("--reruns", type=int, default=3, help="no-change reruns of the playbook; the median is reported")
    parser.add_argument("--reference", default=REFERENCE, help="commit of the collection to compare with ('' to skip)")
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "peered_region.json"))
    args = parser.parse_args()
    catalog = load_catalog()
    box = sandbox(args.pending_seconds, REGION)
    results = {}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            approaches = [("collection: peered_region playbook", None, 100)]
            if args.reference:
                approaches.append(("at %s: peered_region playbook" % args.reference,
                                   reference_collections(args.reference, scratch), 130))
            for label, collections, octet in approaches:
                variables = scenario(octet)
                playbook = "datadog_privatelink.aws.peered_region"
                extra = {"collections": collections} if collections else {}
                results[label] = {"first run": run_playbook(box, playbook, variables, **extra),
                                  "rerun": median_run([run_playbook(box, playbook, variables, **extra)
                                                       for _ in range(args.reruns)])}

        # The DNS part alone, each approach on its own endpoint VPC (private DNS off) and Agent VPCs.
        for label, book, octet in (("collection: private_zones", "peered_zones_collection.yml", 110),
                                   ("today: route53_zone + route53 loops", "peered_zones_loop.yml", 120)):
            net = fresh_network(REGION, "10.%d.0.0/16" % octet)
            vpcs = [fresh_network("eu-west-1", "10.%d.0.0/16" % (octet + 1), zones="a"),
                    fresh_network("ap-northeast-1", "10.%d.0.0/16" % (octet + 2), zones="a")]
            run_playbook(box, PLAYBOOKS / "same_region_collection.yml", {
                "bench_region": REGION, "bench_site": SITE, "bench_vpc_id": net["vpc_id"], "bench_subnet_ids": net["subnet_ids"],
                "bench_security_group_ids": net["security_group_ids"], "bench_private_dns": False})  # the zones publish the names
            variables = {
                "bench_region": REGION, "bench_site": SITE, "bench_vpc_id": net["vpc_id"],
                "bench_agent_vpcs": [{"vpc_id": v["vpc_id"], "region": v["region"]} for v in vpcs],
                "bench_agent_vpcs_for_route53_zone": [{"id": v["vpc_id"], "region": v["region"]} for v in vpcs],
                "bench_hosts": [{"host": e["private_dns_name"], "service_name": e["service_name"]}
                                for e in catalog.service_entries(SITE)],
            }
            results[label] = {"first run": run_playbook(box, PLAYBOOKS / book, variables),
                              "rerun": run_playbook(box, PLAYBOOKS / book, variables)}
    finally:
        box.stop()
    report("Peered region, %d Datadog services (%s), 3 Agent VPCs in 2 regions and 2 accounts, sandbox pending time %.1f s"
           % (len(catalog.SERVICE_KEYS), SITE, args.pending_seconds), results, args.json)


if __name__ == "__main__":
    main()
