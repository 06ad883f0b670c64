# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic of the private_zones module: which zones, which records, which associations.

Private to this collection; unit-tested in tests/unit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

ENDPOINT_VPC_TAG_KEY = "datadog-privatelink:endpoint-vpc"
# One tag per VPC the module associated (key suffix: the VPC id, value: its region), so that
# purge_vpcs removes only associations this collection made.
ASSOCIATED_VPC_TAG_PREFIX = "datadog-privatelink:vpc:"


def fqdn(name):
    return name.rstrip(".").lower() + "."


def bare(name):
    return name.rstrip(".").lower()


def zone_names(entries, details):
    """Map each zone name to the service keys it serves, and each key to its zones.

    A zone per name AWS reports for the service (PrivateDnsName and PrivateDnsNames, anchor
    names included) and per catalog host name of its keys, so that keys sharing one service
    (ap2 logs) each keep their host name.
    """
    by_zone = {}
    for entry in entries:
        detail = details.get(entry["service_name"]) or {}
        reported = [detail.get("PrivateDnsName")] + [n.get("PrivateDnsName") for n in detail.get("PrivateDnsNames") or []]
        for name in [n for n in reported if n] + [entry["private_dns_name"]]:
            keys = by_zone.setdefault(bare(name), [])
            if entry["key"] not in keys:
                keys.append(entry["key"])
    return by_zone


def alias_record(zone_name, target):
    """The A alias record of a zone's own name to the endpoint's regional DNS entry."""
    return {
        "Name": fqdn(zone_name),
        "Type": "A",
        "AliasTarget": {
            "HostedZoneId": target["hosted_zone_id"],
            "DNSName": fqdn(target["dns_name"]),
            "EvaluateTargetHealth": False,
        },
    }


def record_matches(existing, wanted):
    """True when an existing record set is the wanted alias (names compared without case or final dot)."""
    if existing is None:
        return False
    alias = existing.get("AliasTarget") or {}
    want = wanted["AliasTarget"]
    return (
        fqdn(existing.get("Name", "")) == wanted["Name"]
        and existing.get("Type") == "A"
        and alias.get("HostedZoneId") == want["HostedZoneId"]
        and fqdn(alias.get("DNSName", "")) == want["DNSName"]
        and bool(alias.get("EvaluateTargetHealth")) == want["EvaluateTargetHealth"]
    )


def zone_tags(keys, site_key, endpoint_vpc_id):
    return {
        catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE,
        catalog.SERVICE_TAG_KEY: ",".join(keys),
        catalog.SITE_TAG_KEY: site_key,
        ENDPOINT_VPC_TAG_KEY: endpoint_vpc_id,
    }


def is_ours(tags, endpoint_vpc_id):
    return tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE and tags.get(ENDPOINT_VPC_TAG_KEY) == endpoint_vpc_id


def associated_by_us(tags):
    """{vpc_id: region} of the VPCs the tags say this collection associated."""
    return dict(
        (key[len(ASSOCIATED_VPC_TAG_PREFIX):], value) for key, value in tags.items() if key.startswith(ASSOCIATED_VPC_TAG_PREFIX)
    )


def vpc_key(vpc):
    return (vpc["vpc_id"], vpc["region"])


def association_plan(current_vpcs, wanted_vpcs, endpoint_vpc, tagged, purge):
    """Return (to_associate, to_disassociate) lists of {vpc_id, region}.

    The endpoint VPC always stays. With purge, a VPC leaves only if this collection associated
    it (its tag says so) and it is no longer wanted.
    """
    current = set(vpc_key(v) for v in current_vpcs)
    wanted = set(vpc_key(v) for v in wanted_vpcs) | set([vpc_key(endpoint_vpc)])
    to_associate = [{"vpc_id": v, "region": r} for v, r in sorted(wanted - current)]
    to_disassociate = []
    if purge:
        for vpc_id, region in sorted(current - wanted):
            if tagged.get(vpc_id) == region:
                to_disassociate.append({"vpc_id": vpc_id, "region": region})
    return to_associate, to_disassociate


def zone_vpcs(hosted_zone_answer):
    """[{vpc_id, region}] from a GetHostedZone answer."""
    return [{"vpc_id": v["VPCId"], "region": v["VPCRegion"]} for v in hosted_zone_answer.get("VPCs") or []]
