"""A running Agent moved onto the private path with exactly one restart, shown on the wire.

The stand-in Agent (the one molecule uses, with ``--send``) runs in a peered Agent VPC's namespace
as a sysvinit service. Started while the Agent VPC had no private zone, it sends to the public
intake and keeps its connections when the zones are associated. The agents playbook, run with its
modules inside that namespace, restarts it once (its datadog.yaml needs no change); it then sends
to the endpoints only. The rerun and check mode restart nothing.
"""

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
import yaml

from tests.twin.conftest import COLLECTIONS, ROOT, SERVICES, STATE_DIR

STANDIN = ROOT / "extensions" / "molecule" / "resources" / "standin" / "datadog_agent.py"
INIT_SCRIPT = """#!/bin/sh
# Test service: the stand-in Agent in %(namespace)s (made by tests/twin/test_agent_restart.py).
PIDFILE=%(pid)s
case "$1" in
  start)
    setsid ip netns exec %(namespace)s env STANDIN_VERSION=7.52.1 %(python)s %(standin)s run --config %(config)s \\
      -p $PIDFILE --state %(state)s --send --ca %(ca)s --interval 0.3 --rounds 600 >>%(log)s 2>&1 </dev/null &
    for _ in $(seq 1 100); do [ -s $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null && exit 0; sleep 0.05; done
    exit 1 ;;
  stop)
    [ -s $PIDFILE ] && kill "$(cat $PIDFILE)" 2>/dev/null
    for _ in $(seq 1 100); do [ -s $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null || { rm -f $PIDFILE; exit 0; }; sleep 0.05; done
    exit 1 ;;
  status)
    if [ -s $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; then echo "running"; exit 0; fi
    echo "stopped"; exit 3 ;;
esac
"""


def zones_of_vpc(vpc_id):
    r53 = boto3.client("route53")
    return [z["Id"] for z in r53.list_hosted_zones()["HostedZones"]
            if vpc_id in {v["VPCId"] for v in r53.get_hosted_zone(Id=z["Id"])["VPCs"]}]


@pytest.fixture
def standin(twin_scenario, tmp_path):
    agent = twin_scenario.peered_agents[1]  # ap-northeast-1: another region than the endpoints
    namespace = twin_scenario.api.namespace(agent["vpc_id"])
    name = "ddpl-standin-%d" % os.getpid()
    facts = {"namespace": namespace, "pid": tmp_path / "agent.pid", "python": sys.executable, "standin": STANDIN,
             "config": tmp_path / "datadog.yaml", "state": tmp_path / "state", "ca": twin_scenario.api.ca_path(STATE_DIR),
             "log": tmp_path / "standin.log"}
    facts["config"].write_text("api_key: 0123456789abcdef0123456789abcdef\nsite: %s\nlogs_enabled: true\n"
                               "logs_config:\n  force_use_http: true\n" % twin_scenario.site)
    script = "/etc/init.d/" + name
    with open(script, "w") as handle:
        handle.write(INIT_SCRIPT % facts)
    os.chmod(script, 0o755)
    interpreter = tmp_path / "python-in-vpc"
    interpreter.write_text("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (namespace, sys.executable))
    interpreter.chmod(0o755)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"datadog_agents": {"hosts": {"agent-in-" + agent["vpc_id"]: {
        "ansible_connection": "local",
        # every module of the play runs inside the Agent VPC's namespace, as on a host of that VPC
        "ansible_python_interpreter": str(interpreter),
        "agent_config_path": str(facts["config"]), "agent_version": "7.52.1", "agent_site": twin_scenario.site,
        "agent_service_name": name, "agent_service_manager": "sysvinit", "agent_pid_files": [str(facts["pid"])],
        "agent_intake_state_path": str(tmp_path / "intake-addresses.json"), "agent_intake_services": SERVICES,
        "agents_expected_cidrs": [twin_scenario.layout[twin_scenario.peered_endpoint_vpc]["cidr"]],
        "agents_dns_mode": "private_zone"}}}}))
    yield agent, facts, script, inventory
    subprocess.run([script, "stop"], capture_output=True, check=False)
    os.unlink(script)


def starts(facts):
    path = facts["state"] / "starts.jsonl"
    return len(path.read_text().splitlines()) if path.exists() else 0


def sends_after(twin_scenario, agent, since, hosts, rounds=3):
    """The intake records of the stand-in's sends to hosts (by the Agent host's address), after since."""
    deadline = time.time() + 15
    source = twin_scenario.layout[agent["vpc_id"]]["agent"]
    while time.time() < deadline:
        seen = [r for r in twin_scenario.api.requests(since=since, state_dir=STATE_DIR)
                if r["source"] == source and r["host"] in hosts]
        if len({r["host"] for r in seen}) == len(hosts) and len(seen) >= rounds * len(hosts):
            return seen
        time.sleep(0.3)
    raise AssertionError("the stand-in did not send to %s (log: %s)" % (hosts, (since, seen)))


def agents_playbook(inventory, *flags):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    process = subprocess.run(["ansible-playbook", "-i", str(inventory), "datadog_privatelink.aws.agents"] + list(flags),
                             capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300, check=False)
    assert process.returncode == 0, process.stdout[-5000:] + process.stderr[-2000:]
    return process.stdout


def test_an_agent_started_before_the_zones_moves_to_the_private_path_with_one_restart(twin_scenario, standin):
    agent, facts, script, inventory = standin
    site = twin_scenario.site
    hosts = {"7-52-1-app.agent.%s" % site, "agent-http-intake.logs.%s" % site}  # what the Agent sends, per its config
    r53 = boto3.client("route53")
    vpc = {"VPCRegion": agent["region"], "VPCId": agent["vpc_id"]}
    zone_ids = zones_of_vpc(agent["vpc_id"])
    assert len(zone_ids) == len(SERVICES)
    for zone_id in zone_ids:  # the Agent VPC as it was before the zones existed
        r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC=vpc)
    twin_scenario.sync()
    started = time.time()
    subprocess.run([script, "start"], check=True, capture_output=True)
    assert {r["side"] for r in sends_after(twin_scenario, agent, started, hosts)} == {"public"}

    for zone_id in zone_ids:  # the zones now exist for this VPC; the running Agent keeps its connections
        r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=vpc)
    twin_scenario.sync()
    associated = time.time()
    assert {r["side"] for r in sends_after(twin_scenario, agent, associated, hosts)} == {"public"}
    assert starts(facts) == 1

    predicted = agents_playbook(inventory, "--check")
    assert "RUNNING HANDLER [datadog_privatelink.aws.agent : Restart the Datadog Agent]" not in predicted or starts(facts) == 1
    assert starts(facts) == 1  # check mode restarts nothing
    assert "changed: [agent-in-%s]" % agent["vpc_id"] in predicted  # ... but predicts the restart

    moved = agents_playbook(inventory, "-v")
    assert starts(facts) == 2, moved  # exactly one restart; datadog.yaml needed no change
    assert "moved from 198.51.100." in moved or "public addresses (198.51.100." in moved
    restarted = time.time()
    sends = sends_after(twin_scenario, agent, restarted, hosts)
    assert {r["side"] for r in sends} == {"private"}, (
        [(r["time"], r["host"], r["side"]) for r in sends], (facts["state"] / "sends.jsonl").read_text()[-3000:],
        (facts["state"] / "starts.jsonl").read_text(), subprocess.run(["ps", "-ef"], capture_output=True, text=True).stdout)
    endpoints = twin_scenario.endpoints(twin_scenario.peered_endpoint_vpc)
    assert {r["endpoint_id"] for r in sends} == {endpoints["metrics"]["VpcEndpointId"],
                                                 endpoints["logs_agent"]["VpcEndpointId"]}
    assert "0 intake names are not on the private path" not in moved  # the check passed, it did not only report

    rerun = agents_playbook(inventory)
    assert starts(facts) == 2, rerun  # nothing moved since: no restart
    recap = [line for line in rerun.splitlines() if line.startswith("agent-in-")]
    assert recap and "changed=0" in recap[0], recap
    assert json.loads((facts["state"] / "starts.jsonl").read_text().splitlines()[-1])["force_use_http"] is True
