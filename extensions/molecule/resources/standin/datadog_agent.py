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
--compose FILE --service NAME (that service's environment, as `docker compose up` passes it).
"""
import hashlib
import json
import os
import signal
import sys
import time

import yaml

STATE = "/var/lib/datadog-standin"
VERSION_FILE = "/etc/datadog-agent/standin-version"


def version():
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
    os.makedirs(STATE, exist_ok=True)
    raw = b""
    if os.path.exists(source):
        with open(source, "rb") as handle:
            raw = handle.read()
    starts = os.path.join(STATE, "starts.jsonl")
    count = len(open(starts).readlines()) if os.path.exists(starts) else 0
    with open(os.path.join(STATE, "loaded-%d.yaml" % (count + 1)), "wb") as handle:
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
