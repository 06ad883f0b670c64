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
# Who made the zone: "created" (this collection; it may delete it) or "adopted" (made by hand, never deleted).
OWNERSHIP_TAG_KEY = "datadog-privatelink:ownership"
CREATED = "created"
ADOPTED = "adopted"
OTHER_RUN = "other-endpoint-vpc"
CALLER_REFERENCE_PREFIX = "datadog-privatelink"
# Route53 takes a CallerReference once per account and remembers it after the zone is deleted.
MAX_GENERATIONS = 50
# Codes AWS answers when it rejects the credentials themselves (not a permission).
CREDENTIAL_ERROR_CODES = frozenset([
    "AuthFailure", "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "InvalidAccessKeyId",
    "InvalidClientTokenId", "InvalidSignatureException", "MissingAuthenticationToken", "RequestExpired",
    "SignatureDoesNotMatch", "UnrecognizedClientException",
])
CREDENTIAL_EXCEPTIONS = frozenset(["NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                                   "NoAuthTokenError", "TokenRetrievalError", "UnauthorizedSSOTokenError"])
# One tag per VPC the module associated (key suffix: the VPC id, value: its region), so that
# purge_vpcs removes only associations this collection made.
ASSOCIATED_VPC_TAG_PREFIX = "datadog-privatelink:vpc:"


def fqdn(name):
    return name.rstrip(".").lower() + "."


def bare(name):
    return name.rstrip(".").lower()


def zone_names(entries, details):
    """Map each zone name to the service keys it serves: one zone per anchor, or per direct name.

    The zone is the private DNS name AWS reports for the service (PrivateDnsName and
    PrivateDnsNames: the anchor where there is one), else the catalog's zone_name. Every
    customer-facing name of an anchor is a public CNAME to it, so its one zone covers them all
    (https://docs.datadoghq.com/agent/guide/private-link/).
    """
    by_zone = {}
    for entry in entries:
        detail = details.get(entry["service_name"]) or {}
        reported = [detail.get("PrivateDnsName")] + [n.get("PrivateDnsName") for n in detail.get("PrivateDnsNames") or []]
        for name in [n for n in reported if n] or [entry["zone_name"]]:
            keys = by_zone.setdefault(bare(name), [])
            if entry["key"] not in keys:
                keys.append(entry["key"])
    return by_zone


def legacy_zone_names(entries, by_zone):
    """{name: [keys]} of the zones earlier releases made, named after each key's host, that are no zone now.

    A private zone of a customer-facing name would hide its public CNAME to the anchor, so
    these are retired once the anchor's zone answers.
    """
    legacy = {}
    for entry in entries:
        name = bare(entry["private_dns_name"])
        if name not in by_zone:
            legacy.setdefault(name, []).append(entry["key"])
    return legacy


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


def record_view(record):
    """What --diff shows of an A record: its alias target, or its TTL and values."""
    if record is None:
        return None
    if record.get("AliasTarget"):
        return dict(record["AliasTarget"])
    return {"TTL": record.get("TTL"), "ResourceRecords": [r.get("Value") for r in record.get("ResourceRecords") or []]}


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


def zone_tags(keys, site_key, endpoint_vpc_id, ownership=CREATED):
    """The collection's tags of a zone; the owner tag marks only the zones it created."""
    tags = {
        catalog.SERVICE_TAG_KEY: ",".join(keys),
        catalog.SITE_TAG_KEY: site_key,
        ENDPOINT_VPC_TAG_KEY: endpoint_vpc_id,
        OWNERSHIP_TAG_KEY: ownership,
    }
    if ownership == CREATED:
        tags[catalog.OWNER_TAG_KEY] = catalog.OWNER_TAG_VALUE
    return tags


def collection_tag_keys(tags):
    """The keys of tags this collection writes (removed when it lets go of an adopted zone)."""
    own = (catalog.OWNER_TAG_KEY, catalog.SERVICE_TAG_KEY, catalog.SITE_TAG_KEY, ENDPOINT_VPC_TAG_KEY, OWNERSHIP_TAG_KEY)
    return sorted(k for k in tags if k in own or k.startswith(ASSOCIATED_VPC_TAG_PREFIX))


def is_ours(tags, endpoint_vpc_id):
    return tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE and tags.get(ENDPOINT_VPC_TAG_KEY) == endpoint_vpc_id


def caller_reference(name, vpc_id, generation=0):
    """The CreateHostedZone CallerReference of a zone: every run computes the same, so racing runs make one zone."""
    return "%s:%s:%s:g%d" % (CALLER_REFERENCE_PREFIX, bare(name), vpc_id, generation)


def reference_generation(reference, name, vpc_id):
    """The generation of a CallerReference made by caller_reference for this name and VPC, else None."""
    base = caller_reference(name, vpc_id, 0)[:-1]
    rest = (reference or "")[len(base):]
    if (reference or "").startswith(base) and rest.isdigit():
        return int(rest)
    return None


def ownership(tags, reference, name, endpoint_vpc_id):
    """CREATED, ADOPTED, OTHER_RUN (the collection's zone of another endpoint VPC) or None (made by hand)."""
    if reference_generation(reference, name, endpoint_vpc_id) is not None:
        return CREATED
    if tags.get(ENDPOINT_VPC_TAG_KEY) == endpoint_vpc_id:
        if tags.get(OWNERSHIP_TAG_KEY) == ADOPTED:
            return ADOPTED
        if tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE:
            return CREATED
    if tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE or tags.get(OWNERSHIP_TAG_KEY):
        return OTHER_RUN
    return None


def _vpc_list(vpcs):
    return ", ".join("%s (%s)" % (v["vpc_id"], v["region"]) for v in sorted(vpcs, key=vpc_key))


def choose_zone(name, zones, endpoint_vpc):
    """Pick the one zone that serves a name among the zones of that name on the run's VPCs.

    zones: [{zone_id, owner_account (None: this account), owner_service, ownership, vpcs,
    run_vpcs (the VPCs of this run it is associated with)}]. Returns (keep, duplicates, refusal):
    keep is the zone to use (None: create one), duplicates the other zones this collection
    created (to delete), refusal a message saying what to change, or None.
    Every run ranks the zones alike, so racing runs keep the same one.
    """
    for zone in sorted(zones, key=lambda z: z["zone_id"]):
        where = _vpc_list(zone["run_vpcs"])
        if zone.get("owner_service"):
            return None, [], (
                "The private zone %s (%s), managed by the AWS service %s, is associated with %s: an interface endpoint with "
                "private DNS already answers for this name there. Turn private DNS off on that endpoint (vpc_endpoints "
                "private_dns_enabled: false) or leave that VPC out of this run." % (name, zone["zone_id"], zone["owner_service"], where))
        if zone.get("owner_account"):
            return None, [], (
                "The private zone %s (%s) of account %s is associated with %s, so that VPC would never use this "
                "collection's zone. Disassociate it with account %s's credentials, or leave that VPC out of this run."
                % (name, zone["zone_id"], zone["owner_account"], where, zone["owner_account"]))
        if zone["ownership"] == OTHER_RUN:
            return None, [], (
                "The private zone %s (%s) serves the endpoints of another VPC (its tag %s) and is associated with %s; a "
                "VPC resolves a name through one zone only. Leave that VPC out of one of the two runs, or remove the other "
                "run's zones (state: absent with its vpc_id)." % (name, zone["zone_id"], ENDPOINT_VPC_TAG_KEY, where))
    if not zones:
        return None, [], None
    endpoint = vpc_key(endpoint_vpc)
    ranked = sorted(zones, key=lambda z: (endpoint not in set(vpc_key(v) for v in z["vpcs"]), z["ownership"] == CREATED,
                                          z["zone_id"]))
    keep, rest = ranked[0], ranked[1:]
    blocking = [z for z in rest if z["ownership"] != CREATED]
    if blocking:
        zone = blocking[0]
        return keep, [], (
            "The private zone %s (%s), not created by this collection, is associated with %s, while the zone %s serves "
            "this run; a VPC resolves a name through one zone only. Disassociate that VPC from %s (or delete that zone) "
            "and run again: this run then associates it with %s."
            % (name, zone["zone_id"], _vpc_list(zone["run_vpcs"]), keep["zone_id"], zone["zone_id"], keep["zone_id"]))
    return keep, rest, None


def credentials_problem(error):
    """A sentence when AWS rejected the credentials (or none were found), else None."""
    if type(error).__name__ in CREDENTIAL_EXCEPTIONS:
        return "no usable AWS credentials were found (%s)" % error
    code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
    if code in CREDENTIAL_ERROR_CODES:
        return "AWS rejected the credentials (%s: %s)" % (code, (error.response.get("Error") or {}).get("Message", ""))
    return None


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


def created_by_tags(tags, endpoint_vpc_id):
    """True when the tags alone say this collection created the zone for this endpoint VPC (ownership() agrees)."""
    return (tags.get(ENDPOINT_VPC_TAG_KEY) == endpoint_vpc_id and tags.get(catalog.OWNER_TAG_KEY) == catalog.OWNER_TAG_VALUE
            and tags.get(OWNERSHIP_TAG_KEY) != ADOPTED)


def zone_read_needed(tags, endpoint_vpc_id, listed, unlisted_wanted):
    """True when a zone's GetHostedZone is needed: its ownership or one of the associations that matter is unknown.

    listed: (vpc_id, region) of the VPCs whose zones were listed (their associations are known);
    unlisted_wanted: wanted VPCs whose associations only the zone itself tells (other accounts' VPCs read without credentials).
    """
    if unlisted_wanted or not created_by_tags(tags, endpoint_vpc_id):
        return True
    return any((vpc_id, region) not in listed for vpc_id, region in associated_by_us(tags).items())


def record_text(record_view_):
    """One line's worth of a record_view: its alias target, or its TTL and values."""
    if "DNSName" in record_view_:
        return "alias %s (%s)" % (record_view_["DNSName"], record_view_.get("HostedZoneId"))
    return "TTL %s %s" % (record_view_.get("TTL"), ",".join(v for v in record_view_.get("ResourceRecords") or [] if v))


def diff_lines(name, view):
    """The --diff lines of one zone from {zone_id, ownership, vpcs, record, authorizations}; none for a zone that is not there."""
    if view is None:
        return []
    lines = ["zone %s %s (%s)" % (name, view.get("zone_id") or "(to be created)", view.get("ownership") or "unmanaged")]
    lines.extend("zone %s associated with %s (%s)" % (name, vpc_id, region) for vpc_id, region in view.get("vpcs") or [])
    if view.get("record") is not None:
        lines.append("zone %s A %s" % (name, record_text(view["record"])))
    lines.extend("zone %s authorizes %s (%s)" % (name, vpc_id, region) for vpc_id, region in view.get("authorizations") or [])
    return lines
