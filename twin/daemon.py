"""The twin's one long-running process: DNS, intakes and the reconciler, for every namespace.

Started by ``twin up`` (``python -m twin daemon``). It re-reads the sandbox whenever its state
generation moves, swaps the snapshot DNS answers from and re-applies nftables (one ``nft -f``
per namespace whose rules changed). It exits by itself after its maximum lifetime or when the
sandbox stops answering, and then removes the namespaces it served.
"""

import faulthandler
import json
import logging
import os
import signal
import threading
import time

from twin import model, net, paths
from twin.aws_state import Reader
from twin.dns_server import open_resolver
from twin.intake import HTTPS_PORT, LOGS_TCP_PORT, Recorder, open_intake

POLL_SECONDS = 0.25
PENDING_REFRESH_SECONDS = 1.0
SANDBOX_GONE_SECONDS = 10.0
DEFAULT_LIFETIME_SECONDS = 2 * 3600

log = logging.getLogger("twin")


def write_json(path, data):
    partial = str(path) + ".tmp"
    with open(partial, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(partial, path)


class Twin:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        with open(paths.config_path(state_dir)) as handle:
            self.config = json.load(handle)
        self.layout = self.config["layout"]
        self.reader = Reader(self.config["endpoint_url"], self.config["account_keys"])
        self.snapshot, self.generation = None, None
        self.applied = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.servers = []

    def current(self):
        return self.snapshot

    def refresh(self, reuse=False):
        generation = self.reader.generation()  # read before the state: a change during the read shows next time
        snap = None
        if reuse:  # `twin up` read the state just before starting us: use it while nothing changed
            try:
                with open(paths.model_path(self.state_dir)) as handle:
                    snap = json.load(handle)
            except (OSError, ValueError):
                snap = None
            if snap is not None and snap.get("generation") != generation:
                snap = None
        if snap is None:
            snap = self.reader.snapshot(self.config["regions"], list(self.layout), self.config.get("agent_groups"))
            snap["generation"] = generation
        scripts = model.firewall(snap, self.layout, self.config["fabric"])
        for namespace, script in scripts.items():
            if self.applied.get(namespace) != script:
                net.apply_nft(namespace, script)
                self.applied[namespace] = script
        self.snapshot, self.generation = snap, generation
        write_json(paths.model_path(self.state_dir), snap)
        write_json(paths.synced_path(self.state_dir), {"generation": generation, "time": time.time(), "pid": os.getpid()})

    def classify_private(self, vpc_id):
        def classify(address):
            endpoint = model.endpoint_of_address(self.snapshot, vpc_id, address)
            if endpoint is None:
                return None
            return {"side": "private", "endpoint_id": endpoint["id"], "service_name": endpoint["service_name"],
                    "vpc_id": vpc_id}
        return classify

    def open_listeners(self):
        recorder = Recorder(paths.requests_path(self.state_dir))
        server_pem = os.path.join(self.state_dir, "server.pem")
        threads = []
        for vpc_id, facts in sorted(self.layout.items()):
            with net.in_namespace(facts["namespace"]):
                servers, dns_threads = open_resolver(vpc_id, facts["resolver"], self.current)
                self.servers += [s.server for s in servers]
                threads += dns_threads
                server, thread = open_intake("0.0.0.0", HTTPS_PORT, server_pem, recorder, self.classify_private(vpc_id))
                self.servers.append(server)
                threads.append(thread)
        with net.in_namespace(self.config["internet"]):
            for port, raw in ((HTTPS_PORT, False), (LOGS_TCP_PORT, True)):
                server, thread = open_intake(paths.PUBLIC_ADDRESS, port, server_pem, recorder,
                                             lambda _address: {"side": "public"}, raw=raw)
                self.servers.append(server)
                threads.append(thread)
        for thread in threads:
            thread.start()

    def run(self, lifetime):
        deadline = time.monotonic() + lifetime
        self.refresh(reuse=True)
        self.open_listeners()
        last_ok = time.monotonic()
        last_refresh = time.monotonic()
        reason = "lifetime of %d s reached" % lifetime
        while not self.stopping.wait(POLL_SECONDS):
            now = time.monotonic()
            if now > deadline:
                break
            try:
                generation = self.reader.generation()
                last_ok = now
            except OSError as exc:  # the sandbox may be restarting: give up only after a while
                if now - last_ok > SANDBOX_GONE_SECONDS:
                    reason = "the sandbox stopped answering (%s)" % exc
                    break
                continue
            pending = any(e["state"] == "pending" for e in self.snapshot["endpoints"].values())
            if generation != self.generation or (pending and now - last_refresh > PENDING_REFRESH_SECONDS):
                try:
                    self.refresh()
                except Exception as exc:  # noqa: BLE001 - keep serving the last state; retried a little later
                    log.warning("refresh failed: %s", exc)
                    self.stopping.wait(2)
                last_refresh = now
        else:
            reason = "stopped"
        log.info("exiting: %s", reason)
        for server in self.servers:
            server.server_close()
        if reason != "stopped":  # nobody will call `twin down`: clean up behind ourselves
            net.teardown(self.config["namespaces"])
        return 0


def main(state_dir, lifetime=DEFAULT_LIFETIME_SECONDS):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # A client that hangs up mid-answer (an Agent restarted) must cost one BrokenPipeError, not the process.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    faulthandler.enable()  # a crash in C (ssl, sockets) leaves its stack in daemon.log instead of a silent death
    log.info("started (pid %d)", os.getpid())
    twin = Twin(state_dir)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: twin.stopping.set())
    for signum in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):  # would end us without a word
        signal.signal(signum, lambda number, _frame: log.warning("signal %d received, ignored", number))
    try:
        return twin.run(lifetime)
    except Exception:
        log.exception("the twin failed")
        write_json(os.path.join(state_dir, "failed.json"), {"time": time.time(), "pid": os.getpid()})
        raise
