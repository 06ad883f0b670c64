"""IAM authorization of requests signed by an IAM user's (or assumed role's) keys, when enabled.

Opt-in per sandbox (``--enforce-iam``, ``start_sandbox(enforce_iam=True)`` or
``POST /_sandbox/config {"enforce_iam": true}``). Keys that belong to no IAM user or role
(``testing``, ``AKIASBOX<account>``) act as the account's root and are never refused, so a test
builds its network as root and runs the collection as a user holding only a policy.

moto's own enforcement (INITIAL_NO_AUTH_ACTION_COUNT) is not used: it is process-wide, answers
Route53 with a bare 403 whatever the policy, and treats an Allow with a Condition as a Deny.

Evaluated as AWS does for identity policies: an explicit Deny wins, else an Allow is needed.
Action and NotAction (wildcards, any case), Effect, and the Condition operators StringEquals,
StringLike and their ForAnyValue forms on these keys:
  aws:RequestTag/<key>  the tags of the request (TagSpecification, Tags)
  aws:ResourceTag/<key> the EC2 tags of the resource named in the request (one check per resource)
  ec2:CreateAction      the creating action, for the ec2:CreateTags a tagged create implies
Resource elements are not matched (every statement applies to every resource), so the check
proves which actions a scenario needs, not how far their resources can be narrowed.

Besides each request's own action, AWS checks these (and so does the sandbox):
  tags at creation (TagSpecification)          ec2:CreateTags, with ec2:CreateAction
  CreateVpcEndpoint with another ServiceRegion vpce:AllowMultiRegion
  private DNS on an interface endpoint         route53:AssociateVPCWithHostedZone
sts:GetCallerIdentity needs no permission (AWS allows it even under an explicit Deny).
"""

import fnmatch
import json
import re
from urllib.parse import parse_qs

from sandbox.control import STATE

ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}
# EC2 parameters that name the resource an aws:ResourceTag condition is checked on.
_RESOURCE_PARAMS = re.compile(r"^(VpcEndpointId\.\d+|GroupId|VpcPeeringConnectionId|ResourceId\.\d+)$")
_TAG_SPEC = re.compile(r"^TagSpecification\.\d+\.Tag\.(\d+)\.(Key|Value)$")
_TAG = re.compile(r"^Tag\.(\d+)\.(Key|Value)$")  # CreateTags, DeleteTags


def principal(account_id, access_key, headers):
    """(arn, policy documents) of an IAM user's or assumed role's key; None for root keys."""
    from moto.iam.access_control import AssumedRoleAccessKey, CreateAccessKeyFailure, IAMUserAccessKey

    for kind in (IAMUserAccessKey, AssumedRoleAccessKey):
        try:
            key = kind(account_id, "aws", access_key, headers)
        except (CreateAccessKeyFailure, KeyError):
            continue
        documents = []
        for policy in key.collect_policies():
            if isinstance(policy, str):
                documents.append(json.loads(policy))
            elif isinstance(policy, dict):
                documents.append(json.loads(policy["policy_document"]))
            else:  # a managed policy object
                version = next(v for v in policy.versions if v.is_default)
                documents.append(json.loads(version.document) if isinstance(version.document, str) else version.document)
        return key.arn, documents
    return None


def _listed(value):
    return value if isinstance(value, list) else [value]


def _matches(patterns, value):
    return any(fnmatch.fnmatchcase(value.lower(), pattern.lower()) for pattern in _listed(patterns))


def _condition_holds(condition, context):
    for operator, entries in condition.items():
        any_value = operator.startswith("ForAnyValue:")
        base = operator.split(":", 1)[-1]
        if base not in ("StringEquals", "StringLike"):
            return False  # an operator the sandbox cannot evaluate never grants
        for key, wanted in entries.items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            actual = _listed(actual)
            test = (lambda a: a in _listed(wanted)) if base == "StringEquals" else (lambda a: _matches(wanted, a))
            if not (any(map(test, actual)) if any_value else all(map(test, actual))):
                return False
    return True


def decide(documents, action, context):
    """'allow', 'deny' (explicit) or None (no statement allows)."""
    allowed = False
    for document in documents:
        for statement in _listed(document.get("Statement", [])):
            if "NotAction" in statement:
                concerned = not _matches(statement["NotAction"], action)
            else:
                concerned = _matches(statement.get("Action", []), action)
            if not concerned or not _condition_holds(statement.get("Condition", {}), context):
                continue
            if statement.get("Effect") == "Deny":
                return "deny"
            allowed = True
    return "allow" if allowed else None


def _form(environ, body):
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        query.update(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {key: values[0] for key, values in query.items()}


def _request_tags(form, pattern=_TAG_SPEC):
    keys, values = {}, {}
    for name, value in form.items():
        match = pattern.match(name)
        if match:
            (keys if match.group(2) == "Key" else values)[match.group(1)] = value
    return {keys[n]: values.get(n, "") for n in keys}


def _resource_tags(account_id, region, resource_id):
    from moto.ec2 import ec2_backends

    backends = dict.get(ec2_backends, account_id)  # never create an account or region to answer
    backend = dict.get(backends, region) if backends is not None else None
    return dict(backend.tags.get(resource_id, {})) if backend is not None else {}


def required(service, operation, form, region):
    """[(action, extra context)] the request needs: its own action and those AWS checks with it."""
    action = "%s:%s" % (service, operation)
    needed = [(action, {})]
    if service != "ec2":
        return needed
    tags = _request_tags(form)
    if tags:
        needed.append(("ec2:CreateTags", {"ec2:createaction": operation}))
    if operation == "CreateVpcEndpoint":
        if form.get("ServiceRegion") and form["ServiceRegion"] != region:
            needed.append(("vpce:AllowMultiRegion", {}))
        interface = form.get("VpcEndpointType") == "Interface"
        if interface and form.get("PrivateDnsEnabled", "true").lower() == "true":
            needed.append(("route53:AssociateVPCWithHostedZone", {}))
    if operation == "ModifyVpcEndpoint" and form.get("PrivateDnsEnabled", "").lower() == "true":
        needed.append(("route53:AssociateVPCWithHostedZone", {}))
    return needed


def authorize(environ, body, service, operation, account_id, access_key, region):
    """None when allowed, else (code, message, status) of AWS's refusal. Records every decision."""
    if not STATE.enforce_iam:
        return None
    found = principal(account_id, access_key, {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                                               if k.startswith("HTTP_")})
    if found is None:
        return None  # the account's root
    arn, documents = found
    form = _form(environ, body) if service == "ec2" else {}
    tags = _request_tags(form) or _request_tags(form, _TAG)
    base = {"aws:requesttag/%s" % k.lower(): v for k, v in tags.items()}
    resources = [v for k, v in form.items() if _RESOURCE_PARAMS.match(k)]
    for action, extra in required(service, operation, form, region):
        if action in ALWAYS_ALLOWED:
            continue
        contexts = []
        for resource_id in resources or [None]:
            context = dict(base, **extra)
            if resource_id:
                context.update({"aws:resourcetag/%s" % k.lower(): v
                                for k, v in _resource_tags(account_id, region, resource_id).items()})
            contexts.append(context)
        verdicts = [decide(documents, action, context) for context in contexts]
        allowed = all(v == "allow" for v in verdicts)
        STATE.record_authorization(arn, action, allowed, operation)
        if not allowed:
            why = ("with an explicit deny in an identity-based policy" if "deny" in verdicts
                   else "because no identity-based policy allows the %s action" % action)
            message = "User: %s is not authorized to perform: %s %s" % (arn, action, why)
            if service == "ec2":
                return "UnauthorizedOperation", "You are not authorized to perform this operation. " + message, 403
            return "AccessDenied", message, 403
    return None
