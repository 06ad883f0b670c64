"""agent_intake_addresses on this host: a real process holding a real connection, /proc read as on an Agent host."""

import json
import socket
import subprocess
import sys

import pytest

from conftest import run_module

HOLDER = """
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
time.sleep(60)
"""


@pytest.fixture
def agent(tmp_path):
    """A stand-in Agent process: a pid file and a kept TCP connection on an intake-like port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(port)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "connected"
    pid_file = tmp_path / "agent.pid"
    pid_file.write_text("%d\n" % process.pid)
    args = {"site": "us1", "services": ["api"], "agent_version": "7.52.1", "config_path": "",
            "pid_files": [str(pid_file)], "ports": [port], "state_path": str(tmp_path / "state" / "addresses.json")}
    yield args, process
    process.kill()
    process.wait()
    server.close()


def test_first_run_records_the_running_agent_and_the_rerun_changes_nothing(agent):
    args, process = agent
    first = run_module("agent_intake_addresses", args)
    assert not first["failed"], first.get("msg")
    assert first["agent_pids"] == [process.pid] and first["changed"] is False and first["restart_due"] is False
    assert set(first["addresses"]) == {"api.datadoghq.com"}  # the metrics host is not among the services asked
    saved = json.loads(open(args["state_path"]).read())
    assert saved["addresses"] == first["addresses"] and saved["agent"].endswith(":%d" % process.pid)
    again = run_module("agent_intake_addresses", args)
    assert again["changed"] is False and again["recorded"] == first["addresses"]


def test_names_that_moved_since_the_agent_started_make_a_restart_due_once(agent):
    args, _process = agent
    run_module("agent_intake_addresses", args)
    with open(args["state_path"]) as handle:
        saved = json.load(handle)
    saved["addresses"]["api.datadoghq.com"] = ["52.4.1.10"]  # what the name resolved to when the Agent started
    with open(args["state_path"], "w") as handle:
        json.dump(saved, handle)
    predicted = run_module("agent_intake_addresses", args, check=True, diff=True)
    assert predicted["changed"] is True and predicted["restart_due"] is True
    assert "api.datadoghq.com moved from 52.4.1.10" in predicted["reason"]
    assert "52.4.1.10" in predicted["diff"]["before"]
    assert json.load(open(args["state_path"]))["addresses"]["api.datadoghq.com"] == ["52.4.1.10"]  # check mode wrote nothing
    due = run_module("agent_intake_addresses", args)
    assert due["changed"] is True  # until the restart is recorded, it stays due
    recorded = run_module("agent_intake_addresses", dict(args, record=True))
    assert recorded["changed"] is False
    assert run_module("agent_intake_addresses", args)["changed"] is False


def test_no_running_agent_needs_no_restart(tmp_path):
    result = run_module("agent_intake_addresses", {"site": "us1", "agent_version": "7.52.1", "config_path": "",
                                                   "pid_files": [str(tmp_path / "missing.pid")],
                                                   "state_path": str(tmp_path / "addresses.json")})
    assert result["changed"] is False and result["agent_pids"] == [] and "no Agent process" in result["reason"]
    assert "7-52-1-app.agent.datadoghq.com" in result["addresses"]
