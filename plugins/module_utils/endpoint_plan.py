# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic of the vpc_endpoints module: match, plan, summarise. No AWS calls here.

Private to this collection; unit-tested in tests/unit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

# States in which an endpoint no longer serves anything: never matched, never waited on.
GONE_STATES = frozenset(("deleted", "deleting", "failed", "rejected", "expired"))
FAILED_STATES = frozenset(("failed", "rejected", "expired"))
READY_STATE = "available"


def state_of(endpoint):
    return (endpoint.get("State") or "").lower()


def tags_of(resource):
    return dict((tag["Key"], tag["Value"]) for tag in resource.get("Tags") or [])


def is_owned(endpoint):
    return tags_of(endpoint).get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE


def service_region_of(endpoint, default_region):
    return endpoint.get("ServiceRegion") or default_region


def rule_admits_https(permission):
    """True when one ingress permission lets TCP 443 in from some source."""
    protocol = str(permission.get("IpProtocol", ""))
    has_source = any(
        permission.get(key) for key in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds")
    )
    if not has_source:
        return False
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    from_port, to_port = permission.get("FromPort"), permission.get("ToPort")
    if from_port is None or to_port is None:
        return False
    return from_port <= 443 <= to_port


def group_admits_https(group):
    return any(rule_admits_https(permission) for permission in group.get("IpPermissions") or [])


def pick_endpoint(candidates):
    """Of several live endpoints for one service, keep ours first, then the most ready, then the oldest."""
    def rank(endpoint):
        return (
            0 if is_owned(endpoint) else 1,
            0 if state_of(endpoint) == READY_STATE else 1,
            str(endpoint.get("CreationTimestamp", "")),
            endpoint.get("VpcEndpointId", ""),
        )
    return sorted(candidates, key=rank)[0] if candidates else None


def match_endpoints(wanted_names, endpoints, service_region, module_region):
    """Map each wanted service name to its live endpoint (or None) and list the extra ones.

    Endpoints in a gone state (deleted, failed...) are ignored, as is an endpoint for the
    same name reached through another service region.
    """
    live = {}
    for endpoint in endpoints:
        if state_of(endpoint) in GONE_STATES or endpoint.get("VpcEndpointType", "Interface") != "Interface":
            continue
        if service_region_of(endpoint, module_region) != (service_region or module_region):
            continue
        live.setdefault(endpoint.get("ServiceName"), []).append(endpoint)
    matched, extras = {}, []
    for name in wanted_names:
        chosen = pick_endpoint(live.get(name, []))
        matched[name] = chosen
        extras.extend(e for e in live.get(name, []) if e is not chosen)
    return matched, extras


def group_ids_of(endpoint):
    return sorted(group["GroupId"] for group in endpoint.get("Groups") or [])


def modification(endpoint, subnet_ids, security_group_ids, private_dns_enabled):
    """The ModifyVpcEndpoint arguments that bring endpoint to the wanted settings ({} if none).

    security_group_ids None means "leave the groups as they are".
    """
    changes = {}
    have_subnets = set(endpoint.get("SubnetIds") or [])
    want_subnets = set(subnet_ids or [])
    if want_subnets and want_subnets != have_subnets:
        if want_subnets - have_subnets:
            changes["AddSubnetIds"] = sorted(want_subnets - have_subnets)
        if have_subnets - want_subnets:
            changes["RemoveSubnetIds"] = sorted(have_subnets - want_subnets)
    if security_group_ids is not None:
        have_groups, want_groups = set(group_ids_of(endpoint)), set(security_group_ids)
        if want_groups - have_groups:
            changes["AddSecurityGroupIds"] = sorted(want_groups - have_groups)
        if have_groups - want_groups:
            changes["RemoveSecurityGroupIds"] = sorted(have_groups - want_groups)
    if private_dns_enabled is not None and bool(endpoint.get("PrivateDnsEnabled")) != private_dns_enabled:
        changes["PrivateDnsEnabled"] = private_dns_enabled
    return changes


def apply_modification(endpoint, changes):
    """Predict the endpoint after ModifyVpcEndpoint (for check mode and diff)."""
    predicted = dict(endpoint)
    subnets = set(endpoint.get("SubnetIds") or [])
    subnets |= set(changes.get("AddSubnetIds", []))
    subnets -= set(changes.get("RemoveSubnetIds", []))
    predicted["SubnetIds"] = sorted(subnets)
    groups = set(group_ids_of(endpoint))
    groups |= set(changes.get("AddSecurityGroupIds", []))
    groups -= set(changes.get("RemoveSecurityGroupIds", []))
    predicted["Groups"] = [{"GroupId": group} for group in sorted(groups)]
    if "PrivateDnsEnabled" in changes:
        predicted["PrivateDnsEnabled"] = changes["PrivateDnsEnabled"]
    return predicted


def desired_tags(user_tags, keys, site_key, name_prefix):
    """Tags of an endpoint we own: the user's, our ownership tags and a Name."""
    tags = dict(user_tags or {})
    tags[catalog.OWNER_TAG_KEY] = catalog.OWNER_TAG_VALUE
    tags[catalog.SERVICE_TAG_KEY] = ",".join(keys)
    tags[catalog.SITE_TAG_KEY] = site_key
    if name_prefix and "Name" not in tags:
        tags["Name"] = name_prefix + "-".join(keys)
    return tags


def regional_dns_entry(endpoint):
    """The regional DNS entry (the one without an AZ in its name) of an endpoint, or None.

    Zonal entries read vpce-<id>-<suffix>-<az>.vpce-svc-...; the regional one has no AZ part.
    The private DNS name entry (when private DNS is on) is not a vpce name at all.
    """
    entries = [e for e in endpoint.get("DnsEntries") or [] if ".vpce.amazonaws.com" in (e.get("DnsName") or "")]
    if not entries:
        return None
    return sorted(entries, key=lambda e: (e["DnsName"].split(".")[0].count("-"), e["DnsName"]))[0]


def summary(endpoint, entry, service_detail=None):
    """The result of one service key: what a user or the next role needs."""
    detail = service_detail or {}
    private_dns_name = detail.get("PrivateDnsName") or entry["private_dns_name"]
    result = {
        "service_key": entry["key"],
        "title": entry["title"],
        "service_name": entry["service_name"],
        "private_dns_name": private_dns_name,
        "vpc_endpoint_id": None,
        "state": None,
        "private_dns_enabled": None,
        "dns_entries": [],
        "regional_dns_entry": None,
        "subnet_ids": [],
        "security_group_ids": [],
        "service_region": None,
        "owned": None,
        "tags": {},
    }
    if endpoint is None:
        return result
    regional = regional_dns_entry(endpoint)
    result.update(
        {
            "service_name": endpoint.get("ServiceName") or entry["service_name"],
            "vpc_endpoint_id": endpoint.get("VpcEndpointId"),
            "state": state_of(endpoint) or None,
            "private_dns_enabled": bool(endpoint.get("PrivateDnsEnabled")),
            "dns_entries": [
                {"dns_name": e.get("DnsName"), "hosted_zone_id": e.get("HostedZoneId")}
                for e in endpoint.get("DnsEntries") or []
            ],
            "regional_dns_entry": (
                {"dns_name": regional.get("DnsName"), "hosted_zone_id": regional.get("HostedZoneId")} if regional else None
            ),
            "subnet_ids": sorted(endpoint.get("SubnetIds") or []),
            "security_group_ids": group_ids_of(endpoint),
            "service_region": endpoint.get("ServiceRegion"),
            "owned": is_owned(endpoint),
            "tags": tags_of(endpoint),
        }
    )
    return result


def diff_view(endpoint):
    """The part of an endpoint that --diff shows."""
    if endpoint is None:
        return None
    return {
        "vpc_endpoint_id": endpoint.get("VpcEndpointId"),
        "service_name": endpoint.get("ServiceName"),
        "subnet_ids": sorted(endpoint.get("SubnetIds") or []),
        "security_group_ids": group_ids_of(endpoint),
        "private_dns_enabled": bool(endpoint.get("PrivateDnsEnabled")),
        "tags": tags_of(endpoint),
    }


def wait_progress(endpoints):
    """Split endpoints into (ready, pending, failed) lists of ids by state."""
    ready, pending, failed = [], [], []
    for endpoint in endpoints:
        state = state_of(endpoint)
        if state == READY_STATE:
            ready.append(endpoint["VpcEndpointId"])
        elif state in FAILED_STATES:
            failed.append(endpoint["VpcEndpointId"])
        else:
            pending.append(endpoint["VpcEndpointId"])
    return ready, pending, failed


def failure_reason(endpoint):
    error = endpoint.get("LastError") or {}
    if error:
        return "%s: %s" % (error.get("Code", "Error"), error.get("Message", ""))
    return "state %s" % state_of(endpoint)
