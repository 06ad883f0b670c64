"""Fixtures for the network twin, reusable by any test that runs real clients inside a VPC.

``twin_scenario`` (session): a sandbox (subprocess), the demo's network, the three scenario
playbooks run on it, then the twin up; torn down at the end. Tests get VPC ids, endpoint ids per
service and helpers (``send``, ``requests``, ``sync``). Root and ``ip netns`` are needed: without
them every test here is skipped with the reason.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.datadog import catalog  # noqa: E402
from sandbox.demo_network import OTHER_KEYS, SITE  # noqa: E402
from sandbox.server import start_sandbox  # noqa: E402

COLLECTIONS = ROOT / ".cache" / "collections"
STATE_DIR = ROOT / ".cache" / "twin-tests"
# The services the real clients reach (logs, API) and the Agent's metrics intake: few, to keep the playbooks short.
SERVICES = ["logs_user", "api", "metrics"]
CLIENT_TIMEOUT = 1.5


def twin_unavailable():
    """Why the twin cannot run here, or None."""
    if os.geteuid() != 0:
        return "the network twin needs root (it creates network namespaces); CI runs as root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return "%s is not installed (./dev twin up installs iproute2 and nftables)" % tool
    probe = "ddpl-probe-%d" % os.getpid()
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        return "ip netns does not work here: %s" % made.stderr.strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def run_playbook(playbook, var_files, extra):
    command = ["ansible-playbook", playbook] + [arg for path in var_files for arg in ("-e", "@%s" % path)]
    command += ["-e", json.dumps(extra)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    process = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=600, check=False)
    assert process.returncode == 0, "%s failed:\n%s\n%s" % (playbook, process.stdout[-4000:], process.stderr[-2000:])
    return process.stdout


class Scenario:
    """The demo's three scenarios in one sandbox, with the twin up."""

    def __init__(self, sandbox, variables, twin_api):
        self.sandbox, self.vars, self.api = sandbox, variables, twin_api
        self.site = SITE
        self.same_region_vpc = variables["same_region"]["endpoints_vpc_id"]
        self.cross_region_vpc = variables["cross_region"]["endpoints_vpc_id"]
        self.peered_endpoint_vpc = variables["peered_region"]["endpoints_vpc_id"]
        self.peered_agents = variables["peered_region"]["peering_agent_vpcs"]

    def ec2(self, region="us-east-1", account_keys=None):
        keys = {"aws_access_key_id": account_keys["access_key"], "aws_secret_access_key": account_keys["secret_key"]} \
            if account_keys else {}
        return boto3.client("ec2", region_name=region, **keys)

    def endpoints(self, vpc_id, region="us-east-1"):
        """{service key: endpoint id} of the Datadog endpoints of a VPC."""
        names = {e["service_name"]: e["key"] for e in catalog.service_entries(self.site)}
        found = self.ec2(region).describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
        return {names[e["ServiceName"]]: e for e in found if e["ServiceName"] in names and e["State"] == "available"}

    def send(self, vpc_id, only=None, timeout=CLIENT_TIMEOUT):
        """Run the real clients in the VPC's namespace; (results, records since they started)."""
        started = time.time()
        results = self.api.send_clients(vpc_id, self.site, only=only, timeout=timeout, state_dir=STATE_DIR)
        return results, self.api.requests(since=started, state_dir=STATE_DIR)

    def sync(self):
        return self.api.wait_synced(timeout=10, state_dir=STATE_DIR)

    state_dir = STATE_DIR

    def ca_path(self):
        return self.api.ca_path(STATE_DIR)


@pytest.fixture(scope="session")
def twin_scenario():
    reason = twin_unavailable()
    if reason:
        pytest.skip(reason)
    from twin import api

    box = start_sandbox(port=0, pending_seconds=0, subprocess=True)
    env = box.env("us-east-1")
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    workdir = Path(tempfile.mkdtemp(prefix="twin-scenario-"))
    try:
        subprocess.run([sys.executable, str(ROOT / "sandbox" / "demo_network.py"), str(workdir)], check=True,
                       capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
        extra = {"endpoints_services": SERVICES}
        runs = {name: ("datadog_privatelink.aws." + name, [workdir / "demo_vars.yml", workdir / ("demo_%s.yml" % name)])
                for name in ("same_region", "cross_region", "peered_region")}
        with ThreadPoolExecutor(3) as pool:  # three independent VPC sets: the playbooks mostly wait
            outputs = dict(zip(runs, pool.map(lambda run: run_playbook(run[0], run[1], extra), runs.values())))
        assert all(outputs.values())
        variables = {name: json.loads((workdir / ("demo_%s.yml" % name)).read_text()) for name in runs}
        conf = api.up(endpoint_url=box.url, account_keys=[OTHER_KEYS["access_key"]], state_dir=STATE_DIR)
        scenario = Scenario(box, variables, api)
        scenario.up_seconds = conf["seconds"]
        scenario.layout = conf["layout"]
        yield scenario
    finally:
        from twin import api as twin_api, net

        made = (twin_api.config(STATE_DIR) or {}).get("namespaces", [])
        twin_api.down(STATE_DIR)
        twin_api.down(STATE_DIR)  # idempotent
        box.stop()
        left = [name for name in made if net.exists(name) or (net.ETC_NETNS / name).exists()]
        assert left == [], "twin down left %s behind" % left
        shutil.rmtree(workdir, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
