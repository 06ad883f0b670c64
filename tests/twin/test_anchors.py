"""Anchors in the twin's DNS model, for us1, ap2 and uk1: every customer-facing name resolves privately.

No root needed: the snapshots are made from the catalog in the shape aws_state.Reader.snapshot
returns, as the collection leaves them in each scenario - one endpoint per distinct service;
same region and cross region with private DNS on (AWS answers for the anchor or direct name),
peered with one private zone per anchor (private_zones' zone_plan) associated with the Agent VPC.
The names reach their anchors through Datadog's public CNAMEs (catalog.public_dns).
"""

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _zone_plan as zone_plan
from sandbox.datadog import catalog
from twin import model, paths

SITES = ("us1", "ap2", "uk1")


def vpc(vpc_id, cidr, region):
    base = cidr.rsplit(".", 2)[0]
    return {"id": vpc_id, "key": "testing", "account": "123456789012", "region": region, "cidr": cidr, "name": vpc_id,
            "subnets": [{"id": "subnet-" + vpc_id, "cidr": base + ".1.0/24", "az": region + "a"}]}


def snapshot(site, services=(catalog.ALL,)):
    """Three scenarios of a site: same-region (vpc-s), cross-region (vpc-x) and peered (vpc-e + Agent VPC vpc-a)."""
    entries = catalog.service_entries(site, list(services))
    region = entries[0]["region"]
    snap = {"vpcs": {"vpc-s": vpc("vpc-s", "10.20.0.0/16", region), "vpc-x": vpc("vpc-x", "10.30.0.0/16", "eu-west-1"),
                     "vpc-e": vpc("vpc-e", "10.40.0.0/16", region), "vpc-a": vpc("vpc-a", "10.50.0.0/16", "eu-west-1")},
            "endpoints": {}, "enis": {}, "tables": {}, "groups": {}, "peerings": {}, "zones": [], "public_zones": []}
    targets = {}
    groups = catalog.group_by_service_name(entries)
    by_key = dict((e["key"], e) for e in entries)
    for index, (service_name, keys) in enumerate(sorted(groups.items()), start=1):
        zone_name = by_key[keys[0]]["zone_name"]  # what AWS shows as the service's private DNS name
        for vpc_id, octet, private_dns in (("vpc-s", 20, True), ("vpc-x", 30, True), ("vpc-e", 40, False)):
            endpoint_id, eni_id = "vpce-%s-%d" % (vpc_id, index), "eni-%s-%d" % (vpc_id, index)
            dns_name = "%s-x.%s.vpce.amazonaws.com" % (endpoint_id, service_name.rsplit(".", 1)[-1])
            snap["endpoints"][endpoint_id] = {
                "id": endpoint_id, "vpc_id": vpc_id, "region": snap["vpcs"][vpc_id]["region"],
                "service_name": service_name, "state": "available", "service_region": region,
                "private_dns": private_dns, "private_dns_name": zone_name, "eni_ids": [eni_id],
                "dns_names": [dns_name], "groups": []}
            snap["enis"][eni_id] = {"vpc_id": vpc_id, "subnet_id": "subnet-" + vpc_id,
                                    "address": "10.%d.1.%d" % (octet, 10 + index), "groups": []}
            for key in keys:
                targets.setdefault(key, {})[vpc_id] = ["10.%d.1.%d" % (octet, 10 + index)]
            if vpc_id == "vpc-e":
                targets_dns = dns_name
        for key in keys:
            targets[key]["vpc-a"] = targets[key]["vpc-e"]
        by_key[keys[0]]["_alias"] = targets_dns
    for name, keys in zone_plan.zone_names(entries, {}).items():
        snap["zones"].append({"id": "Z-" + name, "name": name, "vpcs": ["vpc-a", "vpc-e"], "records": [
            {"name": name, "type": "A", "values": [], "alias": by_key[keys[0]]["_alias"]}]})
    return snap, entries, targets


@pytest.mark.parametrize("site", SITES)
def test_every_customer_facing_name_resolves_privately_in_every_scenario(site):
    snap, entries, targets = snapshot(site)
    checked = 0
    for entry in entries:
        names = entry["check_names"] + [catalog.agent_metrics_host(site, "7.60.0")] * (entry["key"] == "metrics")
        for name in names:
            for vpc_id in ("vpc-s", "vpc-x", "vpc-a", "vpc-e"):
                answer = model.resolve(snap, vpc_id, name)
                assert answer.addresses == targets[entry["key"]][vpc_id], (site, entry["key"], name, vpc_id, answer)
                checked += 1
    assert checked >= 4 * len(entries)
    # one zone per anchor (or direct name): no zone is named after an anchored customer-facing name
    anchored = {n for e in entries if e["anchor"] for n in e["names"]}
    assert not anchored & {z["name"] for z in snap["zones"]}


@pytest.mark.parametrize("site", SITES)
def test_a_name_goes_through_its_public_cname_to_the_anchor_zone(site):
    snap, entries, _targets = snapshot(site)
    entry = next(e for e in entries if e["key"] == "api")
    answer = model.resolve(snap, "vpc-a", entry["private_dns_name"])
    assert answer.cnames[0] == (entry["private_dns_name"], "CNAME", entry["anchor"])
    assert "private zone %s" % entry["anchor"] in answer.source


def test_us1_synthetics_rides_the_api_anchor_orchid():
    snap, entries, targets = snapshot("us1", ["api"])  # only the api service selected: its anchor covers Synthetics
    api = entries[0]
    synthetics = catalog.service_entries("us1", ["synthetics"])[0]
    assert synthetics["anchor"] == api["anchor"] and synthetics["service_name"] == api["service_name"]
    for name in synthetics["check_names"]:
        for vpc_id in ("vpc-s", "vpc-x", "vpc-a"):
            assert model.resolve(snap, vpc_id, name).addresses == targets["api"][vpc_id], (name, vpc_id)


@pytest.mark.parametrize("site", SITES)
def test_without_the_anchor_zone_the_names_are_public_in_the_peered_vpc(site):
    snap, entries, _targets = snapshot(site)
    entry = next(e for e in entries if e["key"] == "api")
    snap["zones"] = [z for z in snap["zones"] if z["name"] != entry["zone_name"]]
    for name in entry["check_names"]:
        assert model.resolve(snap, "vpc-a", name).addresses == [paths.PUBLIC_ADDRESS]


def test_a_zone_of_a_customer_facing_name_hides_the_cname_a_zone_an_earlier_release_made():
    """Why private_zones retires such zones: one of api's name without its record answers nothing."""
    snap, entries, _targets = snapshot("ap2")
    api = next(e for e in entries if e["key"] == "api")
    snap["zones"].append({"id": "Z-old", "name": api["private_dns_name"], "vpcs": ["vpc-a"], "records": []})
    assert model.resolve(snap, "vpc-a", api["private_dns_name"]).addresses == []
