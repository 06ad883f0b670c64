# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where an Agent VPC's traffic to a Datadog name goes, decided from AWS's state without I/O.

Private to this collection (used by ``private_path_info``); not a public API.

It answers as the Route 53 Resolver answers inside the Agent VPC (a private hosted zone
associated with the VPC wins, then the private DNS of an endpoint in the VPC, else the public
answer) and as VPC networking decides reachability (peering connection active, a route both
ways through it, the endpoint's security group admitting TCP 443 from the Agent VPC).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def _net(cidr):
    return ipaddress.ip_network(cidr, strict=False)


def zone_for(name, zones):
    """The most specific zone (dict with Name) whose name is the name or a parent of it."""
    name = name.rstrip(".").lower()
    best = None
    for zone in zones:
        zone_name = zone["Name"].rstrip(".").lower()
        if name == zone_name or name.endswith("." + zone_name):
            if best is None or len(zone_name) > len(best["Name"].rstrip(".")):
                best = zone
    return best


def endpoint_of_alias(dns_name, endpoints):
    """The endpoint whose DnsEntries hold the alias target."""
    target = (dns_name or "").rstrip(".").lower()
    for endpoint in endpoints:
        if any(entry.get("DnsName", "").rstrip(".").lower() == target for entry in endpoint.get("DnsEntries", [])):
            return endpoint
    return None


def _matches(name, pattern):
    pattern = (pattern or "").rstrip(".").lower()
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) and name.count(".") == pattern.count(".")
    return name == pattern


def answer(name, zones, records, endpoints_here, all_endpoints, private_dns_names):
    """How the resolver of a VPC answers name.

    zones: zones associated with the VPC; records: {zone id: A record set of name or None};
    endpoints_here: alive endpoints in the VPC; all_endpoints: every endpoint an alias may target;
    private_dns_names: {service name: [private DNS names]}.
    Returns dict(kind=private_zone|no_record|endpoint_private_dns|public, zone, endpoint).
    """
    name = name.rstrip(".").lower()
    zone = zone_for(name, zones)
    if zone is not None:
        record = records.get(zone["Id"])
        if not record:
            return {"kind": "no_record", "zone": zone, "endpoint": None}
        alias = record.get("AliasTarget")
        endpoint = endpoint_of_alias(alias["DNSName"], all_endpoints) if alias else None
        return {"kind": "private_zone", "zone": zone, "endpoint": endpoint, "record": record}
    for endpoint in endpoints_here:
        if endpoint.get("PrivateDnsEnabled") and any(
                _matches(name, n) for n in private_dns_names.get(endpoint["ServiceName"], [])):
            return {"kind": "endpoint_private_dns", "zone": None, "endpoint": endpoint}
    return {"kind": "public", "zone": None, "endpoint": None}


def best_route(table, address):
    """The route of a table that carries traffic to address (longest prefix), or None."""
    ip = ipaddress.ip_address(address)
    best = None
    for route in table.get("Routes", []):
        cidr = route.get("DestinationCidrBlock")
        if not cidr or route.get("State") == "blackhole":
            continue
        net = _net(cidr)
        if ip.version == net.version and ip in net and (best is None or net.prefixlen > _net(best["DestinationCidrBlock"]).prefixlen):
            best = route
    return best


def tables_serving(tables, subnet_ids=None):
    """The route tables that serve the given subnets (explicit association, else the main table)."""
    main = [t for t in tables if any(a.get("Main") for a in t.get("Associations", []))]
    explicit = {}
    for table in tables:
        for association in table.get("Associations", []):
            if association.get("SubnetId"):
                explicit[association["SubnetId"]] = table
    if subnet_ids is None:
        served = [t for t in tables if t in main or any(a.get("SubnetId") for a in t.get("Associations", []))]
        return served or tables
    chosen = []
    for subnet in subnet_ids:
        table = explicit.get(subnet) or (main[0] if main else None)
        if table is not None and table not in chosen:
            chosen.append(table)
    return chosen


def _admits(rule, port, cidr):
    protocol = str(rule.get("IpProtocol"))
    if protocol not in ("-1", "tcp", "6"):
        return False
    if protocol != "-1" and not (rule.get("FromPort", 0) <= port <= rule.get("ToPort", 65535)):
        return False
    want = _net(cidr)
    return any(want.version == _net(r["CidrIp"]).version and want.subnet_of(_net(r["CidrIp"]))
               for r in rule.get("IpRanges", []))


def ingress_problem(groups, port, cidr):
    """None when one of the groups admits TCP port from all of cidr; else what is missing."""
    if any(_admits(rule, port, cidr) for group in groups for rule in group.get("IpPermissions", [])):
        return None
    referencing = [p["GroupId"] for g in groups for r in g.get("IpPermissions", []) for p in r.get("UserIdGroupPairs", [])]
    tail = (" (rules admit only members of %s)" % ", ".join(sorted(set(referencing)))) if referencing else ""
    return ("the endpoint's security groups (%s) admit no TCP %d from %s%s: add that ingress rule"
            % (", ".join(g["GroupId"] for g in groups) or "none", port, cidr, tail))


def route_problems(tables, address, peering_id, vpc_id, destination):
    """Routes of the tables that do not carry traffic to address through the peering connection."""
    problems = []
    for table in tables:
        route = best_route(table, address)
        if route is None or route.get("VpcPeeringConnectionId") != peering_id:
            via = "no route" if route is None else "its route goes through %s" % (
                route.get("VpcPeeringConnectionId") or route.get("GatewayId") or route.get("NatGatewayId")
                or route.get("TransitGatewayId") or "another target")
            problems.append("route table %s of %s has %s to %s, not one through %s"
                            % (table["RouteTableId"], vpc_id, via, destination, peering_id))
    return problems
