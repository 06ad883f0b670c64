"""What AWS would decide, computed from a sandbox snapshot (aws_state.Reader.snapshot).

Pure functions, no I/O: the layout of the namespaces, the Route 53 Resolver's answer in a
VPC, and the nftables rules that let through what routes, peering and security groups admit.
"""

import ipaddress
import re

from sandbox.datadog import catalog
from twin import paths
from twin.aws_state import LIVE_ENDPOINT_STATES, TwinError, datadog_domains

MAX_CNAME_DEPTH = 8


# --- layout: addresses of each namespace (fixed at `twin up`) --------------------------------

def layout(snap, vpc_ids, agent_groups=None):
    """{vpc id: {namespace, cidr, resolver, agent, agent_subnet, transit index, addresses, agent_group}}."""
    vpcs = [snap["vpcs"][v] for v in sorted(vpc_ids) if v in snap["vpcs"]]
    missing = sorted(set(vpc_ids) - set(snap["vpcs"]))
    if missing:
        raise TwinError("VPC(s) %s are not in the sandbox (any more)." % ", ".join(missing))
    networks = [(ipaddress.ip_network(v["cidr"]), v["id"]) for v in vpcs]
    for i, (net_a, id_a) in enumerate(networks):
        for net_b, id_b in networks[i + 1:]:
            if net_a.overlaps(net_b):
                raise TwinError("VPCs %s (%s) and %s (%s) overlap: the twin joins every VPC of the scenario through "
                                "one router, so their CIDRs must be distinct (as AWS requires for peering); "
                                "leave one out or give it another CIDR." % (id_a, net_a, id_b, net_b))
        if net_a.overlaps(ipaddress.ip_network(paths.PUBLIC_NET)) or net_a.overlaps(ipaddress.ip_network(paths.TRANSIT_NET)):
            raise TwinError("VPC %s (%s) overlaps the twin's own ranges %s / %s."
                            % (id_a, net_a, paths.PUBLIC_NET, paths.TRANSIT_NET))
    out = {}
    for index, vpc in enumerate(vpcs, start=1):
        if not vpc["subnets"]:
            raise TwinError("VPC %s has no subnet: the Agent host needs one." % vpc["id"])
        enis = endpoint_addresses(snap, vpc["id"])
        subnet = vpc["subnets"][0]
        taken = set(enis)
        hosts = ipaddress.ip_network(subnet["cidr"]).hosts()
        agent = None
        for number, host in enumerate(hosts, start=1):
            if number >= paths.AGENT_HOST_NUMBER and str(host) not in taken:
                agent = str(host)
                break
        resolver = str(ipaddress.ip_network(vpc["cidr"]).network_address + 2)
        group = (agent_groups or {}).get(vpc["id"])
        out[vpc["id"]] = {
            "namespace": paths.namespace(vpc["id"]), "cidr": vpc["cidr"], "region": vpc["region"],
            "account": vpc["account"], "name": vpc["name"], "resolver": resolver, "agent": agent,
            "agent_subnet": subnet["id"], "index": index, "agent_group": group,
            "addresses": sorted({agent, resolver} | set(enis), key=ipaddress.ip_address),
        }
    return out


def endpoint_addresses(snap, vpc_id):
    """{address: endpoint id} of the interface endpoints' ENIs in a VPC (any state)."""
    found = {}
    for endpoint in snap["endpoints"].values():
        if endpoint["vpc_id"] != vpc_id:
            continue
        for eni_id in endpoint["eni_ids"]:
            eni = snap["enis"].get(eni_id)
            if eni:
                found[eni["address"]] = endpoint["id"]
    return found


def live_endpoints(snap):
    return {eid: e for eid, e in snap["endpoints"].items() if e["state"] in LIVE_ENDPOINT_STATES}


def interface_addresses(snap, endpoint):
    return [snap["enis"][i]["address"] for i in endpoint["eni_ids"] if i in snap["enis"]]


# --- DNS: the Route 53 Resolver's answer inside a VPC ------------------------------------

class Answer:
    """rcode ("NOERROR"/"NXDOMAIN"), chain of (name, "CNAME", target) and final A addresses."""

    def __init__(self, rcode="NOERROR", cnames=None, addresses=None, source=""):
        self.rcode, self.cnames, self.addresses, self.source = rcode, cnames or [], addresses or [], source

    def __repr__(self):
        return "Answer(%s, %s, %s, %s)" % (self.rcode, self.cnames, self.addresses, self.source)


def _suffix(name, domain):
    return name == domain or name.endswith("." + domain)


def _wildcard(pattern, name):
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return pattern == name


def resolve(snap, vpc_id, name, public_address=paths.PUBLIC_ADDRESS, depth=0):
    """How the Route 53 Resolver of vpc_id answers an A query for name."""
    name = name.rstrip(".").lower()
    if depth > MAX_CNAME_DEPTH:
        return Answer("SERVFAIL", source="CNAME loop")
    endpoints = live_endpoints(snap)

    zones = [z for z in snap["zones"] if vpc_id in z["vpcs"] and _suffix(name, z["name"])]
    if zones:  # the most specific private zone associated with the VPC is authoritative
        zone = max(zones, key=lambda z: len(z["name"]))
        return _from_zone(snap, vpc_id, zone, name, public_address, depth, "private zone %s" % zone["name"])

    for endpoint in sorted(endpoints.values(), key=lambda e: e["id"]):
        if endpoint["vpc_id"] == vpc_id and endpoint["private_dns"] and endpoint.get("private_dns_name") \
                and _wildcard(endpoint["private_dns_name"], name):
            return Answer(addresses=interface_addresses(snap, endpoint), source="private DNS of %s" % endpoint["id"])
    return _public(snap, vpc_id, name, public_address, depth)


def _public(snap, vpc_id, name, public_address, depth):
    endpoints = live_endpoints(snap)
    for endpoint in endpoints.values():  # AWS publishes endpoint names in public DNS
        if name in endpoint["dns_names"]:
            return Answer(addresses=interface_addresses(snap, endpoint), source="endpoint name of %s" % endpoint["id"])
    zones = [z for z in snap["public_zones"] if _suffix(name, z["name"])]
    if zones:
        zone = max(zones, key=lambda z: len(z["name"]))
        return _from_zone(snap, vpc_id, zone, name, public_address, depth, "public zone %s" % zone["name"])
    for site in catalog.SITES:
        for cname in catalog.public_dns(site):
            if re.match(cname["pattern"], name):
                return _follow(snap, vpc_id, name, cname["target"], public_address, depth, "Datadog's public CNAME")
    if any(_suffix(name, domain) for domain in datadog_domains()):
        return Answer(addresses=[public_address], source="Datadog's public intake")
    return Answer("NXDOMAIN", source="public DNS")


def _follow(snap, vpc_id, name, target, public_address, depth, source):
    # A CNAME's target is resolved again in the same VPC's view: a private zone for it then wins.
    rest = resolve(snap, vpc_id, target, public_address, depth + 1)
    return Answer(rest.rcode, [(name, "CNAME", target)] + rest.cnames, rest.addresses, source + " -> " + rest.source)


def _from_zone(snap, vpc_id, zone, name, public_address, depth, source):
    records = [r for r in zone["records"] if r["name"] == name]
    if not records:
        records = [r for r in zone["records"] if r["name"].startswith("*.") and _wildcard(r["name"], name)]
    for record in records:
        if record["type"] == "A" and record["alias"]:
            target = record["alias"]
            for endpoint in live_endpoints(snap).values():
                if target in endpoint["dns_names"]:
                    return Answer(addresses=interface_addresses(snap, endpoint),
                                  source="%s alias to %s" % (source, endpoint["id"]))
            rest = resolve(snap, vpc_id, target, public_address, depth + 1)
            return Answer(rest.rcode, rest.cnames, rest.addresses, "%s alias -> %s" % (source, rest.source))
        if record["type"] == "A":
            return Answer(addresses=list(record["values"]), source=source)
        if record["type"] == "CNAME" and record["values"]:
            return _follow(snap, vpc_id, name, record["values"][0], public_address, depth, source)
    if records or any(r["name"].endswith("." + name) for r in zone["records"]):
        return Answer(source=source + " (no A record)")
    return Answer("NXDOMAIN", source=source)


# --- reachability: nftables per namespace -------------------------------------------------

def _route_for(snap, vpc_id, subnet_id, address):
    """The route of the subnet's table (or the main table) that carries address (longest prefix)."""
    tables = [t for t in snap["tables"].values() if t["vpc_id"] == vpc_id]
    table = next((t for t in tables if subnet_id in t["subnets"]), None) or next((t for t in tables if t["main"]), None)
    if table is None:
        return None
    ip = ipaddress.ip_address(address)
    best = None
    for route in table["routes"]:
        net = ipaddress.ip_network(route["dest"], strict=False)
        if ip in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, route)
    return best[1] if best else None


def _peered_path(snap, src_vpc, src_subnet, src, dst_vpc, dst_subnet, dst):
    """True when AWS would carry src -> dst between two VPCs: an active peering routed both ways."""
    there = _route_for(snap, src_vpc, src_subnet, dst)
    back = _route_for(snap, dst_vpc, dst_subnet, src)
    if not there or not back or not there["pcx"] or there["pcx"] != back["pcx"]:
        return False
    if there["state"] != "active" or back["state"] != "active":
        return False
    pcx = snap["peerings"].get(there["pcx"])
    return bool(pcx) and pcx["status"] == "active" and set(pcx["vpcs"]) == {src_vpc, dst_vpc}


def _subnet_of(snap, vpc_id, address):
    ip = ipaddress.ip_address(address)
    for subnet in snap["vpcs"][vpc_id]["subnets"]:
        if ip in ipaddress.ip_network(subnet["cidr"]):
            return subnet["id"]
    return None


def agent_group(snap, vpc_id, facts):
    """The Agent host's security group: given at `twin up`, else one tagged twin-agent-host=true now."""
    if facts.get("agent_group"):
        return facts["agent_group"]
    return next((g for g, group in sorted(snap["groups"].items()) if group["vpc_id"] == vpc_id and group["agent_host"]),
                None)


def _group_members(snap, lay):
    """{security group id: addresses} of ENIs (and Agent hosts given a group)."""
    members = {}
    for eni in snap["enis"].values():
        for group in eni["groups"]:
            members.setdefault(group, set()).add(eni["address"])
    for vpc_id, facts in lay.items():
        group = agent_group(snap, vpc_id, facts)
        if group:
            members.setdefault(group, set()).add(facts["agent"])
    return members


def _rule_matches(rule, members, direction):
    """nft match expressions for one security group rule ('saddr' for ingress, 'daddr' for egress)."""
    peers = list(rule["cidrs"])
    for group in rule["groups"]:
        peers.extend(sorted(members.get(group, ())))
    if not peers:
        return []
    match = "ip %s { %s }" % (direction, ", ".join(sorted(set(peers))))
    protocol = rule["protocol"].lower()
    protocol = {"6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol)
    if protocol in ("-1", "all"):
        return [match]
    if protocol in ("tcp", "udp"):
        low, high = rule["from"], rule["to"]
        if low is None or (low <= 0 and high >= 65535) or low == -1:
            return ["%s meta l4proto %s" % (match, protocol)]
        ports = str(low) if low == high else "%d-%d" % (low, high)
        return ["%s %s dport %s" % (match, protocol, ports)]
    if protocol == "icmp":
        return ["%s meta l4proto icmp" % match]
    return ["%s meta l4proto %s" % (match, protocol)]


def firewall(snap, lay, fabric_namespace=paths.FABRIC):
    """{namespace: nft script} enforcing peering, routes and security groups as AWS does."""
    scripts = {}
    members = _group_members(snap, lay)
    live = live_endpoints(snap)
    pairs = []
    for src_vpc, src in sorted(lay.items()):
        if src_vpc not in snap["vpcs"]:
            continue
        src_subnet = _subnet_of(snap, src_vpc, src["agent"])
        for dst_vpc in sorted(lay):
            if dst_vpc == src_vpc or dst_vpc not in snap["vpcs"]:
                continue
            for address, endpoint_id in sorted(endpoint_addresses(snap, dst_vpc).items()):
                dst_subnet = _subnet_of(snap, dst_vpc, address)
                if endpoint_id in live and _peered_path(snap, src_vpc, src_subnet, src["agent"], dst_vpc, dst_subnet, address):
                    pairs.append("%s . %s" % (src["agent"], address))
    fabric = [
        "table ip ddpl_twin", "delete table ip ddpl_twin", "table ip ddpl_twin {",
        "  chain forward {", "    type filter hook forward priority 0; policy drop;",
        "    ct state established,related accept",
        "    ip daddr %s accept comment \"the public internet\"" % paths.PUBLIC_NET,
    ]
    if pairs:
        fabric.append("    ip saddr . ip daddr { %s } accept comment \"peered, routed both ways\"" % ", ".join(pairs))
    fabric += ["  }", "}"]
    scripts[fabric_namespace] = "\n".join(fabric) + "\n"

    for vpc_id, facts in sorted(lay.items()):
        lines = ["table ip ddpl_twin", "delete table ip ddpl_twin", "table ip ddpl_twin {",
                 "  chain input {", "    type filter hook input priority 0; policy accept;",
                 "    ct state established,related accept"]
        for address, endpoint_id in sorted(endpoint_addresses(snap, vpc_id).items()):
            endpoint = live.get(endpoint_id)
            if endpoint is not None:
                eni = next((snap["enis"][i] for i in endpoint["eni_ids"]
                            if i in snap["enis"] and snap["enis"][i]["address"] == address), None)
                for group in (eni or {}).get("groups", endpoint["groups"]):
                    for rule in snap["groups"].get(group, {}).get("ingress", []):
                        for match in _rule_matches(rule, members, "saddr"):
                            lines.append("    ip daddr %s %s accept comment \"%s\"" % (address, match, group))
            lines.append("    ip daddr %s drop comment \"%s\"" % (address, endpoint_id if endpoint else "no live endpoint"))
        lines += ["  }", "  chain output {", "    type filter hook output priority 0; policy accept;",
                  "    ct state established,related accept"]
        group = agent_group(snap, vpc_id, facts)
        if group:
            agent = facts["agent"]
            # AWS's resolver at base+2 is reached whatever the security groups say.
            lines.append("    ip saddr %s ip daddr { %s, 127.0.0.0/8 } accept" % (agent, facts["resolver"]))
            for rule in snap["groups"].get(group, {}).get("egress", []):
                for match in _rule_matches(rule, members, "daddr"):
                    lines.append("    ip saddr %s %s accept comment \"%s egress\"" % (agent, match, group))
            lines.append("    ip saddr %s drop comment \"%s egress\"" % (agent, group))
        lines += ["  }", "}"]
        scripts[facts["namespace"]] = "\n".join(lines) + "\n"
    return scripts


def endpoint_of_address(snap, vpc_id, address):
    """The live endpoint whose interface holds address in vpc_id, or None."""
    endpoint_id = endpoint_addresses(snap, vpc_id).get(address)
    return live_endpoints(snap).get(endpoint_id)
