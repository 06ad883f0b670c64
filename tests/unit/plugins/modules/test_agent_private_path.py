"""agent_private_path: the one call per Agent host, run in-process on real files and a real process."""

import json
import os
import stat

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.modules import agent_private_path
from ansible_collections.datadog_privatelink.aws.tests.unit.plugins.modules.test_agent_config import FIXTURES, patch_module_args

EXPECTED = os.path.join(FIXTURES, "expected")


def run(capsys, check=False, diff=False, **args):
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            agent_private_path.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exit_info.value.code
    return result


def host(tmp_path, fixture="example_full.yaml"):
    """A host's datadog.yaml (the Agent's template) and where the restart rule keeps its record; no Agent runs."""
    path = tmp_path / "datadog.yaml"
    with open(os.path.join(FIXTURES, fixture), "rb") as handle:
        path.write_bytes(handle.read())
    path.chmod(0o640)
    return {"config_path": str(path), "pid_files": [str(tmp_path / "agent.pid")],
            "state_path": str(tmp_path / "state" / "intake.json")}


def expected(fixture):
    with open(os.path.join(EXPECTED, fixture), "rb") as handle:
        return handle.read()


def test_first_run_edits_and_asks_for_one_restart_then_nothing(capsys, tmp_path):
    args = host(tmp_path)
    first = run(capsys, agent_version="7.52.1", **args)
    assert first["rc"] == 0, first
    assert first["changed"] is True and first["restart_needed"] is True
    assert first["changed_keys"] == ["logs_config.force_use_http"]
    assert first["restart_reasons"] == ["%s changed: logs_config.force_use_http" % args["config_path"]]
    assert "intake" not in first  # the file changed: the restart is due anyway, no name was resolved
    assert open(args["config_path"], "rb").read() == expected("example_full.yaml")
    assert stat.S_IMODE(os.stat(args["config_path"]).st_mode) == 0o640

    again = run(capsys, agent_version="7.52.1", **args)
    assert again["changed"] is False and again["restart_needed"] is False and again["restart_reasons"] == []
    assert again["intake"]["agent_pids"] == [] and again["intake"]["addresses"] == {}  # no Agent: nothing resolved
    assert not os.path.exists(args["state_path"])  # nothing recorded for an Agent that does not run


def test_check_mode_predicts_and_touches_nothing(capsys, tmp_path):
    args = host(tmp_path)
    before = open(args["config_path"], "rb").read()
    predicted = run(capsys, check=True, diff=True, agent_version="7.52.1", **args)
    assert predicted["changed"] is True and predicted["restart_needed"] is True
    assert "+  force_use_http: true" in predicted["diff"]["after"] or "force_use_http: true" in predicted["diff"]["after"]
    assert "0123456789abcdef" not in json.dumps(predicted)  # the API key stays masked in the diff
    assert open(args["config_path"], "rb").read() == before


def test_the_version_is_read_on_the_host_only_when_it_decides_something(capsys, tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "calls"
    agent = tools / "datadog-agent"
    agent.write_text("#!/bin/sh\necho called >> %s\necho 'Agent 6.15.0 - Commit: 1a2b3c4 - Serialization version: v5.0.90'\n"
                     % calls)
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (tools, os.environ["PATH"]))
    args = host(tmp_path, "logs_config_existing.yaml")

    old_agent = run(capsys, **args)  # use_http=auto and no version given: read it, 6.15 needs use_http too
    assert old_agent["agent_version"] == "6.15.0" and old_agent["settings"]["logs_config.use_http"] is True
    assert open(args["config_path"], "rb").read() == expected("logs_config_existing.yaml")
    assert calls.read_text().count("called") == 1  # read once, though the restart rule also uses it

    given = run(capsys, agent_version="6.15.0", **args)
    assert given["changed"] is False and calls.read_text().count("called") == 1


def test_a_running_agent_whose_names_moved_restarts_once_the_file_unchanged(capsys, tmp_path):
    args = host(tmp_path)
    run(capsys, agent_version="7.52.1", **args)  # the file is in place
    pid_file = tmp_path / "agent.pid"
    pid_file.write_text("%d\n" % os.getpid())  # this process stands in for the running Agent
    args.update(services=["api"], ports=[1])
    recorded = run(capsys, agent_version="7.52.1", **args)
    assert recorded["changed"] is False and recorded["intake"]["agent_pids"] == [os.getpid()]
    assert set(recorded["intake"]["addresses"]) == {"api.datadoghq.com"}
    with open(args["state_path"]) as handle:
        state = json.load(handle)
    state["addresses"]["api.datadoghq.com"] = ["52.4.1.10"]  # what the name resolved to when the Agent started
    with open(args["state_path"], "w") as handle:
        json.dump(state, handle)
    before = open(args["config_path"], "rb").read()

    predicted = run(capsys, check=True, diff=True, agent_version="7.52.1", **args)
    assert predicted["restart_needed"] is True and "52.4.1.10" in predicted["diff"]["before"]
    due = run(capsys, agent_version="7.52.1", **args)
    assert due["changed"] is True and due["restart_needed"] is True
    assert due["restart_reasons"][0].startswith("api.datadoghq.com moved from 52.4.1.10")
    assert open(args["config_path"], "rb").read() == before
    assert run(capsys, agent_version="7.52.1", **args)["restart_needed"] is True  # due until the restart is recorded

    off = run(capsys, agent_version="7.52.1", restart_when_intake_moves=False, **args)
    assert off["changed"] is False and "intake" not in off


def test_macos_paths_and_no_proc_rule(capsys, tmp_path, monkeypatch):
    real = os.uname()
    monkeypatch.setattr(agent_private_path.os, "uname", lambda: ("Darwin",) + tuple(real)[1:])
    missing = run(capsys, agent_version="7.52.1", pid_files=[], state_path=str(tmp_path / "s.json"))
    assert missing["failed"] is True and missing["platform"] == "Darwin"
    assert "/opt/datadog-agent/etc/datadog.yaml" in missing["msg"] and "Is the Agent installed" in missing["msg"]
    args = host(tmp_path)
    done = run(capsys, agent_version="7.52.1", **args)
    assert done["changed"] is True and "intake" not in done
    assert run(capsys, agent_version="7.52.1", **args)["changed"] is False


def test_invalid_yaml_is_refused_and_left_alone(capsys, tmp_path):
    args = host(tmp_path, "invalid_yaml.txt")
    before = open(args["config_path"], "rb").read()
    result = run(capsys, agent_version="7.52.1", **args)
    assert result["failed"] is True and "not valid YAML" in result["msg"]
    assert "0123456789abcdef" not in json.dumps(result)
    assert open(args["config_path"], "rb").read() == before


def test_bad_options_say_what_to_change(capsys, tmp_path):
    args = host(tmp_path)
    assert "must be auto, true or false" in run(capsys, use_http="sometimes", **args)["msg"]
    assert "PrivateLink" in run(capsys, site="us3", agent_version="7.52.1", **args)["msg"]
