"""agents playbook: runs on the hosts the inventory gives (-i host,), refuses a pattern matching none."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"


def agents(tmp_path, inventory, *extra):
    config = tmp_path / "datadog.yaml"
    if not config.exists():
        config.write_text("api_key: abc\nlogs_enabled: true\n")
    command = ["ansible-playbook", "-i", inventory, "-c", "local", "datadog_privatelink.aws.agents",
               "-e", "ansible_python_interpreter=%s" % sys.executable, "-e", "agent_config_path=%s" % config,
               "-e", "agent_version=7.52.1", "-e", "agent_restart=false", "-e", "agents_check_intake=false",
               "-e", "agent_restart_when_intake_moves=false"] + list(extra)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_host_list_without_groups_is_targeted(tmp_path):
    result = agents(tmp_path, "agent-1.example.com,")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agent-1.example.com" in result.stdout.split("PLAY RECAP")[1]
    assert "force_use_http: true" in (tmp_path / "datadog.yaml").read_text()


def test_the_datadog_agents_group_wins_over_all(tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("other-host\n[datadog_agents]\nagent-2\n")
    result = agents(tmp_path, str(inventory))
    recap = result.stdout.split("PLAY RECAP")[1]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agent-2" in recap and "other-host" not in recap


def test_a_pattern_matching_no_host_fails_with_what_to_do(tmp_path):
    result = agents(tmp_path, "agent-1.example.com,", "-e", "agents_hosts=datadog_agents")
    assert result.returncode != 0
    assert "matches no host of the inventory" in result.stdout
    assert "force_use_http" not in (tmp_path / "datadog.yaml").read_text()


TEMPLATE = ROOT / "extensions" / "molecule" / "resources" / "datadog_yaml" / "example_full.yaml"
CONFIGURED = ROOT / "extensions" / "molecule" / "resources" / "datadog_yaml" / "expected" / "example_full.yaml"
LIBRARY = Path(__file__).resolve().parent / "library"


def fleet(tmp_path, configured=(), fresh=("agent-a", "agent-b", "agent-c")):
    """Local hosts, each with its own datadog.yaml: the Agent's template (fresh) or already configured."""
    lines = ["datadog_agents:", "  vars:", "    ansible_connection: local",
             "    ansible_python_interpreter: %s" % sys.executable, "    agent_version: '7.52.1'",
             "    agent_service_manager: fake_agent_service", "  hosts:"]
    for name in list(fresh) + list(configured):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "datadog.yaml").write_bytes((TEMPLATE if name in fresh else CONFIGURED).read_bytes())
        lines += ["    %s:" % name, "      agent_config_path: %s" % (tmp_path / name / "datadog.yaml"),
                  "      agent_service_name: svc-%s" % name,  # the fake service manager logs it
                  "      agent_pid_files: [%s]" % (tmp_path / name / "agent.pid"),
                  "      agent_intake_state_path: %s" % (tmp_path / name / "intake.json")]
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def play(inventory, log, *extra, forks=4):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0", ANSIBLE_FORKS=str(forks),
               ANSIBLE_LIBRARY=str(LIBRARY), FAKE_AGENT_SERVICE_LOG=str(log), ANSIBLE_DISPLAY_SKIPPED_HOSTS="0")
    result = subprocess.run(["ansible-playbook", "-i", str(inventory), "datadog_privatelink.aws.agents",
                             "-e", "agents_check_intake=false"] + list(extra),
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    return result.stdout


def recap(stdout):
    return {line.split()[0]: line for line in stdout.split("PLAY RECAP")[1].splitlines() if line.startswith("agent-")}


def restarts(log):
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def ran(stdout):
    """{task name: hosts it ran on (not skipped)} from the default callback's output."""
    counts, task = {}, None
    for line in stdout.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0].split(" : ", 1)[-1].split(" - ")[0]
        elif line.startswith(("ok: [agent-", "changed: [agent-")):
            counts[task] = counts.get(task, 0) + 1
    return counts


def most_at_once(records):
    return max(sum(1 for other in records if other["start"] < r["end"] and r["start"] < other["end"]) for r in records)


def test_one_module_call_per_host_no_facts_and_a_rerun_changes_nothing(tmp_path):
    inventory = fleet(tmp_path, configured=["agent-d"])
    log = tmp_path / "restarts.jsonl"
    first = play(inventory, log)
    assert "Gathering Facts" not in first
    assert {h: "changed=0" not in line for h, line in recap(first).items()} == {
        "agent-a": True, "agent-b": True, "agent-c": True, "agent-d": False}
    assert all((tmp_path / h / "datadog.yaml").read_bytes() == CONFIGURED.read_bytes()
               for h in ["agent-a", "agent-b", "agent-c", "agent-d"])

    rerun = play(inventory, log)
    assert all("changed=0" in line and "failed=0" in line for line in recap(rerun).values()), recap(rerun)
    # The common path per host: the role's argument check (on the controller) and one module call.
    assert ran(rerun) == {"Validating arguments against arg spec 'main'": 4, "Set the PrivateLink keys in datadog.yaml": 4}
    assert len(restarts(log)) == 3  # the first run's, none on the rerun


def test_restarts_in_batches_restart_exactly_the_agents_that_need_it(tmp_path):
    inventory = fleet(tmp_path, configured=["agent-d", "agent-e"], fresh=["agent-a", "agent-b", "agent-c"])
    log = tmp_path / "batch1.jsonl"
    out = play(inventory, log, "-e", "agents_batch_size=1")
    batched = restarts(log)
    assert sorted(r["name"] for r in batched) == ["svc-agent-a", "svc-agent-b", "svc-agent-c"], out
    assert most_at_once(batched) == 1

    inventory = fleet(tmp_path, configured=["agent-d", "agent-e"], fresh=["agent-a", "agent-b", "agent-c"])
    log = tmp_path / "unbatched.jsonl"
    play(inventory, log, "-e", "agents_batch_size=0")
    assert sorted(r["name"] for r in restarts(log)) == ["svc-agent-a", "svc-agent-b", "svc-agent-c"]

    play(inventory, log, "-e", "agents_batch_size=1")
    assert len(restarts(log)) == 3  # nothing changed since: no restart, batched or not
