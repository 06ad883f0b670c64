"""agent_config module: run in-process on real files; assert bytes, modes and results."""

import json
import os
import stat

import pytest

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:  # 2.16-2.18 read a module's arguments from basic._ANSIBLE_ARGS
    import contextlib

    from ansible.module_utils import basic

    @contextlib.contextmanager
    def patch_module_args(args=None):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.datadog_privatelink.aws.plugins.modules import agent_config

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "extensions", "molecule", "resources", "datadog_yaml")
OWNED = {"logs_config.force_use_http": True}


def run(capsys, check=False, diff=False, **args):
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            agent_config.main()
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exit_info.value.code
    return result


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "datadog.yaml"
    with open(os.path.join(FIXTURES, "example_full.yaml"), "rb") as handle:
        path.write_bytes(handle.read())
    path.chmod(0o640)
    return path


def test_changes_then_idempotent_and_keeps_mode(capsys, example):
    old = example.read_bytes()
    inode = example.stat().st_ino
    result = run(capsys, path=str(example), settings=OWNED)
    assert result["changed"] is True and result["changed_keys"] == ["logs_config.force_use_http"]
    assert example.read_bytes() == old + b"logs_config:\n  force_use_http: true\n"
    assert stat.S_IMODE(example.stat().st_mode) == 0o640
    assert example.stat().st_ino != inode  # replaced atomically, not rewritten in place
    again = run(capsys, path=str(example), settings=OWNED)
    assert again["changed"] is False and again["changed_keys"] == []


def test_check_mode_and_diff_change_nothing_and_mask_the_api_key(capsys, example):
    old = example.read_bytes()
    result = run(capsys, check=True, diff=True, path=str(example), settings={"site": "ap1.datadoghq.com", **OWNED})
    assert result["changed"] is True
    assert example.read_bytes() == old
    assert result["diff"]["after"].endswith("\nsite: ap1.datadoghq.com\nlogs_config:\n  force_use_http: true\n")
    assert "0123456789abcdef" not in result["diff"]["before"] + result["diff"]["after"]
    assert "api_key: ********" in result["diff"]["before"]


def test_backup(capsys, example):
    old = example.read_bytes()
    result = run(capsys, path=str(example), settings=OWNED, backup=True)
    with open(result["backup_file"], "rb") as handle:
        assert handle.read() == old


def test_invalid_yaml_fails_and_leaves_file(capsys, tmp_path):
    path = tmp_path / "datadog.yaml"
    with open(os.path.join(FIXTURES, "invalid_yaml.txt"), "rb") as handle:
        path.write_bytes(handle.read())
    old = path.read_bytes()
    result = run(capsys, path=str(path), settings=OWNED)
    assert result["failed"] is True and "not valid YAML" in result["msg"]
    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["datadog.yaml"]  # no temporary file left


def test_missing_file_is_an_error_unless_create(capsys, tmp_path):
    path = tmp_path / "datadog.yaml"
    result = run(capsys, path=str(path), settings=OWNED)
    assert result["failed"] is True and "does not exist" in result["msg"] and not path.exists()
    result = run(capsys, check=True, path=str(path), settings=OWNED, create=True)
    assert result["changed"] is True and not path.exists()
    result = run(capsys, path=str(path), settings=OWNED, create=True)
    assert result["changed"] is True and result["created"] is True
    assert path.read_bytes() == b"logs_config:\n  force_use_http: true\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failed_validate_leaves_file(capsys, example):
    old = example.read_bytes()
    result = run(capsys, path=str(example), settings=OWNED, validate="false %s")
    assert result["failed"] is True and "validate command failed" in result["msg"]
    assert example.read_bytes() == old
    result = run(capsys, path=str(example), settings=OWNED, validate="grep -q force_use_http %s")
    assert result["changed"] is True


def test_compose_service(capsys, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_bytes(b"services:\n  datadog:\n    image: gcr.io/datadoghq/agent:7\n    environment:\n      - DD_API_KEY=secret123\n")
    result = run(capsys, diff=True, path=str(path), compose_service="datadog",
                 settings={"DD_LOGS_CONFIG_FORCE_USE_HTTP": True})
    assert result["changed"] is True
    assert path.read_bytes().endswith(b"      - DD_API_KEY=secret123\n      - DD_LOGS_CONFIG_FORCE_USE_HTTP=true\n")
    assert "secret123" not in json.dumps(result)


def test_mask_secrets():
    text = "api_key: abc # comment\napp_key: 'x'\nsite: datadoghq.com\nproxy:\n  password: p\napi_key:\n"
    assert agent_config.mask_secrets(text) == (
        "api_key: ******** # comment\napp_key: ********\nsite: datadoghq.com\nproxy:\n  password: ********\napi_key:\n"
    )
