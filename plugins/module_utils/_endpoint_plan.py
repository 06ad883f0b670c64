# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure logic of the vpc_endpoints module: match, plan, summarise. No AWS calls here.

Private to this collection; unit-tested in tests/unit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

# States in which an endpoint no longer serves anything: never matched, never waited on.
GONE_STATES = frozenset(("deleted", "deleting", "failed", "rejected", "expired"))
FAILED_STATES = frozenset(("failed", "rejected", "expired"))
# Ended states of an endpoint of ours that a rerun deletes and replaces.
REPLACED_STATES = frozenset(("failed", "rejected"))
READY_STATE = "available"

# Wait schedule (see poll_delay, next_poll): first look after 2 s, never more often than every 2 s, and
# never later than 10 % of the time already waited, nor than 15 s.
FIRST_POLL = 2.0
MIN_POLL = 2.0
POLL_FRACTION = 0.1
MAX_POLL = 15.0
MIN_PREDICTED_POLL = 0.5  # a predicted poll sooner than poll_delay is still this far apart


def state_of(endpoint):
    return (endpoint.get("State") or "").lower()


def tags_of(resource):
    return dict((tag["Key"], tag["Value"]) for tag in resource.get("Tags") or [])


def ownership(endpoint):
    """"created" (ours, ours to delete), "adopted" (the user's, used, never deleted) or None (foreign)."""
    tags = tags_of(endpoint)
    mark = tags.get(catalog.OWNERSHIP_TAG_KEY)
    if mark == catalog.OWNERSHIP_ADOPTED:
        return catalog.OWNERSHIP_ADOPTED
    if tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE and mark in (None, catalog.OWNERSHIP_CREATED):
        return catalog.OWNERSHIP_CREATED  # releases before the ownership tag tagged only what they created
    return None


def is_owned(endpoint):
    """True when this collection created the endpoint (and may delete it)."""
    return ownership(endpoint) == catalog.OWNERSHIP_CREATED


def private_zone_conflicts(zone_summaries, entries):
    """[(zone summary, keys)] of the private zones on the VPC named for a host an endpoint's private DNS publishes.

    zone_summaries are ListHostedZonesByVPC's HostedZoneSummaries. Zones an AWS service owns
    (those of endpoints with private DNS) are the endpoints' own, never a conflict.
    """
    keys_by_name = {}
    for entry in entries:
        keys_by_name.setdefault(entry["private_dns_name"].rstrip(".").lower(), []).append(entry["key"])
    found = []
    for zone in zone_summaries:
        if (zone.get("Owner") or {}).get("OwningService"):
            continue
        keys = keys_by_name.get((zone.get("Name") or "").rstrip(".").lower())
        if keys:
            found.append((zone, keys))
    return found


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


_OWNERSHIP_RANK = {catalog.OWNERSHIP_CREATED: 0, catalog.OWNERSHIP_ADOPTED: 1, None: 2}


def pick_endpoint(candidates):
    """Of several live endpoints for one service, keep ours (created, then adopted), then the oldest."""
    def rank(endpoint):
        return (
            _OWNERSHIP_RANK[ownership(endpoint)],
            str(endpoint.get("CreationTimestamp", "")),
            endpoint.get("VpcEndpointId", ""),
        )
    return sorted(candidates, key=rank)[0] if candidates else None


def _reaches(endpoint, service_region, module_region):
    return (endpoint.get("VpcEndpointType", "Interface") == "Interface"
            and service_region_of(endpoint, module_region) == (service_region or module_region))


def ended_endpoints(wanted_names, endpoints, service_region, module_region):
    """Endpoints of the wanted services that ended failed or rejected (replaced on rerun when ours)."""
    return [e for e in endpoints if e.get("ServiceName") in wanted_names and state_of(e) in REPLACED_STATES
            and _reaches(e, service_region, module_region)]


def generation(endpoints, name, service_region, module_region):
    """The newest endpoint of a service that no longer serves (deleted, failed...), or "0".

    Two runs reading the same VPC agree on it, so they agree on the ClientToken; after a
    failed or deleted endpoint it changes, so its replacement gets a new token.
    """
    gone = [e for e in endpoints if e.get("ServiceName") == name and state_of(e) in GONE_STATES
            and _reaches(e, service_region, module_region)]
    if not gone:
        return "0"
    newest = sorted(gone, key=lambda e: (str(e.get("CreationTimestamp", "")), e.get("VpcEndpointId", "")))[-1]
    return newest.get("VpcEndpointId") or "0"


def client_token(vpc_id, name, service_region, generation_id):
    """Deterministic CreateVpcEndpoint ClientToken (EC2 allows 64 ASCII characters)."""
    seed = "|".join((vpc_id, name, service_region or "", generation_id))
    return "datadog-privatelink-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def poll_delay(elapsed):
    """Seconds until the next DescribeVpcEndpoints poll, given the seconds already waited.

    Only the moment the slowest endpoint becomes available matters, and it is unknown:
    seconds in the sandbox, about 1-3 minutes on AWS. Polling every max(2 s, 10 % of the
    time waited) returns within 2 s (or 10 %) of that moment, whatever it is, for a number
    of calls that grows with the log of the wait, one call for all endpoints each time:
    5 polls for 10 s, 15 for 30 s, 22 for one minute, 34 for three (about one call per
    5 s, far below EC2's Describe rate limits). A growing factor (x1.6 before) keeps calls
    few but overshoots by 60 %. At most 15 s apart, so the timeout is kept to within 15 s.
    """
    if elapsed <= 0:
        return FIRST_POLL
    return min(MAX_POLL, max(MIN_POLL, POLL_FRACTION * elapsed))


def next_poll(elapsed, pending_ages, newly_ready_ages):
    """Seconds until the next poll: poll_delay, stretched by what the endpoints' creation times tell.

    Ages are creation times relative to now (negative). AWS provisions the endpoints of one
    run in about the same time, so they turn available in the order, and over the time
    span, they were created in. Until one is seen available, the interval is poll_delay
    plus that span: the poll that first sees one still sees the last one pending (or sees
    it less than poll_delay late), and one more poll, then, is enough. Once some turn
    available, now minus the creation of the youngest of them bounds the provisioning
    time; the last pending one should be ready that long after its own creation. Polling
    then, rather than every 2 s until then, saves calls; an estimate further than 3
    intervals away is not trusted (AWS's provisioning times vary), so a poll is never more
    than 3 intervals late.
    """
    delay = poll_delay(elapsed)
    if not pending_ages:
        return delay
    if not newly_ready_ages:
        return delay + min(delay, max(pending_ages) - min(pending_ages))  # the span, at most one more interval
    provisioning = -max(newly_ready_ages)
    predicted = max(pending_ages) + provisioning
    if 0 < predicted <= 3 * delay:
        return max(MIN_PREDICTED_POLL, predicted)
    return delay


def match_endpoints(wanted_names, endpoints, service_region, module_region):
    """Map each wanted service name to its live endpoint (or None) and list the extra ones.

    Endpoints in a gone state (deleted, failed...) are ignored, as is an endpoint for the
    same name reached through another service region.
    """
    live = {}
    for endpoint in endpoints:
        if state_of(endpoint) in GONE_STATES or not _reaches(endpoint, service_region, module_region):
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


def zone_conflicts(endpoint, subnet_ids, subnet_zones):
    """Wanted subnets that cannot be added without purging: the endpoint has another subnet in their AZ.

    Returns {wanted subnet: the endpoint's subnet in that zone}. subnet_zones maps subnet ids to AZs.
    """
    have = set(endpoint.get("SubnetIds") or [])
    zone_of_have = dict((subnet_zones.get(s), s) for s in have if subnet_zones.get(s))
    conflicts = {}
    for subnet in subnet_ids or []:
        other = zone_of_have.get(subnet_zones.get(subnet))
        if subnet not in have and other and other not in (subnet_ids or []):
            conflicts[subnet] = other
    return conflicts


def modification(endpoint, subnet_ids, security_group_ids, private_dns_enabled,
                 purge_subnets=False, purge_security_groups=False, subnet_zones=None):
    """The ModifyVpcEndpoint arguments that bring endpoint to the wanted settings ({} if none).

    What is asked for is added; what else the endpoint has is removed only when purging.
    A wanted subnet whose AZ the endpoint already covers is added only when purging (one
    subnet per AZ). security_group_ids None means "leave the groups as they are".
    """
    changes = {}
    have_subnets = set(endpoint.get("SubnetIds") or [])
    want_subnets = set(subnet_ids or [])
    if want_subnets:
        add = want_subnets - have_subnets
        if not purge_subnets:
            add -= set(zone_conflicts(endpoint, subnet_ids, subnet_zones or {}))
        if add:
            changes["AddSubnetIds"] = sorted(add)
        if purge_subnets and have_subnets - want_subnets:
            changes["RemoveSubnetIds"] = sorted(have_subnets - want_subnets)
    if security_group_ids is not None:
        have_groups, want_groups = set(group_ids_of(endpoint)), set(security_group_ids)
        if want_groups - have_groups:
            changes["AddSecurityGroupIds"] = sorted(want_groups - have_groups)
        if purge_security_groups and have_groups - want_groups:
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


def desired_tags(user_tags, keys, site_key, name_prefix, mark=catalog.OWNERSHIP_CREATED):
    """Tags of an endpoint we hold: the user's, our ownership tags and (created only) a Name."""
    tags = dict(user_tags or {})
    tags[catalog.OWNER_TAG_KEY] = catalog.OWNER_TAG_VALUE
    tags[catalog.OWNERSHIP_TAG_KEY] = mark
    tags[catalog.SERVICE_TAG_KEY] = ",".join(keys)
    tags[catalog.SITE_TAG_KEY] = site_key
    if mark == catalog.OWNERSHIP_CREATED and name_prefix and "Name" not in tags:
        tags["Name"] = name_prefix + "-".join(keys)
    return tags


def our_tag_keys():
    """The tags that mark an endpoint as held by this collection (removed when handing one back)."""
    return [catalog.OWNER_TAG_KEY, catalog.OWNERSHIP_TAG_KEY, catalog.SERVICE_TAG_KEY, catalog.SITE_TAG_KEY]


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
        "ownership": None,
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
            "ownership": ownership(endpoint),
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
