"""Route53 cross-account VPC association and the refusals of AWS that moto does not model.

Handled at the WSGI layer before moto: CreateVPCAssociationAuthorization,
ListVPCAssociationAuthorizations, DeleteVPCAssociationAuthorization, the checks of
AssociateVPCWithHostedZone / DisassociateVPCFromHostedZone across accounts, and
ListHostedZonesByVPC across accounts. CreateHostedZone and AssociateVPCWithHostedZone refuse
what AWS refuses: a repeated CallerReference (HostedZoneAlreadyExists, even after the zone
was deleted) and a second private zone of one name on one VPC (ConflictingDomainExists).
The middleware holds LOCK around these checks and moto's change, so racing clients see them.
Authorizations and used caller references live in control.STATE (cleared by reset).
"""

import re
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from moto.ec2 import ec2_backends
from moto.route53.models import route53_backends

from sandbox.control import STATE, error_response

NS = "https://route53.amazonaws.com/doc/2013-04-01/"
LOCK = threading.RLock()
_CREATE_PATH = "/2013-04-01/hostedzone"
_PATH = re.compile(
    r"^/2013-04-01/hostedzone/(?P<zone>[^/]+)/"
    r"(?P<verb>authorizevpcassociation|deauthorizevpcassociation|associatevpc|disassociatevpc)/?$"
)


def _error(code, message, status):
    return error_response("route53", code, message, status)


def _ok(root_name, inner_xml):
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="%s">%s</%s>' % (root_name, NS, inner_xml, root_name)
    body = body.encode("utf-8")
    return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4())),
                 ("Content-Length", str(len(body)))], body


def _child_text(node, *path):
    """Text of a descendant (with or without the Route53 namespace), or None."""
    for tag in path:
        if node is None:
            return None
        found = node.find("{%s}%s" % (NS, tag))
        node = found if found is not None else node.find(tag)
    return node.text if node is not None else None


def _vpc_from_body(body):
    root = ET.fromstring(body)
    return _child_text(root, "VPC", "VPCRegion"), _child_text(root, "VPC", "VPCId")


def _bare(name):
    return (name or "").rstrip(".").lower()


def _zone_on_vpc(name, vpc_id, other_than=None):
    """The private zone (of any account) named name and associated with vpc_id, or None."""
    for _account_id, account in list(route53_backends.items()):
        for zone in account["aws"].zones.values():
            if (zone.private_zone and zone.resource_id != other_than and _bare(zone.name) == _bare(name)
                    and any(v.get("vpc_id") == vpc_id for v in zone.vpcs)):
                return zone
    return None


def _create_request(body):
    """(name, caller reference, vpc region, vpc id) of a CreateHostedZone body."""
    root = ET.fromstring(body)
    return (_child_text(root, "Name"), _child_text(root, "CallerReference"),
            _child_text(root, "VPC", "VPCRegion"), _child_text(root, "VPC", "VPCId"))


def _used_references(caller):
    with STATE.lock:
        used = set(STATE.caller_references.get(caller, ()))
    account = route53_backends[caller]["aws"] if caller in route53_backends else None
    if account is not None:
        used.update(zone.caller_reference for zone in account.zones.values())
    return used


def check_create(body, caller):
    """CreateHostedZone: AWS's refusals that moto lacks, or None to let moto create the zone."""
    name, reference, _region, vpc_id = _create_request(body)
    if reference in _used_references(caller):
        return _error("HostedZoneAlreadyExists",
                      "A hosted zone has already been created with the specified caller reference.", 409)
    if vpc_id:
        zone = _zone_on_vpc(name, vpc_id)
        if zone is not None:
            return _error("ConflictingDomainExists",
                          "A hosted zone with the name %s is already associated with the VPC %s (zone %s)."
                          % (_bare(name), vpc_id, zone.resource_id), 400)
    return None


def after_moto(method, path, body, caller):
    """Remember the caller reference of a zone moto just created (AWS never takes it again)."""
    if method != "POST" or path.rstrip("/") != _CREATE_PATH or not body:
        return
    _name, reference, _region, _vpc_id = _create_request(body)
    account = route53_backends[caller]["aws"] if caller in route53_backends else None
    if account is not None and any(z.caller_reference == reference for z in account.zones.values()):
        with STATE.lock:
            STATE.caller_references.setdefault(caller, set()).add(reference)


def _zone_owner(zone_id):
    """(account id, zone) of a hosted zone in any account, or (None, None)."""
    for account_id, account in list(route53_backends.items()):
        zone = account["aws"].zones.get(zone_id)
        if zone is not None:
            return account_id, zone
    return None, None


def _vpc_owner(vpc_region, vpc_id):
    for account_id, account in list(ec2_backends.items()):
        if vpc_region in account and vpc_id in account[vpc_region].vpcs:
            return account_id
    return None


def _vpc_xml(region, vpc_id):
    return "<VPC><VPCRegion>%s</VPCRegion><VPCId>%s</VPCId></VPC>" % (region, vpc_id)


def _change_info(comment=None):
    submitted = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    change_id = "C" + uuid.uuid4().hex[:20].upper()
    xml = "<ChangeInfo><Id>/change/%s</Id><Status>INSYNC</Status><SubmittedAt>%s</SubmittedAt>" % (change_id, submitted)
    if comment:
        xml += "<Comment>%s</Comment>" % comment
    return xml + "</ChangeInfo>"


def list_zones_by_vpc(query, caller):
    """ListHostedZonesByVPC: every account's private zones the VPC is associated with (moto: the caller's only)."""
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    vpc_id, region = params.get("vpcid"), params.get("vpcregion")
    owner = _vpc_owner(region, vpc_id)
    if owner is None:
        return _error("InvalidVPCId", "The VPC ID '%s' in region %s is not valid." % (vpc_id, region), 400)
    if owner != caller:
        return _error("AccessDenied", "The VPC %s does not belong to the caller's account." % vpc_id, 403)
    summaries = []
    for account_id, account in sorted(route53_backends.items()):
        for zone in account["aws"].zones.values():
            if zone.private_zone and any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
                summaries.append("<HostedZoneSummary><HostedZoneId>%s</HostedZoneId><Name>%s</Name>"
                                 "<Owner><OwningAccount>%s</OwningAccount></Owner></HostedZoneSummary>"
                                 % (zone.resource_id, zone.name, account_id))
    return _ok("ListHostedZonesByVPCResponse", "<HostedZoneSummaries>%s</HostedZoneSummaries><MaxItems>100</MaxItems>"
               % "".join(summaries))


def handle(method, path, body, caller, query=""):
    """Answer a Route53 request that moto gets wrong; None lets moto answer it."""
    if method == "GET" and path.rstrip("/") == "/2013-04-01/hostedzonesbyvpc":
        return list_zones_by_vpc(query, caller)
    if method == "POST" and path.rstrip("/") == _CREATE_PATH:
        return check_create(body, caller)
    match = _PATH.match(path)
    if not match:
        return None
    zone_id, verb = match.group("zone"), match.group("verb")
    owner, zone = _zone_owner(zone_id)

    if verb == "authorizevpcassociation" and method == "GET":  # ListVPCAssociationAuthorizations
        if owner != caller:
            return _error("NoSuchHostedZone", "No hosted zone found with ID: %s" % zone_id, 404)
        with STATE.lock:
            vpcs = list(STATE.authorizations.get(zone_id, []))
        inner = "<HostedZoneId>%s</HostedZoneId><VPCs>%s</VPCs>" % (
            zone_id, "".join(_vpc_xml(v["VPCRegion"], v["VPCId"]) for v in vpcs))
        return _ok("ListVPCAssociationAuthorizationsResponse", inner)

    if method != "POST":
        return None
    region, vpc_id = _vpc_from_body(body)

    if verb in ("authorizevpcassociation", "deauthorizevpcassociation"):
        if owner != caller:
            return _error("NoSuchHostedZone", "No hosted zone found with ID: %s" % zone_id, 404)
        if not zone.private_zone:
            return _error("InvalidInput", "Hosted zone %s is not a private hosted zone." % zone_id, 400)
        wanted = {"VPCRegion": region, "VPCId": vpc_id}
        with STATE.lock:
            vpcs = STATE.authorizations.setdefault(zone_id, [])
            if verb == "authorizevpcassociation":
                if wanted not in vpcs:
                    vpcs.append(wanted)
                return _ok("CreateVPCAssociationAuthorizationResponse",
                           "<HostedZoneId>%s</HostedZoneId>%s" % (zone_id, _vpc_xml(region, vpc_id)))
            if wanted not in vpcs:
                return _error("VPCAssociationAuthorizationNotFound",
                              "The VPC: %s was not authorized to be associated with the hosted zone: %s"
                              % (vpc_id, zone_id), 404)
            vpcs.remove(wanted)
        return _ok("DeleteVPCAssociationAuthorizationResponse", "")

    # associatevpc / disassociatevpc
    if owner is None:
        return None  # moto answers NoSuchHostedZone
    vpc_owner = _vpc_owner(region, vpc_id)
    if vpc_owner is None:
        return _error("InvalidVPCId", "The VPC ID '%s' in region %s is not valid." % (vpc_id, region), 400)
    if verb == "associatevpc" and not (owner == caller == vpc_owner):
        with STATE.lock:
            authorized = {"VPCRegion": region, "VPCId": vpc_id} in STATE.authorizations.get(zone_id, [])
        # Only the VPC's owner can associate it, and only once the zone's owner authorized it.
        if caller != vpc_owner or not authorized:
            return _error("NotAuthorizedException",
                          "The VPC: %s you provided is not authorized to make the association." % vpc_id, 401)
    if verb == "associatevpc":
        if any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
            return _error("ConflictingDomainExists",
                          "The VPC %s is already associated with the hosted zone %s." % (vpc_id, zone_id), 400)
        other = _zone_on_vpc(zone.name, vpc_id, other_than=zone.resource_id)
        if other is not None:
            return _error("ConflictingDomainExists",
                          "The VPC %s is already associated with another hosted zone named %s (%s)."
                          % (vpc_id, _bare(zone.name), other.resource_id), 400)
    if owner == caller == vpc_owner:
        return None  # same account, checks passed: moto's own code is right
    if verb == "associatevpc":
        zone.add_vpc(vpc_id, region)
        return _ok("AssociateVPCWithHostedZoneResponse", _change_info())
    # disassociatevpc: either account may remove the association.
    if caller not in (owner, vpc_owner):
        return _error("NoSuchHostedZone", "No hosted zone found with ID: %s" % zone_id, 404)
    if not any(v.get("vpc_id") == vpc_id for v in zone.vpcs):
        return _error("VPCAssociationNotFound",
                      "The specified VPC %s is not associated with the hosted zone %s" % (vpc_id, zone_id), 404)
    if len(zone.vpcs) <= 1:
        return _error("LastVPCAssociation",
                      "The VPC that you're trying to disassociate from the private hosted zone is the last "
                      "VPC that is associated with the hosted zone.", 400)
    zone.delete_vpc(vpc_id)
    return _ok("DisassociateVPCFromHostedZoneResponse", _change_info())
