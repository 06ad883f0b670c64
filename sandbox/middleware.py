"""WSGI middleware in front of moto: control API, call counting, faults, Route53 auth.

Control API (JSON):
  GET  /_sandbox/health               200 {"status": "ok"}
  GET  /_sandbox/calls                {"calls": {"ec2:CreateVpcEndpoint": 3, ...}, "total": N}
  POST /_sandbox/calls/reset
  GET|POST|DELETE /_sandbox/faults    list / add {"operation", "error", "count", ["service", "message", "status"]} / clear
  GET|POST /_sandbox/endpoint-outcome list / set {"service_name", "state": failed|rejected|available, ["message", "code"]}
  GET|POST /_sandbox/config           read / set {"pending_seconds": N, "enforce_iam": bool}
  GET  /_sandbox/iam-decisions        {"decisions": [{"principal", "action", "allowed", "operation"}, ...]} (enforce_iam)
  GET  /_sandbox/generation           {"generation": N}, bumped after every mutating AWS call
  GET  /_sandbox/regions              {"regions": {account: [EC2 regions some call has touched]}}
  POST /_sandbox/reset and /moto-api/reset: moto reset + sandbox state reset
"""

import io
import json
import os
import re

from sandbox import iam, route53_auth
from sandbox.control import STATE, UNCOUNTED_USER_AGENT, credential_scope, error_response, is_mutating, operation_name

_STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                500: "Internal Server Error", 503: "Service Unavailable"}


def _status(code):
    return "%d %s" % (code, _STATUS_TEXT.get(code, "Error"))


def account_of(environ, access_key):
    """The account moto would act as for this request (same precedence as moto)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from

    if not re.fullmatch(r"[A-Z0-9]{20}", access_key or ""):
        access_key = "AKIAEXAMPLE"  # what moto falls back to for keys it cannot parse
    return get_account_id_from(access_key)


def used_regions():
    """{account: regions} whose EC2 backend exists, without creating any (a new one costs moto ~0.4 s)."""
    from moto.ec2 import ec2_backends

    return {account: sorted(dict.keys(backends)) for account, backends in dict.items(ec2_backends)}


def reset_moto():
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


class SandboxMiddleware:
    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/") or path == "/moto-api/reset":
            return self._control(environ, start_response, path)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)

        # Read the body once and hand moto a fresh stream.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)

        service, operation = operation_name(environ, body)
        if UNCOUNTED_USER_AGENT not in environ.get("HTTP_USER_AGENT", ""):  # the twin's reads leave no trace
            STATE.count(service, operation)
            fault = STATE.take_fault(service, operation)
            if fault:
                return self._send(start_response, *error_response(service, fault["error"], fault["message"], fault["status"]))

        access_key, region, _signing = credential_scope(environ)
        refusal = STATE.enforce_iam and iam.authorize(environ, body, service, operation,
                                                      account_of(environ, access_key), access_key, region)
        if refusal:
            return self._send(start_response, *error_response(service, refusal[0], refusal[1], refusal[2]))

        try:
            if service == "route53":
                caller = account_of(environ, access_key)
                # One Route53 change at a time, its checks included, so racing clients meet AWS's refusals.
                with route53_auth.LOCK:
                    answer = route53_auth.handle(environ["REQUEST_METHOD"], path, body, caller,
                                                 environ.get("QUERY_STRING", ""))
                    if answer is not None:
                        return self._send(start_response, *answer)
                    response = self.moto_app(environ, start_response)
                    route53_auth.after_moto(environ["REQUEST_METHOD"], path, body, caller)
                    return response
            return self.moto_app(environ, start_response)
        finally:
            if is_mutating(operation):  # after the change is made, so a reader of the new number sees it
                STATE.bump_generation()

    @staticmethod
    def _send(start_response, status, headers, body):
        start_response(_status(status), headers)
        return [body]

    def _json(self, start_response, payload, status=200):
        body = json.dumps(payload, sort_keys=True).encode("utf-8")
        return self._send(start_response, status, [("Content-Type", "application/json"),
                                                   ("Content-Length", str(len(body)))], body)

    def _control(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            return self._json(start_response, {"error": "invalid JSON: %s" % exc}, 400)
        try:
            return self._route(start_response, method, path.rstrip("/"), data)
        except (KeyError, ValueError, TypeError) as exc:
            return self._json(start_response, {"error": "%s: %s" % (type(exc).__name__, exc)}, 400)

    def _route(self, start_response, method, path, data):
        if path == "/_sandbox/health":
            return self._json(start_response, {"status": "ok", "pending_seconds": STATE.pending_seconds})
        if path == "/_sandbox/generation":
            return self._json(start_response, {"generation": STATE.generation})
        if path == "/_sandbox/regions":
            return self._json(start_response, {"regions": used_regions()})
        if path == "/_sandbox/calls" and method == "GET":
            return self._json(start_response, STATE.calls_snapshot())
        if path == "/_sandbox/calls/reset" and method == "POST":
            with STATE.lock:
                STATE.calls.clear()
                STATE.iam_decisions = []
            return self._json(start_response, {"status": "ok"})
        if path == "/_sandbox/faults":
            if method == "POST":
                return self._json(start_response, {"fault": STATE.add_fault(data)})
            if method == "DELETE":
                with STATE.lock:
                    STATE.faults = []
                return self._json(start_response, {"status": "ok"})
            with STATE.lock:
                return self._json(start_response, {"faults": [f for f in STATE.faults if f["remaining"] > 0]})
        if path == "/_sandbox/endpoint-outcome":
            if method == "POST":
                return self._json(start_response, {"outcome": STATE.set_outcome(data)})
            with STATE.lock:
                return self._json(start_response, {"outcomes": dict(STATE.outcomes)})
        if path == "/_sandbox/config":
            with STATE.lock:
                if method == "POST" and "pending_seconds" in data:
                    STATE.pending_seconds = float(data["pending_seconds"])
                if method == "POST" and "enforce_iam" in data:
                    STATE.enforce_iam = bool(data["enforce_iam"])
                return self._json(start_response, {"pending_seconds": STATE.pending_seconds,
                                                   "enforce_iam": STATE.enforce_iam})
        if path == "/_sandbox/iam-decisions":
            with STATE.lock:
                return self._json(start_response, {"decisions": list(STATE.iam_decisions)})
        if path in ("/_sandbox/reset", "/moto-api/reset") and method == "POST":
            reset_moto()
            STATE.reset()
            return self._json(start_response, {"status": "ok"})
        return self._json(start_response, {"error": "no such sandbox endpoint: %s %s" % (method, path)}, 404)
