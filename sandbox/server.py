"""Start the AWS sandbox: moto in server mode behind the sandbox middleware.

As a program (what ./dev uses):
    python sandbox/server.py --port 0 --env-file PATH [--pending-seconds 3]
writes PATH (shell-sourceable) once the server answers, runs until SIGTERM/SIGINT.

As a library (pytest fixtures, benchmarks):
    from sandbox.server import start_sandbox
    sb = start_sandbox(port=0, pending_seconds=0)   # in-process, background thread
    sb.url; sb.calls(); sb.add_fault(...); sb.reset(); sb.stop()
    sb = start_sandbox(port=0, subprocess=True)     # same API, separate process
"""

import argparse
import json
import os
import re
import signal
import subprocess as _subprocess
import sys
import tempfile
import threading
import time
import urllib.request

if __package__ in (None, ""):  # run as a script: import siblings as the "sandbox" package
    _ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
    sys.path.insert(0, _ROOT)

HOST = "127.0.0.1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Sandbox convention: access key "AKIASBOX" + 12 digits acts as that account (moto only reads
# access keys of 20 [A-Z0-9] characters, so the account id is padded with a fixed prefix).
ACCOUNT_KEY_PREFIX = "AKIASBOX"
_ACCOUNT_KEY = re.compile(r"^%s(\d{12})$" % ACCOUNT_KEY_PREFIX)
_INSTALLED = False


def access_key_for(account_id):
    """The access key that makes the sandbox act as account_id (any secret key works)."""
    return ACCOUNT_KEY_PREFIX + str(account_id)


def install_patches():
    """Patch moto in this process (once): endpoint services/endpoints, peering filters, account mapping."""
    global _INSTALLED
    if _INSTALLED:
        return
    import moto.iam.models as iam_models

    from sandbox import vpc_endpoints, vpc_peering

    vpc_endpoints.install()
    vpc_peering.install()
    original = iam_models.get_account_id_from

    def get_account_id_from(access_key):
        match = _ACCOUNT_KEY.match(access_key or "")
        return match.group(1) if match else original(access_key)

    iam_models.get_account_id_from = get_account_id_from
    _INSTALLED = True


class _Client:
    """Control-API helpers shared by both sandbox flavours."""

    url = None

    def _call(self, method, path, payload=None):
        data = json.dumps(payload).encode("utf-8") if payload is not None else (b"" if method != "GET" else None)
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")

    def env(self, region=None):
        env = {"AWS_ENDPOINT_URL": self.url, **CREDENTIALS}
        if region:
            env.update(AWS_REGION=region, AWS_DEFAULT_REGION=region)
        return env

    def calls(self):
        return self._call("GET", "/_sandbox/calls")

    def generation(self):
        return self._call("GET", "/_sandbox/generation")["generation"]

    def reset_calls(self):
        return self._call("POST", "/_sandbox/calls/reset")

    def add_fault(self, operation, error="RequestLimitExceeded", count=1, **extra):
        return self._call("POST", "/_sandbox/faults", dict(extra, operation=operation, error=error, count=count))

    def clear_faults(self):
        return self._call("DELETE", "/_sandbox/faults")

    def set_endpoint_outcome(self, service_name, state="failed", message=None, **extra):
        payload = dict(extra, service_name=service_name, state=state)
        if message:
            payload["message"] = message
        return self._call("POST", "/_sandbox/endpoint-outcome", payload)

    def set_pending_seconds(self, seconds):
        return self._call("POST", "/_sandbox/config", {"pending_seconds": seconds})

    def set_enforce_iam(self, enforce):
        return self._call("POST", "/_sandbox/config", {"enforce_iam": bool(enforce)})

    def iam_decisions(self):
        return self._call("GET", "/_sandbox/iam-decisions")["decisions"]

    def reset(self):
        return self._call("POST", "/_sandbox/reset")

    def healthy(self):
        try:
            return self._call("GET", "/_sandbox/health").get("status") == "ok"
        except OSError:
            return False


class InProcessSandbox(_Client):
    """moto + middleware served by a werkzeug thread in this process."""

    def __init__(self, port=0, pending_seconds=None, host=HOST, enforce_iam=False):
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from sandbox.control import STATE
        from sandbox.middleware import SandboxMiddleware

        install_patches()
        if pending_seconds is not None:
            STATE.default_pending_seconds = float(pending_seconds)
        STATE.default_enforce_iam = bool(enforce_iam)
        STATE.reset()
        app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = self._server.server_address[1]
        self.url = "http://%s:%d" % (host, self.port)
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-sandbox", daemon=True)
        self._thread.start()
        _wait_healthy(self)

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None


class SubprocessSandbox(_Client):
    """The same server run as ``python sandbox/server.py`` in a child process."""

    def __init__(self, port=0, pending_seconds=None, python=None, log_path=None, enforce_iam=False):
        self._tmp = tempfile.mkdtemp(prefix="aws-sandbox-")
        self.env_file = env_file = os.path.join(self._tmp, "sandbox.env")
        command = [python or sys.executable, os.path.abspath(__file__), "--port", str(port), "--env-file", env_file]
        if pending_seconds is not None:
            command += ["--pending-seconds", str(pending_seconds)]
        if enforce_iam:
            command.append("--enforce-iam")
        self._log = open(log_path or os.path.join(self._tmp, "sandbox.log"), "wb")
        self.process = _subprocess.Popen(command, stdout=self._log, stderr=_subprocess.STDOUT)
        self.pid = self.process.pid
        deadline = time.monotonic() + 30
        while not (os.path.exists(env_file) and os.path.getsize(env_file)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("AWS sandbox did not start; log: %s" % self._log.name)
            time.sleep(0.05)
        values = read_env_file(env_file)
        self.url = values["AWS_ENDPOINT_URL"]
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except _subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_sandbox(port=0, pending_seconds=None, subprocess=False, **kwargs):
    """Start a sandbox; returns an object with .url, .stop() and control helpers.

    pending_seconds: how long new interface endpoints stay pending (default 3, 0 = at once).
    enforce_iam=True refuses what the IAM policies of the calling user or role do not allow (sandbox/iam.py).
    subprocess=True runs it as a separate process (what the demo does); otherwise in a thread.
    """
    if subprocess:
        return SubprocessSandbox(port=port, pending_seconds=pending_seconds, **kwargs)
    return InProcessSandbox(port=port, pending_seconds=pending_seconds, **kwargs)


def read_env_file(path):
    values = {}
    with open(path) as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep:
                values[key] = value
    return values


def _wait_healthy(sandbox, timeout=10):
    deadline = time.monotonic() + timeout
    while not sandbox.healthy():
        if time.monotonic() > deadline:
            raise RuntimeError("AWS sandbox at %s does not answer" % sandbox.url)
        time.sleep(0.05)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--env-file", required=True, help="where to write AWS_ENDPOINT_URL etc. once ready")
    parser.add_argument("--pending-seconds", type=float, default=None,
                        help="seconds new interface endpoints stay pending (default 3; 0: available at once)")
    parser.add_argument("--enforce-iam", action="store_true",
                        help="refuse what the calling IAM user's or role's policies do not allow (root keys: all)")
    args = parser.parse_args(argv)

    sandbox = InProcessSandbox(port=args.port, pending_seconds=args.pending_seconds, enforce_iam=args.enforce_iam)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())

    lines = ["AWS_ENDPOINT_URL=%s" % sandbox.url] + ["%s=%s" % item for item in CREDENTIALS.items()]
    lines.append("SANDBOX_PID=%d" % os.getpid())
    partial = args.env_file + ".tmp"
    with open(partial, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(partial, args.env_file)  # readers never see a half-written file
    print("AWS sandbox listening on %s (pid %d)" % (sandbox.url, os.getpid()), flush=True)

    stopping.wait()
    sandbox.stop()
    print("AWS sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
