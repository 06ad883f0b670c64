"""A local HTTPS server (127.0.0.1, certificate from a test CA made by trustme) serving one document."""

import http.server
import ssl
import threading

import trustme

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


class DocumentServer:
    """Serves `body` at every path; counts requests. `status` and `body` may be changed between calls."""

    def __init__(self, tmp_path):
        self.ca = trustme.CA()
        self.ca_path = str(tmp_path / "test-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.body = b"{}"
        self.status = 200
        self.requests = 0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/ip-ranges.json" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def ip_ranges_document(version=7, **overrides):
    """A well-formed IP ranges document: every section of the catalog, documentation-range addresses."""
    v4, v6 = catalog.IP_RANGES_PREFIX_KEYS[4], catalog.IP_RANGES_PREFIX_KEYS[6]
    doc = {"version": version, "modified": "2026-11-25-10-00-00"}
    for i, section in enumerate(catalog.IP_RANGES_SECTIONS):
        doc[section] = {v4: ["192.0.2.%d/32" % (i + 1), "198.51.100.0/28"], v6: ["2001:db8:%x::/48" % (i + 1)]}
    doc.update(overrides)
    return doc
