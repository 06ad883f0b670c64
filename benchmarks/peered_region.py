#!/usr/bin/env python
"""Benchmark: the peered-region scenario against the sandbox.

1. The whole playbooks/peered_region.yml (endpoints without private DNS, peering to two Agent
   VPCs in two regions, ten zones with alias records and associations), first run and rerun.
2. Its DNS part alone, the collection's private_zones against what users do today
   (amazon.aws.route53_zone and amazon.aws.route53 in loops), first run and rerun.

    python benchmarks/peered_region.py [--pending-seconds 3] [--json PATH]
"""

import argparse

from harness import PLAYBOOKS, ROOT, fresh_network, load_catalog, report, run_playbook, sandbox

REGION = "us-east-1"
SITE = "us1"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending-seconds", type=float, default=3.0)
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "peered_region.json"))
    args = parser.parse_args()
    catalog = load_catalog()
    box = sandbox(args.pending_seconds, REGION)
    results = {}
    try:
        endpoint = fresh_network(REGION, "10.100.0.0/16")
        agents = [fresh_network("eu-west-1", "10.101.0.0/16", zones="a"), fresh_network("ap-northeast-1", "10.102.0.0/16", zones="a")]
        scenario = {
            "endpoints_site": SITE, "endpoints_vpc_id": endpoint["vpc_id"], "endpoints_subnet_ids": endpoint["subnet_ids"],
            "peering_endpoint_route_table_ids": endpoint["route_table_ids"],
            "peering_agent_vpcs": [{"vpc_id": a["vpc_id"], "region": a["region"], "route_table_ids": a["route_table_ids"]}
                                   for a in agents],
        }
        playbook = ROOT / "playbooks" / "peered_region.yml"
        results["collection: peered_region playbook"] = {
            "first run": run_playbook(box, playbook, scenario), "rerun": run_playbook(box, playbook, scenario)}

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
    report("Peered region, %d Datadog services (%s), 2 Agent VPCs in 2 regions, sandbox pending time %.1f s"
           % (len(catalog.SERVICE_KEYS), SITE, args.pending_seconds), results, args.json)


if __name__ == "__main__":
    main()
