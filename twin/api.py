"""The twin from Python: bring it up or down, run a command in a VPC, read what the intakes saw.

    from twin import api
    api.up(account_keys=["AKIASBOX222222222222"])     # or `./dev twin up`
    api.run_in("vpc-0abc", [sys.executable, "-m", "twin.clients", "--site", "datadoghq.com"])
    api.requests(since=t0)   # [{"time", "source", "host", "path", "side", "endpoint_id", ...}]
    api.wait_synced()        # after a change made through the sandbox's AWS API
    api.down()
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from twin import model, net, paths
from twin.aws_state import Reader, TwinError

UP_TIMEOUT = 120.0  # generous: a loaded CI machine starts Python slowly


def namespace(vpc_id):
    """The namespace standing for a VPC: ddpl-<vpc-id>."""
    return paths.namespace(vpc_id)


def ca_path(state_dir=None):
    """The test CA that the intakes' certificate chains to (give it to clients as their CA bundle)."""
    return str(paths.ca_path(state_dir))


def config(state_dir=None):
    path = paths.config_path(state_dir)
    return json.loads(path.read_text()) if path.exists() else None


def client_env(state_dir=None, extra=None):
    """Environment for a client in a namespace: the twin's CA, no proxy."""
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    env.update(REQUESTS_CA_BUNDLE=ca_path(state_dir), SSL_CERT_FILE=ca_path(state_dir),
               PYTHONPATH=str(paths.ROOT), PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


def run_in(vpc_id, argv, env=None, timeout=60, state_dir=None, check=False):
    """Run argv inside the VPC's namespace (its resolv.conf is the VPC's resolver); CompletedProcess."""
    return subprocess.run(["ip", "netns", "exec", namespace(vpc_id)] + list(argv), capture_output=True, text=True,
                          env=client_env(state_dir, env), cwd=str(paths.ROOT), timeout=timeout, check=check)


def send_clients(vpc_id, site, only=None, timeout=5.0, state_dir=None):
    """Run twin/clients.py in the VPC (log, metric series, event); {client: {"ok", ...}}."""
    argv = [sys.executable, "-m", "twin.clients", "--site", site, "--ca", ca_path(state_dir), "--timeout", str(timeout)]
    if only:
        argv += ["--only", ",".join(only)]
    process = run_in(vpc_id, argv, timeout=timeout * 6 + 30, state_dir=state_dir)
    try:
        return json.loads(process.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError("twin.clients printed no result:\n%s\n%s" % (process.stdout, process.stderr))


def prove(site, clients=("log", "metric"), state_dir=None):
    """Run the real clients in every VPC of the twin; (text table, True when all landed privately)."""
    from concurrent.futures import ThreadPoolExecutor

    conf = config(state_dir)
    if conf is None or not daemon_alive(conf):
        raise TwinError("the twin is not up: ./dev twin up")
    paths_of = {"log": "/api/v2/logs", "metric": "/api/v2/series", "event": "/api/v1/events"}
    vpcs = sorted(conf["layout"].items(), key=lambda item: (item[1].get("name") or item[0], item[0]))
    started = time.time()

    def one(vpc_id):
        return send_clients(vpc_id, site, only=clients, state_dir=state_dir)

    with ThreadPoolExecutor(3) as pool:
        results = dict(zip([v for v, _ in vpcs], pool.map(one, [v for v, _ in vpcs])))
    records = requests(since=started, state_dir=state_dir)
    header = ["VPC", "region", "Agent host"] + ["%s -> intake" % c for c in clients] + ["public"]
    rows, ok = [], True
    for vpc_id, facts in vpcs:
        mine = [r for r in records if r["source"] == facts["agent"]]
        row = [facts.get("name") or vpc_id, facts["region"], facts["agent"]]
        for client in clients:
            hits = [r for r in mine if r["path"] == paths_of[client]]
            if not results[vpc_id].get(client, {}).get("ok") or not hits:
                row.append("FAILED (%s)" % (results[vpc_id].get(client, {}).get("error") or "not recorded")[:40])
                ok = False
            else:
                hit = hits[-1]
                row.append("%s %s %s" % (hit["side"], hit["address"], hit.get("endpoint_id") or ""))
                ok = ok and hit["side"] == "private"
        public = len([r for r in mine if r["side"] == "public"])
        ok = ok and public == 0
        row.append(str(public))
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header] + rows]
    return "\n".join(lines), ok


def requests(since=None, state_dir=None):
    """Every request the intakes recorded (parsed requests.jsonl), those after `since` (epoch s) if given."""
    path = paths.requests_path(state_dir)
    if not path.exists():
        return []
    found = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in found if since is None or r["ts"] >= since]


def snapshot(state_dir=None):
    """The sandbox state the twin applied last (what DNS answers and nftables follow)."""
    path = paths.model_path(state_dir)
    return json.loads(path.read_text()) if path.exists() else None


def synced_generation(state_dir=None):
    path = paths.synced_path(state_dir)
    try:
        return json.loads(path.read_text())["generation"]
    except (OSError, ValueError, KeyError):
        return None


def wait_synced(timeout=10.0, state_dir=None):
    """Return once the twin has applied the sandbox's current state generation; raise after timeout."""
    conf = config(state_dir)
    if conf is None:
        raise TwinError("the twin is not up (no %s)." % paths.config_path(state_dir))
    reader = Reader(conf["endpoint_url"], conf["account_keys"])
    wanted = reader.generation()
    deadline = time.monotonic() + timeout
    while True:
        applied = synced_generation(state_dir)
        if applied is not None and applied >= wanted:
            return applied
        if not daemon_alive(conf):
            raise TwinError("the twin's daemon is not running%s (see %s)." % (
                daemon_death(conf), Path(paths.config_path(state_dir)).parent))
        if time.monotonic() > deadline:
            raise TwinError("the twin did not apply generation %s within %.0f s (at %s)." % (wanted, timeout, applied))
        time.sleep(0.05)


def daemon_death(conf):
    """How a daemon that has not been reaped yet ended (' (killed by signal N)'), or ''."""
    try:
        fields = Path("/proc/%d/stat" % conf["pid"]).read_text().rsplit(")", 1)[1].split()
    except (OSError, KeyError, TypeError, IndexError):
        return ""
    if fields[0] != "Z" or len(fields) < 50:
        return ""
    status = int(fields[-1])  # the wait status the parent would read
    return " (killed by signal %d)" % (status & 0x7F) if status & 0x7F else " (exited with %d)" % (status >> 8)


def daemon_alive(conf):
    pid = (conf or {}).get("pid")
    if not pid:
        return False
    try:
        cmdline = Path("/proc/%d/cmdline" % pid).read_bytes().split(b"\0")
    except OSError:
        return False
    return b"twin" in cmdline and b"daemon" in cmdline  # the pid is ours, not a recycled one


def up(endpoint_url=None, account_keys=(), vpcs=(), agent_groups=None, state_dir=None, lifetime=None):
    """Build the twin from the sandbox's state; returns the config (layout per VPC)."""
    net.check_tools()
    state_dir = Path(state_dir or paths.STATE_DIR)
    state_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    env = {}
    if endpoint_url is None:
        if not paths.SANDBOX_ENV.exists():
            raise TwinError("no sandbox: run ./dev sandbox-start (or ./dev demo) first, or give --endpoint-url.")
        from sandbox.server import read_env_file

        env = read_env_file(paths.SANDBOX_ENV)
        endpoint_url = env["AWS_ENDPOINT_URL"]
    keys = list(dict.fromkeys([env.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_ACCESS_KEY_ID") or "testing"]
                              + list(account_keys)))
    down(state_dir)

    reader = Reader(endpoint_url, keys)
    generation = reader.generation()
    regions, vpc_ids = reader.discover(vpcs)
    if not vpc_ids:
        raise TwinError("the sandbox holds no Datadog endpoint, no private zone for a Datadog host and no --vpc: "
                        "run a scenario playbook first (./dev demo does).")
    agent_groups = dict(agent_groups or {})
    snap = reader.snapshot(regions, vpc_ids, agent_groups, check_groups=True)
    lay = model.layout(snap, vpc_ids, agent_groups)
    snap["generation"] = generation
    from twin.intake import make_certificates

    make_certificates(paths.ca_path(state_dir), state_dir / "server.pem")
    taken = [facts["namespace"] for facts in lay.values() if net.exists(facts["namespace"])]
    if taken:
        raise TwinError("namespace(s) %s exist: another twin models the same VPCs (its `twin down` ends it; "
                        "`ip netns del` them if none runs)." % ", ".join(taken))
    fabric, internet = net.claim_shared()
    namespaces = [fabric, internet] + [facts["namespace"] for facts in lay.values()]
    conf = {"endpoint_url": endpoint_url, "account_keys": keys, "regions": regions, "layout": lay,
            "agent_groups": agent_groups, "namespaces": namespaces, "fabric": fabric, "internet": internet,
            "public_address": paths.PUBLIC_ADDRESS, "state_dir": str(state_dir), "pid": None}
    _write_config(state_dir, conf)  # from here on, `down` removes what was made
    paths.requests_path(state_dir).write_text("")
    paths.model_path(state_dir).write_text(json.dumps(snap))  # the daemon starts from it if nothing changed since
    for stale in (paths.synced_path(state_dir), state_dir / "failed.json"):
        if stale.exists():
            stale.unlink()
    try:
        net.build(lay, fabric, internet)
        argv = [sys.executable, "-m", "twin", "--state-dir", str(state_dir), "daemon"]
        if lifetime:
            argv += ["--lifetime", str(lifetime)]
        with open(state_dir / "daemon.log", "ab") as log:
            process = subprocess.Popen(argv, cwd=str(paths.ROOT), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env=dict(os.environ, PYTHONPATH=str(paths.ROOT)))
        conf["pid"] = process.pid
        _write_config(state_dir, conf)
        while (synced_generation(state_dir) or -1) < generation:
            if process.poll() is not None:
                raise TwinError("the twin's daemon exited (%s); its log: %s" % (process.returncode, state_dir / "daemon.log"))
            if time.monotonic() - started > UP_TIMEOUT:
                raise TwinError("the twin was not ready within %.0f s; its log: %s" % (UP_TIMEOUT, state_dir / "daemon.log"))
            time.sleep(0.05)
    except BaseException:
        down(state_dir)
        raise
    conf["seconds"] = round(time.monotonic() - started, 2)
    return conf


def _write_config(state_dir, conf):
    path = paths.config_path(state_dir)
    partial = Path(str(path) + ".tmp")
    partial.write_text(json.dumps(conf, indent=1, sort_keys=True))
    partial.chmod(0o600)
    os.replace(partial, path)


def down(state_dir=None):
    """Stop the daemon and delete the namespaces of this twin (and only those); idempotent."""
    state_dir = Path(state_dir or paths.STATE_DIR)
    conf = config(state_dir)
    if conf is None:
        return False
    if daemon_alive(conf):
        os.kill(conf["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 5
        while daemon_alive(conf) and time.monotonic() < deadline:
            time.sleep(0.05)
        if daemon_alive(conf):
            os.kill(conf["pid"], signal.SIGKILL)
    net.teardown(conf.get("namespaces", []))
    conf["pid"] = None
    conf["namespaces"] = []
    _write_config(state_dir, conf)
    return True


def status(state_dir=None):
    """Per VPC: namespace, Agent host, resolver, endpoints (id, service, addresses); text."""
    conf = config(state_dir)
    if conf is None or not conf.get("namespaces"):
        return "the twin is down"
    snap = snapshot(state_dir) or {"endpoints": {}, "enis": {}}
    from twin.intake import HTTPS_PORT, LOGS_TCP_PORT

    lines = ["twin %s, sandbox %s, generation %s applied; router %s; public intake %s (%d, %d) in %s; CA %s" % (
        "up" if daemon_alive(conf) else "DOWN (daemon gone)", conf["endpoint_url"], synced_generation(state_dir),
        conf["fabric"], conf["public_address"], HTTPS_PORT, LOGS_TCP_PORT, conf["internet"], ca_path(state_dir))]
    for vpc_id, facts in sorted(conf["layout"].items(), key=lambda item: item[1]["index"]):
        name = "  (%s)" % facts["name"] if facts.get("name") else ""
        lines.append("%s  %s %s %s%s" % (facts["namespace"], facts["region"], facts["account"], facts["cidr"], name))
        group = "   agent group %s" % facts["agent_group"] if facts.get("agent_group") else ""
        lines.append("    agent host %s   resolver %s%s" % (facts["agent"], facts["resolver"], group))
        for endpoint in sorted((e for e in snap["endpoints"].values() if e["vpc_id"] == vpc_id), key=lambda e: e["id"]):
            lines.append("    %s %-9s %s  %s%s" % (
                endpoint["id"], endpoint["state"], endpoint["service_name"],
                ", ".join(model.interface_addresses(snap, endpoint)),
                "  private DNS %s" % endpoint.get("private_dns_name") if endpoint["private_dns"] else ""))
    return "\n".join(lines)
