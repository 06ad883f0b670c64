"""agents playbook: runs on the hosts the inventory gives (-i host,), refuses a pattern matching none."""

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
