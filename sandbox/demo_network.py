#!/usr/bin/env python
"""The demo's VPCs, made in the sandbox with boto3 (a second each, where Ansible loops took 30 s).

Agent VPCs of the same-region and cross-region scenarios, and for the peered scenario an
endpoint VPC in the us1 site's region with three Agent VPCs (eu-west-1, ap-northeast-1, and
eu-west-1 of a second account). Idempotent: VPCs are found again by their Name tag. Writes each
scenario's variables (YAML) into the folder given.

    python sandbox/demo_network.py OUT_DIR
"""

import json
import sys
from pathlib import Path

import boto3

SITE = "datadoghq.com"
OTHER_ACCOUNT = "222222222222"
OTHER_KEYS = {"access_key": "AKIASBOX" + OTHER_ACCOUNT, "secret_key": "testing"}  # the sandbox maps it to that account
NETWORKS = [
    {"name": "same-region-agents", "region": "us-east-1", "cidr": "10.20.0.0/16", "zones": "ab"},
    {"name": "cross-region-agents", "region": "eu-west-1", "cidr": "10.30.0.0/16", "zones": "ab"},
    {"name": "peered-endpoints", "region": "us-east-1", "cidr": "10.40.0.0/16", "zones": "ab"},
    {"name": "peered-agents-eu", "region": "eu-west-1", "cidr": "10.50.0.0/16", "zones": "a"},
    {"name": "peered-agents-ap", "region": "ap-northeast-1", "cidr": "10.60.0.0/16", "zones": "a"},
    {"name": "peered-agents-other-account", "region": "eu-west-1", "cidr": "10.70.0.0/16", "zones": "a", "other": True},
]


def ensure_network(spec):
    keys = {"aws_access_key_id": OTHER_KEYS["access_key"], "aws_secret_access_key": OTHER_KEYS["secret_key"]} if spec.get("other") else {}
    ec2 = boto3.client("ec2", region_name=spec["region"], **keys)
    name = "demo-" + spec["name"]
    found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    if found:
        vpc_id = found[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(CidrBlock=spec["cidr"], TagSpecifications=[
            {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}])["Vpc"]["VpcId"]
        for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):  # private DNS and private zones need both
            ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": True}})
    subnets = {s["AvailabilityZone"]: s["SubnetId"]
               for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]}
    prefix = spec["cidr"].rsplit(".", 2)[0]
    for index, zone in enumerate(spec["zones"]):
        az = spec["region"] + zone
        if az not in subnets:
            subnets[az] = ec2.create_subnet(VpcId=vpc_id, AvailabilityZone=az,
                                            CidrBlock="%s.%d.0/24" % (prefix, index + 1))["Subnet"]["SubnetId"]
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
    return {"region": spec["region"], "vpc_id": vpc_id, "subnet_ids": [subnets[spec["region"] + z] for z in spec["zones"]],
            "route_table_ids": [t["RouteTableId"] for t in tables]}


def write(path, data):
    # JSON is YAML: ansible-playbook reads these with -e @file.
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.chmod(0o600)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    nets = {spec["name"]: ensure_network(spec) for spec in NETWORKS}
    write(out / "demo_vars.yml", {"endpoints_site": SITE, "endpoints_tags": {"environment": "demo"}})
    same, cross = nets["same-region-agents"], nets["cross-region-agents"]
    write(out / "demo_same_region.yml", {"endpoints_vpc_id": same["vpc_id"], "endpoints_subnet_ids": same["subnet_ids"]})
    write(out / "demo_cross_region.yml", {"endpoints_region": cross["region"], "endpoints_vpc_id": cross["vpc_id"],
                                          "endpoints_subnet_ids": cross["subnet_ids"]})
    endpoint = nets["peered-endpoints"]
    agents = [dict(nets[name], name=name) for name in ("peered-agents-eu", "peered-agents-ap", "peered-agents-other-account")]
    write(out / "demo_peered_region.yml", {
        "endpoints_vpc_id": endpoint["vpc_id"], "endpoints_subnet_ids": endpoint["subnet_ids"],
        "peering_endpoint_route_table_ids": endpoint["route_table_ids"],
        "peering_agent_vpcs": [
            dict({"vpc_id": a["vpc_id"], "region": a["region"], "route_table_ids": a["route_table_ids"]},
                 **({"account_id": OTHER_ACCOUNT, "aws": OTHER_KEYS} if a["name"].endswith("other-account") else {}))
            for a in agents],
    })
    for name, net in nets.items():
        print("%-28s %-15s %s  subnets %s" % (name, net["region"], net["vpc_id"], ", ".join(net["subnet_ids"])))


if __name__ == "__main__":
    main()
