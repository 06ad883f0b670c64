"""Sandbox state shared by the WSGI middleware and the moto patches.

One sandbox per process: moto's backends are process-global, so is this state.
Also here: naming the AWS operation of a request, and AWS-shaped error bodies.
"""

import collections
import re
import threading
import time
import uuid
from urllib.parse import parse_qs

import botocore.session

DEFAULT_PENDING_SECONDS = 3.0

# Real HTTP status and message of the throttling errors we inject (per AWS docs).
KNOWN_ERRORS = {
    "RequestLimitExceeded": (503, "Request limit exceeded."),  # EC2
    "Throttling": (400, "Rate exceeded"),  # Route53, STS, IAM (query/rest-xml)
    "ThrottlingException": (400, "Rate exceeded"),  # JSON protocols
    "PriorRequestNotComplete": (400, "The request was rejected because Route 53 was still processing a prior request."),
    "InternalError": (500, "An internal error has occurred"),
    "ServiceUnavailable": (503, "Service Unavailable"),
    "Unavailable": (503, "The server is overloaded or down."),
}


class SandboxState:
    """Faults, endpoint outcomes, call counts, knobs and Route53 authorizations."""

    def __init__(self):
        self.lock = threading.RLock()
        self.default_pending_seconds = DEFAULT_PENDING_SECONDS
        self.default_enforce_iam = False
        self.reset()

    def reset(self):
        with self.lock:
            self.pending_seconds = self.default_pending_seconds
            self.enforce_iam = self.default_enforce_iam
            self.calls = collections.Counter()
            self.iam_decisions = []  # {"principal", "action", "allowed", "operation"} while enforce_iam is on
            self.faults = []
            self.outcomes = {}
            # zone id (no /hostedzone/ prefix) -> list of {"VPCRegion", "VPCId"}
            self.authorizations = {}
            # Bumped by every mutating AWS call; never goes back, so a watcher sees a reset too.
            self.generation = getattr(self, "generation", 0) + 1
            # account id -> CreateHostedZone caller references used, kept after the zone is deleted
            self.caller_references = {}

    # --- call counting -------------------------------------------------------
    def count(self, service, operation):
        with self.lock:
            self.calls["%s:%s" % (service, operation)] += 1

    def record_authorization(self, principal, action, allowed, operation):
        with self.lock:
            self.iam_decisions.append({"principal": principal, "action": action, "allowed": allowed,
                                        "operation": operation})

    def bump_generation(self):
        with self.lock:
            self.generation += 1

    def calls_snapshot(self):
        with self.lock:
            return {"calls": dict(sorted(self.calls.items())), "total": sum(self.calls.values())}

    # --- faults ------------------------------------------------------------------
    def add_fault(self, spec):
        error = spec.get("error") or "RequestLimitExceeded"
        status, message = KNOWN_ERRORS.get(error, (400, "Injected by the AWS sandbox."))
        fault = {
            "operation": spec.get("operation") or "*",
            "service": spec.get("service") or "*",
            "error": error,
            "message": spec.get("message") or message,
            "status": int(spec.get("status") or status),
            "remaining": int(spec.get("count", 1)),
        }
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, service, operation):
        """Return (and use up one of) the first fault matching this request, or None."""
        with self.lock:
            for fault in self.faults:
                if fault["remaining"] <= 0:
                    continue
                if fault["operation"] not in ("*", operation) or fault["service"] not in ("*", service):
                    continue
                fault["remaining"] -= 1
                return dict(fault)
            self.faults = [f for f in self.faults if f["remaining"] > 0]
        return None

    # --- endpoint outcomes ---------------------------------------------------
    def set_outcome(self, spec):
        name = spec["service_name"]
        state = spec.get("state", "failed")
        with self.lock:
            if state == "available":
                self.outcomes.pop(name, None)
                return None
            if state not in ("failed", "rejected"):
                raise ValueError("state must be failed, rejected or available (clears)")
            outcome = {
                "state": state,
                "code": spec.get("code") or ("VpcEndpointRejected" if state == "rejected" else "VpcEndpointFailed"),
                "message": spec.get("message")
                or ("The VPC endpoint was rejected by the service owner." if state == "rejected"
                    else "The VPC endpoint could not be created."),
            }
            self.outcomes[name] = outcome
            return outcome

    def outcome_for(self, service_name):
        with self.lock:
            return self.outcomes.get(service_name)

    def now(self):
        return time.monotonic()


STATE = SandboxState()


# --- which AWS operation is this request? ---------------------------------------

# Operations that only read; every other one bumps the state generation.
READ_PREFIXES = ("Describe", "List", "Get")
# User-agent mark of the network twin's own reads: not counted, never faulted.
UNCOUNTED_USER_AGENT = "ddpl-twin"


def is_mutating(operation):
    return not operation.startswith(READ_PREFIXES)


_SESSION = botocore.session.get_session()
_MODEL_LOCK = threading.Lock()
_MODELS = {}  # signing name -> (service model or None, compiled REST routes)
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


def credential_scope(environ):
    """(access key, region, signing service) from a SigV4 Authorization header."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.groups() if match else (None, None, None)


def _service_model(signing_name):
    """botocore's model of the service a request was signed for (signing name != service name)."""
    with _MODEL_LOCK:
        if signing_name in _MODELS:
            return _MODELS[signing_name]
        found = None
        candidates = [signing_name] + [n for n in _SESSION.get_available_services() if n != signing_name]
        for name in candidates:
            try:
                model = _SESSION.get_service_model(name)
            except Exception:  # noqa: BLE001 - unknown names just do not match
                continue
            if model.signing_name == signing_name or model.endpoint_prefix == signing_name:
                found = model
                break
        routes = []
        if found is not None and found.protocol.startswith("rest"):
            for op_name in found.operation_names:
                http = found.operation_model(op_name).http
                path, _, query = http["requestUri"].partition("?")
                regex = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))  # {Key+}: greedy
                regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
                literal = len(re.sub(r"\{[^}]+\}", "", path))
                query_keys = [q.split("=")[0] for q in query.split("&") if q]
                routes.append((literal + len(query), http["method"], re.compile("^" + regex + "/?$"), query_keys, op_name))
            routes.sort(key=lambda route: -route[0])  # most specific template first
        _MODELS[signing_name] = (found, routes)
        return _MODELS[signing_name]


def service_protocol(signing_name):
    model, _ = _service_model(signing_name)
    return model.protocol if model is not None else "query"


def operation_name(environ, body):
    """(service, operation) of an AWS request, as in botocore's model."""
    _key, _region, service = credential_scope(environ)
    service = service or "unknown"
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols
        return service, target.rsplit(".", 1)[-1]
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    form = {}
    if body and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    action = (form.get("Action") or query.get("Action") or [None])[0]
    if action:  # query / ec2 protocols
        return service, action
    _model, routes = _service_model(service)
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "/")
    for _weight, route_method, regex, query_keys, op_name in routes:
        if route_method == method and regex.match(path) and all(k in query for k in query_keys):
            return service, op_name
    return service, "%s %s" % (method, path)


def error_response(service, code, message, status):
    """(status line, headers, body) of an AWS error in the service's own wire format."""
    request_id = str(uuid.uuid4())
    protocol = service_protocol(service)
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
            "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
            % (code, _xml_escape(message), request_id)
        )
        content_type = "text/xml;charset=UTF-8"
    elif protocol in ("json", "rest-json"):
        import json

        body = json.dumps({"__type": code, "message": message})
        content_type = "application/x-amz-json-1.1"
    else:  # query and rest-xml (Route53, STS, IAM)
        namespace = ""
        if service == "route53":
            namespace = ' xmlns="https://route53.amazonaws.com/doc/2013-04-01/"'
        body = (
            '<?xml version="1.0"?>\n<ErrorResponse%s><Error><Type>Sender</Type><Code>%s</Code>'
            "<Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>"
            % (namespace, code, _xml_escape(message), request_id)
        )
        content_type = "text/xml"
    headers = [("Content-Type", content_type), ("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
    return status, headers, body.encode("utf-8")


def _xml_escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
