"""Stand-in for the Datadog Agent (test fixture, never shipped; prepare.sh installs it
as /opt/datadog-agent/bin/agent/agent with /usr/bin/datadog-agent pointing at it).

The real Agent cannot be installed here. This one behaves like it where our role cares:
- `datadog-agent version` prints the version line the real one prints
  (version from /etc/datadog-agent/standin-version, default 7.52.1);
- `datadog-agent run` reads its configuration at start, refuses to start when
  datadog.yaml is not valid YAML, and appends one JSON line per start to
  /var/lib/datadog-standin/starts.jsonl: time, pid, unit, sha256 of the file it loaded,
  the effective logs settings, and the DD_* environment it was given. It keeps a copy
  of every loaded file (loaded-<n>.yaml) so tests can compare bytes.
Flags: --config FILE; --env-file FILE (read as `docker run --env-file` would);
--compose FILE --service NAME (that service's environment, as `docker compose up` passes it);
-p FILE (pid file, as the real Agent's unit passes it); --state DIR (default /var/lib/datadog-standin).

With --send (the network twin uses it; molecule does not), it also behaves as the Agent does on
the network (Datadog's Network traffic guide): it resolves its intake names once at start and keeps
its connections until restarted, sending over TLS every --interval seconds:
- logs to agent-http-intake.logs.<site>:443 (HTTPS) when logs_config.force_use_http/use_http is
  true, else to agent-intake.logs.<site>:10516 over TCP (TLS);
- metrics to <version>-app.agent.<site>, traces to trace.agent.<site>;
- through proxy.https (HTTP CONNECT) when datadog.yaml sets one.
Each send is one JSON line in <state>/sends.jsonl (host, address, port, status or error). The CA
comes from --ca FILE. It only ever connects to private or documentation-range addresses (the
twin's), and stops sending after --rounds rounds.
"""
import hashlib
import http.client
import ipaddress
import json
import os
import signal
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

import yaml

STATE = "/var/lib/datadog-standin"
# Where a stand-in may ever connect: private ranges and the documentation ranges the twin uses.
ALLOWED_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
                  "198.51.100.0/24", "203.0.113.0/24")
ALLOWED = [ipaddress.ip_network(n) for n in ALLOWED_RANGES]
VERSION_FILE = "/etc/datadog-agent/standin-version"


def version():
    if os.environ.get("STANDIN_VERSION"):
        return os.environ["STANDIN_VERSION"]
    try:
        with open(VERSION_FILE) as handle:
            return handle.read().strip() or "7.52.1"
    except OSError:
        return "7.52.1"


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def compose_env(path, service):
    with open(path) as handle:
        env = yaml.safe_load(handle)["services"][service].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return dict((k, str(v)) for k, v in env.items())


def destinations(data, version_text):
    """(name, port, transport, path) the Agent sends to, from its configuration at start."""
    site = (data.get("site") or "datadoghq.com") if isinstance(data, dict) else "datadoghq.com"
    logs = (data.get("logs_config") or {}) if isinstance(data, dict) else {}
    http = any(str(logs.get(k)).lower() == "true" for k in ("force_use_http", "use_http"))
    version = "-".join(version_text.split(".")[:3])
    sends = [("%s-app.agent.%s" % (version, site), 443, "https", "/api/v2/series"),
             ("trace.agent.%s" % site, 443, "https", "/api/v0.2/traces")]
    if http:
        sends.append(("agent-http-intake.logs.%s" % site, 443, "https", "/api/v2/logs"))
    else:
        sends.append(("agent-intake.logs.%s" % site, 10516, "tcp", ""))
    return sends


class Sender:
    """One kept connection to one intake name, resolved once (at start), as the Agent keeps it."""

    def __init__(self, name, port, transport, path, context, proxy, log):
        self.name, self.port, self.transport, self.path = name, port, transport, path
        self.context, self.proxy, self.log = context, proxy, log
        self.connection = None
        try:
            target = urlsplit(proxy).hostname if proxy else name
            self.address = socket.getaddrinfo(target, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        except (OSError, UnicodeError) as exc:
            self.address = None
            self.error = "resolve: %s" % exc

    def _allowed(self):
        return self.address and any(ipaddress.ip_address(self.address) in net for net in ALLOWED)

    def send(self):
        record = {"time": time.time(), "host": self.name, "address": self.address, "port": self.port,
                  "transport": self.transport, "proxy": bool(self.proxy)}
        if not self.address:
            record["error"] = self.error
        elif not self._allowed():
            record["error"] = "refused to connect outside the private and documentation ranges"
        else:
            try:
                record["status"] = self._send_once()
            except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
                self.close()
                record["error"] = "%s: %s" % (type(exc).__name__, exc)
        self.log(record)

    def _send_once(self):
        if self.transport == "tcp":
            if self.connection is None:
                raw = socket.create_connection((self.address, self.port), timeout=3)
                self.connection = self.context.wrap_socket(raw, server_hostname=self.name)
            self.connection.sendall(b'{"message": "stand-in log line"}\n')
            return "sent"
        if self.connection is None:
            if self.proxy:
                proxy = urlsplit(self.proxy)
                self.connection = http.client.HTTPSConnection(self.address, proxy.port or 3128, timeout=3,
                                                              context=self.context)
                self.connection.set_tunnel(self.name, self.port)
            else:
                self.connection = _PinnedHTTPS(self.name, self.address, self.port, self.context)
        headers = {"Content-Type": "application/json", "Host": self.name}
        self.connection.request("POST", self.path, body=b"{}", headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except OSError:
                pass
            self.connection = None


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the address resolved at start, with the name for SNI and certificate checks."""

    def __init__(self, name, address, port, context):
        http.client.HTTPSConnection.__init__(self, name, port, timeout=3, context=context)
        self._address = address

    def connect(self):
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def send_like_the_agent(data, state):
    """Resolve once, keep connections, send every --interval s for --rounds rounds (bounded)."""
    context = ssl.create_default_context(cafile=arg("--ca"))
    proxy = ""
    if isinstance(data, dict) and isinstance(data.get("proxy"), dict):
        proxy = data["proxy"].get("https") or ""
    sends_path = os.path.join(state, "sends.jsonl")

    def log(record):
        with open(sends_path, "a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    senders = [Sender(n, p, t, path, context, proxy, log) for n, p, t, path in destinations(data, version())]
    interval, rounds = float(arg("--interval", "1")), int(arg("--rounds", "600"))
    for _round in range(rounds):
        for sender in senders:
            sender.send()
        time.sleep(interval)


def run():
    config = arg("--config") or arg("-c") or "/etc/datadog-agent/datadog.yaml"
    env = dict((k, v) for k, v in os.environ.items() if k.startswith("DD_"))
    record = {"time": time.time(), "pid": os.getpid(), "unit": os.environ.get("STANDIN_UNIT", "datadog-agent")}
    if arg("--env-file"):
        with open(arg("--env-file")) as handle:
            for line in handle:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    name, value = line.split("=", 1)
                    env[name] = value
        source = arg("--env-file")
    elif arg("--compose"):
        env.update(compose_env(arg("--compose"), arg("--service")))
        source = arg("--compose")
    else:
        source = config
    data = {}
    if os.path.exists(config):
        with open(config, "rb") as handle:
            raw = handle.read()
        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as exc:
            sys.stderr.write("Error: unable to load Datadog config file: %s\n" % exc)
            sys.exit(1)
    state = arg("--state", STATE)
    os.makedirs(state, exist_ok=True)
    if arg("-p"):
        with open(arg("-p"), "w") as handle:
            handle.write("%d\n" % os.getpid())
    raw = b""
    if os.path.exists(source):
        with open(source, "rb") as handle:
            raw = handle.read()
    starts = os.path.join(state, "starts.jsonl")
    count = len(open(starts).readlines()) if os.path.exists(starts) else 0
    with open(os.path.join(state, "loaded-%d.yaml" % (count + 1)), "wb") as handle:
        handle.write(raw)
    logs = (data.get("logs_config") or {}) if isinstance(data, dict) else {}
    record.update(
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        force_use_http=env.get("DD_LOGS_CONFIG_FORCE_USE_HTTP", logs.get("force_use_http")),
        use_http=logs.get("use_http"),
        site=env.get("DD_SITE", data.get("site") if isinstance(data, dict) else None),
        env=dict((k, v) for k, v in env.items() if "KEY" not in k),
        version=version(),
    )
    with open(starts, "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if "--send" in sys.argv:
        send_like_the_agent(data, state)
    while True:
        signal.pause()


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "version":
        print("Agent %s - Commit: 5f0b1a2 - Serialization version: v5.0.104 - Go version: go1.21.9" % version())
    elif command in ("run", "start"):
        run()
    else:
        sys.stderr.write("usage: datadog-agent version|run [--config FILE] [--compose FILE --service NAME]\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
