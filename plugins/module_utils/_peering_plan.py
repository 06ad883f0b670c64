# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure planning of VPC peering: connections, exact routes, TCP 443 rules, overlaps.

Private to this collection (vpc_peerings and vpc_routes); no AWS call here, so every rule is
unit-tested on plain dictionaries shaped as the EC2 API answers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

# Connection states in which a connection joins two VPCs (or is about to).
LIVE_STATES = ("initiating-request", "pending-acceptance", "provisioning", "active")
PENDING_STATES = ("initiating-request", "pending-acceptance")
# Stands for the id of a connection check mode would request.
PLACEHOLDER_ID = "pcx-to-be-requested"
# Value of the rule-owner tag of the TCP 443 rules written for peered Agent VPCs.
RULE_OWNER = "datadog-privatelink:peering"
HTTPS_PORT = 443


def rule_description(vpc_id):
    """The description of the TCP 443 rule written for one peer (a label for people)."""
    return "Datadog Agents in peered VPC %s (datadog_privatelink.aws)" % vpc_id


def tags_of(resource):
    return dict((t["Key"], t["Value"]) for t in resource.get("Tags") or [])


def ownership(connection):
    """created, adopted, or None for a connection this collection does not hold."""
    tags = tags_of(connection)
    if tags.get(catalog.OWNER_TAG_KEY) != catalog.OWNER_TAG_VALUE:
        return None
    # Connections tagged before the ownership tag existed were all requested by this collection.
    return tags.get(catalog.OWNERSHIP_TAG_KEY, catalog.OWNERSHIP_CREATED)


def wanted_tags(user_tags, name, mark):
    tags = dict(user_tags or {})
    tags.setdefault("Name", name)
    tags[catalog.OWNER_TAG_KEY] = catalog.OWNER_TAG_VALUE
    tags[catalog.OWNERSHIP_TAG_KEY] = mark
    return tags


def live(connections):
    return [c for c in connections if c.get("Status", {}).get("Code") in LIVE_STATES]


def joining(connections, vpc_a, vpc_b):
    """The live connection joining two VPCs (either side requester), the active one first."""
    found = [c for c in live(connections)
             if set((c["RequesterVpcInfo"]["VpcId"], c["AccepterVpcInfo"]["VpcId"])) == set((vpc_a, vpc_b))]
    found.sort(key=lambda c: (c["Status"]["Code"] != "active", c["VpcPeeringConnectionId"]))
    return found[0] if found else None


def other_side(connection, vpc_id):
    """The VpcInfo of the side of a connection that is not vpc_id."""
    if connection["RequesterVpcInfo"]["VpcId"] == vpc_id:
        return connection["AccepterVpcInfo"]
    return connection["RequesterVpcInfo"]


def associated_blocks(vpc):
    """The IPv4 CIDR blocks associated with a VPC (DescribeVpcs item)."""
    blocks = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet") or []
              if a.get("CidrBlockState", {}).get("State") == "associated"]
    return blocks or ([vpc["CidrBlock"]] if vpc.get("CidrBlock") else [])


def _overlap(a, b):
    return ipaddress.ip_network(a, strict=False).overlaps(ipaddress.ip_network(b, strict=False))


def overlaps(endpoint_vpc_id, endpoint_blocks, peers):
    """Why AWS would refuse the peerings (or routes would be ambiguous), one text per pair.

    peers: dicts with vpc_id, blocks (all the VPC's blocks) and cidrs (those routed).
    """
    problems = []
    for index, peer in enumerate(peers):
        if peer["vpc_id"] == endpoint_vpc_id:
            problems.append("%s is the endpoint VPC itself" % peer["vpc_id"])
        for a in endpoint_blocks:
            for b in peer["blocks"]:
                if _overlap(a, b):
                    problems.append("endpoint VPC %s %s and Agent VPC %s %s" % (endpoint_vpc_id, a, peer["vpc_id"], b))
        for other in peers[index + 1:]:
            for a in peer["cidrs"]:
                for b in other["cidrs"]:
                    if _overlap(a, b):
                        problems.append("Agent VPC %s %s and Agent VPC %s %s" % (peer["vpc_id"], a, other["vpc_id"], b))
    return problems


def duplicates(values):
    seen, twice = set(), []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


def used_tables(tables, vpc_id):
    """Ids of the route tables of a VPC that route something: associated with a subnet, or the main one."""
    return sorted(t["RouteTableId"] for t in tables if t.get("VpcId") == vpc_id
                  and any(a.get("Main") or a.get("SubnetId") for a in t.get("Associations") or []))


def route_target(route):
    """The id a route goes through (peering connection, gateway, ...), or its state."""
    for key in sorted(route):
        if key.endswith("Id") and key not in ("DestinationPrefixListId",) and route[key]:
            return route[key]
    return route.get("State", "another route")


def dead_peering_route(route):
    """A blackhole route through a peering connection that no longer exists."""
    return route.get("State") == "blackhole" and bool(route.get("VpcPeeringConnectionId"))


def route_text(route):
    return "%s %s" % (route["route_table_id"], route["destination_cidr"])


def plan_routes(tables, wanted, present=True):
    """Which of the wanted routes to create (or delete), which are as wanted, which conflict.

    tables: DescribeRouteTables items; wanted: dicts with route_table_id, destination_cidr,
    vpc_peering_connection_id and optionally vpc_id. Returns a dict with todo, unchanged,
    conflicts (texts), missing (table ids) and wrong_vpc (texts). With present=False, todo holds
    the routes that still go through their connection (to delete).
    """
    by_id = dict((t["RouteTableId"], t) for t in tables)
    plan = dict(todo=[], unchanged=[], conflicts=[], missing=[], wrong_vpc=[])
    for route in wanted:
        table = by_id.get(route["route_table_id"])
        if table is None:
            if route["route_table_id"] not in plan["missing"]:
                plan["missing"].append(route["route_table_id"])
            continue
        if route.get("vpc_id") and table["VpcId"] != route["vpc_id"]:
            text = "%s (in %s, not %s)" % (route["route_table_id"], table["VpcId"], route["vpc_id"])
            if text not in plan["wrong_vpc"]:
                plan["wrong_vpc"].append(text)
            continue
        current = next((c for c in table.get("Routes") or []
                        if c.get("DestinationCidrBlock") == route["destination_cidr"]), None)
        ours = current is not None and current.get("VpcPeeringConnectionId") == route["vpc_peering_connection_id"]
        if ours == present:
            plan["unchanged"].append(route)
        elif present and current is not None and not dead_peering_route(current):
            plan["conflicts"].append("%s routes %s through %s" % (
                route["route_table_id"], route["destination_cidr"], route_target(current)))
        elif present and current is not None:
            # A blackhole left by a deleted peering connection: replaced (nothing reaches it anyway).
            plan["todo"].append(dict(route, replace=True))
        else:
            plan["todo"].append(route)
    return plan


def routes_through(tables, connection_ids):
    """Every IPv4 route of the tables that goes through one of the connections (to delete)."""
    return [{"route_table_id": t["RouteTableId"], "destination_cidr": r["DestinationCidrBlock"],
             "vpc_peering_connection_id": r["VpcPeeringConnectionId"], "vpc_id": t.get("VpcId")}
            for t in tables for r in t.get("Routes") or []
            if r.get("VpcPeeringConnectionId") in connection_ids and r.get("DestinationCidrBlock")]


def _admits(rule, cidr):
    """True when an ingress rule (DescribeSecurityGroupRules item) admits TCP 443 from the whole of cidr."""
    if rule.get("IsEgress") or not rule.get("CidrIpv4"):
        return False
    protocol = str(rule.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1" and not rule.get("FromPort", 0) <= HTTPS_PORT <= rule.get("ToPort", -1):
        return False
    return ipaddress.ip_network(cidr, strict=False).subnet_of(ipaddress.ip_network(rule["CidrIpv4"], strict=False))


def rule_owned(rule, peer_ids=()):
    """A rule this collection wrote for a peer: tagged, or (before tags) described as such."""
    if tags_of(rule).get(catalog.RULE_OWNER_TAG_KEY) == RULE_OWNER:
        return True
    return not rule.get("Tags") and any(rule.get("Description") == rule_description(vpc_id) for vpc_id in peer_ids)


def _is_https_from(rule, cidr):
    return (not rule.get("IsEgress") and str(rule.get("IpProtocol")) in ("tcp", "6") and rule.get("FromPort") == HTTPS_PORT
            and rule.get("ToPort") == HTTPS_PORT and rule.get("CidrIpv4") == cidr)


def plan_rules(group_rules, wanted, known_peer_ids=(), purge=True):
    """TCP 443 ingress rules of one group: to add, to revoke, as wanted, already admitted by another rule.

    group_rules: DescribeSecurityGroupRules items of the group; wanted: {cidr: peer vpc_id}.
    Only the collection's own rules are ever revoked: with purge, those whose CIDR is no longer
    wanted; without, those of the wanted CIDRs (used for removal).
    """
    plan = dict(add=[], revoke=[], unchanged=[], covered=[])
    owned = [r for r in group_rules if not r.get("IsEgress") and rule_owned(r, known_peer_ids)]
    others = [r for r in group_rules if r not in owned]
    for cidr, vpc_id in sorted(wanted.items()):
        mine = next((r for r in owned if _is_https_from(r, cidr)), None)
        if mine is not None:
            plan["unchanged"].append({"cidr": cidr, "vpc_id": vpc_id, "rule_id": mine["SecurityGroupRuleId"]})
            continue
        cover = next((r for r in others if _admits(r, cidr)), None)
        if cover is not None:
            plan["covered"].append({"cidr": cidr, "vpc_id": vpc_id, "rule_id": cover["SecurityGroupRuleId"],
                                    "by": cover["CidrIpv4"]})
            continue
        plan["add"].append({"cidr": cidr, "vpc_id": vpc_id, "description": rule_description(vpc_id)})
    kept = set(u["rule_id"] for u in plan["unchanged"])
    if purge:
        plan["revoke"] = [{"cidr": r.get("CidrIpv4"), "rule_id": r["SecurityGroupRuleId"]}
                          for r in owned if r["SecurityGroupRuleId"] not in kept]
    return plan


def removal_rules(group_rules, cidrs, peer_ids):
    """The collection's TCP 443 rules of the given CIDRs on one group (to revoke)."""
    return [{"cidr": r["CidrIpv4"], "rule_id": r["SecurityGroupRuleId"]} for r in group_rules
            if not r.get("IsEgress") and rule_owned(r, peer_ids) and r.get("CidrIpv4") in cidrs]


def ingress_permissions(additions):
    """One IpPermissions entry for TCP 443 from every CIDR to add (one call per group)."""
    return [{"IpProtocol": "tcp", "FromPort": HTTPS_PORT, "ToPort": HTTPS_PORT,
             "IpRanges": [{"CidrIp": a["cidr"], "Description": a["description"]} for a in additions]}]
