"""A TLS intake standing for Datadog's: answers like it enough for real clients, records each request.

One JSON line per request (per connection for raw TCP) in requests.jsonl: time, source, host,
path, method, side (private/public) and, for private, the endpoint, its service and VPC.
Request bodies and headers (API keys) are never recorded.
"""

import http.server
import json
import logging
import socketserver
import ssl
import sys
import threading
import time
from datetime import datetime, timezone

from sandbox.datadog import catalog

# What Datadog's intake answers (enough for datadog-api-client's models and the legacy client).
ANSWERS = (
    ("/api/v2/logs", 202, {}),
    ("/api/v2/series", 202, {"errors": []}),
    ("/api/v1/series", 202, {"status": "ok"}),
    ("/api/v1/events", 202, {"status": "ok", "event": {"id": 1, "title": "recorded by the network twin"}}),
    ("/api/v1/validate", 200, {"valid": True}),
    ("/api/v1/check_run", 202, {"status": "ok"}),
)
MAX_BODY = 16 * 1024 * 1024
HTTPS_PORT = 443
LOGS_TCP_PORT = catalog.LOGS_TCP_HOST[1]  # the Agent's logs over TCP (no PrivateLink service)
IDLE_SECONDS = 10

log = logging.getLogger("twin")


def certificate_names():
    """Every Datadog host name of every catalog site: the site, its subdomains, each intake's parent."""
    names = []
    for site in catalog.SITES:
        dd_site = catalog.SITES[site]["dd_site"]
        names += [dd_site, "*." + dd_site]
        for entry in catalog.service_entries(site):
            parent = entry["private_dns_name"].split(".", 1)[1]
            if parent != dd_site:
                names.append("*." + parent)
    return list(dict.fromkeys(names))


def make_certificates(ca_path, server_path):
    """A local test CA (ca_path, what clients trust) and the intake's key and chain (server_path)."""
    import trustme

    ca = trustme.CA(organization_name="ddpl network twin test CA")
    server = ca.issue_cert(*certificate_names())
    ca.cert_pem.write_to_path(str(ca_path))
    server.private_key_and_cert_chain_pem.write_to_path(str(server_path))
    return ca_path


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, **record):
        now = time.time()
        record = dict(time=datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds"), ts=now, **record)
        line = json.dumps(record, sort_keys=True) + "\n"
        with self.lock, open(self.path, "a") as handle:
            handle.write(line)


def _server_context(server_pem):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(server_pem))
    # No TLS 1.3 session tickets: a client that sends and closes at once (logs over TCP) would make the
    # server's ticket write fail inside the handshake, and the connection would go unrecorded.
    context.num_tickets = 0

    def remember_sni(sock, server_name, _context):
        sock.ddpl_sni = server_name  # read back after the handshake

    context.sni_callback = remember_sni
    return context


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ddpl-twin-intake"
    timeout = IDLE_SECONDS

    def setup(self):
        self.request.settimeout(IDLE_SECONDS)
        self.request = self.server.context.wrap_socket(self.request, server_side=True)
        super().setup()

    def log_message(self, *_args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        remaining = min(length, MAX_BODY)
        while remaining > 0:  # read (and drop) the body: it is never recorded
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._drain_chunked()
        path = self.path.split("?", 1)[0]
        status, body = 202, {"status": "ok"}
        for prefix, answer_status, answer_body in ANSWERS:
            if path.startswith(prefix):
                status, body = answer_status, answer_body
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0] or getattr(self.request, "ddpl_sni", None) or ""
        self.server.record(self.request, host=host.lower(), path=path, method=self.command, status=status,
                           sni=getattr(self.request, "ddpl_sni", None))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drain_chunked(self):
        for _ in range(100000):
            size = int((self.rfile.readline().split(b";")[0].strip() or b"0"), 16)
            if size == 0:
                self.rfile.readline()
                return
            self.rfile.read(size + 2)

    do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _answer

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, OSError, ValueError):
            pass


class _RawHandler(socketserver.BaseRequestHandler):
    """Logs over TCP (LOGS_TCP_PORT): accept TLS, record the connection, read until the client stops."""

    def handle(self):
        try:
            self.request.settimeout(IDLE_SECONDS)
            local = self.request.getsockname()
            conn = self.server.context.wrap_socket(self.request, server_side=True)
            sni = getattr(conn, "ddpl_sni", None)
            self.server.record(conn, peer=self.client_address, local=local, host=(sni or "").lower(), path="",
                               method="", status=0, sni=sni)
            for _ in range(100000):
                if not conn.recv(65536):
                    break
        except (ssl.SSLError, OSError):
            pass


class IntakeServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, context, recorder, classify, raw=False):
        """classify(local address) -> dict of fields (side, endpoint_id, ...) or None to refuse."""
        self.context, self.recorder, self.classify = context, recorder, classify
        super().__init__(address, _RawHandler if raw else _Handler)

    def handle_error(self, request, client_address):
        # A connect-and-close (intake_check's port test, a port scan) fails the handshake in setup():
        # that is traffic, not a fault; anything else gets one line, not a traceback per connection.
        error = sys.exc_info()[1]
        if not isinstance(error, (ssl.SSLError, OSError)):
            log.warning("intake %s: %s from %s", self.server_address, error, client_address[0])

    def verify_request(self, request, client_address):
        return self.classify(request.getsockname()[0]) is not None

    def record(self, sock, peer=None, local=None, **fields):
        # Addresses read before the handshake when given: a client that closes at once leaves none to ask.
        local_address, local_port = (local or sock.getsockname())[:2]
        where = self.classify(local_address) or {}
        source = (peer or sock.getpeername())[0]
        self.recorder.write(source=source, address=local_address, port=local_port, **where, **fields)


def open_intake(address, port, server_pem, recorder, classify, raw=False):
    server = IntakeServer((address, port), _server_context(server_pem), recorder, classify, raw=raw)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True,
                              name="intake-%s-%d" % (address, port))
    return server, thread
