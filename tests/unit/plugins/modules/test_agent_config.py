"""agent_config module: run in-process on real files; assert bytes, modes and results."""

import errno
import fcntl
import json
import os
import stat
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

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
from ansible_collections.datadog_privatelink.aws.tests.unit.plugins.module_utils import test_yaml_edit

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


# ---------------------------------------------------------------------------------
# The Agent's file: links, locks, size, and what goes wrong on the host.

COLLECTIONS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".cache", "collections")


def module_process(path, settings, **extra):
    """Start the module as Ansible does (its own process reading an args file)."""
    args = dict(path=str(path), settings=settings, **extra)
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    with handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(COLLECTIONS))
    process = subprocess.Popen(
        [sys.executable, "-m", "ansible_collections.datadog_privatelink.aws.plugins.modules.agent_config", handle.name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    process.args_file = handle.name
    return process


def finish(process):
    out, err = process.communicate(timeout=120)
    os.unlink(process.args_file)
    try:
        return json.loads(out)
    except ValueError:
        raise AssertionError("no JSON from the module:\n%s\n%s" % (out, err))


def test_symlink_target_is_edited_and_the_link_kept(capsys, tmp_path, example):
    etc = tmp_path / "etc"
    etc.mkdir()
    link = etc / "datadog.yaml"
    link.symlink_to(os.path.relpath(example, etc))
    old = example.read_bytes()
    result = run(capsys, path=str(link), settings=OWNED, backup=True, mode="0600")
    assert result["changed"] is True and result["path"] == str(link)
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(example, etc)
    assert example.read_bytes() == old + b"logs_config:\n  force_use_http: true\n"
    assert stat.S_IMODE(example.stat().st_mode) == 0o600
    # the temporary file and the backup sit beside the target, nothing beside the link
    assert os.listdir(etc) == ["datadog.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "etc")[0] == "datadog.yaml"
    assert result["backup_file"].startswith(str(example) + ".")
    assert run(capsys, path=str(link), settings=OWNED)["changed"] is False


def test_dangling_symlink_with_create_makes_the_target(capsys, tmp_path):
    link = tmp_path / "datadog.yaml"
    link.symlink_to("real.yaml")
    result = run(capsys, path=str(link), settings=OWNED, create=True)
    assert result["changed"] is True and link.is_symlink()
    assert (tmp_path / "real.yaml").read_bytes() == b"logs_config:\n  force_use_http: true\n"


def test_eight_concurrent_runs_setting_eight_keys_all_survive(tmp_path):
    path = tmp_path / "datadog.yaml"
    path.write_bytes(b"api_key: 0123456789abcdef0123456789abcdef\nlogs_config:\n  use_compression: true\n")
    keys = ["logs_config.key_%d" % i for i in range(8)]
    processes = [module_process(path, {key: i}) for i, key in enumerate(keys)]
    results = [finish(p) for p in processes]
    assert [r.get("failed", False) for r in results] == [False] * 8, results
    assert [r["changed_keys"] for r in results] == [[key] for key in keys]
    data = yaml.safe_load(path.read_text())
    assert data["logs_config"] == dict([("use_compression", True)] + [(k.split(".")[1], i) for i, k in enumerate(keys)])
    assert os.listdir(tmp_path) == ["datadog.yaml"]


def test_concurrent_creations_take_turns(tmp_path):
    path = tmp_path / "datadog.yaml"
    processes = [module_process(path, {"key_%d" % i: i}, create=True) for i in range(4)]
    results = [finish(p) for p in processes]
    assert [r.get("failed", False) for r in results] == [False] * 4, results
    assert yaml.safe_load(path.read_text()) == {"key_%d" % i: i for i in range(4)}


def test_a_held_lock_times_out_with_a_clear_message(capsys, example):
    old = example.read_bytes()
    with open(example, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        result = run(capsys, path=str(example), settings=OWNED, lock_timeout=1)
        waited = time.monotonic() - started
    assert result["failed"] is True and 1 <= waited < 10
    assert "is being edited by another run" in result["msg"] and "lock_timeout" in result["msg"]
    assert example.read_bytes() == old
    # check mode reads without waiting
    with open(example, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert run(capsys, check=True, path=str(example), settings=OWNED, lock_timeout=1)["changed"] is True


def test_five_megabytes_with_nothing_to_change(capsys, tmp_path):
    path = tmp_path / "datadog.yaml"
    path.write_text(test_yaml_edit.big_datadog_yaml())
    before = path.stat()
    started = time.process_time()
    result = run(capsys, path=str(path), settings={"logs_config.force_use_http": True})
    spent = time.process_time() - started
    assert result["changed"] is False and result["msg"] == "already set"
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.stat().st_ino == before.st_ino
    if getattr(yaml, "__with_libyaml__", False):
        assert spent < 2, "%.2f s of CPU" % spent


@pytest.mark.parametrize(
    "fault, words",
    [
        (errno.EROFS, "is on a read-only file system, so it cannot be written; nothing changed."),
        (errno.EACCES, "Permission denied: %s cannot be written by this user; run the task with become: true"),
        (errno.ENOSPC, "No space left on the device of %s"),
    ],
)
def test_write_failures_say_what_to_change_and_leave_the_file(capsys, monkeypatch, example, fault, words):
    old = example.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(fault, os.strerror(fault))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = run(capsys, path=str(example), settings=OWNED)
    assert result["failed"] is True and (words % example if "%s" in words else words) in result["msg"], result["msg"]
    assert "Traceback" not in json.dumps(result) and example.read_bytes() == old


def test_read_failure_says_what_to_change(capsys, monkeypatch, example):
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path) == str(example):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(agent_config.os, "open", refuse)
    result = run(capsys, path=str(example), settings=OWNED)
    assert result["failed"] is True and "Permission denied: %s cannot be read" % example in result["msg"]


def test_missing_parent_directory(capsys, tmp_path):
    path = tmp_path / "no-agent" / "datadog.yaml"
    result = run(capsys, path=str(path), settings=OWNED, create=True)
    assert result["failed"] is True
    assert result["msg"] == ("The directory %s of %s does not exist. Is the Agent installed on this host, and is the "
                             "path right? Nothing changed." % (path.parent, path))
    assert not path.parent.exists()


def test_not_utf8_gives_the_place_not_the_bytes(capsys, tmp_path):
    path = tmp_path / "datadog.yaml"
    path.write_bytes(b"api_key: 0123456789abcdef\nsite: dat\xffadoghq.com\n")
    result = run(capsys, path=str(path), settings=OWNED)
    assert result["msg"] == "%s: The file is not UTF-8 text (a byte at line 2, column 10); left untouched." % path


def test_parse_errors_in_the_result_never_show_the_api_key(capsys, tmp_path):
    key = "0123456789abcdef0123456789abcdef"
    path = tmp_path / "datadog.yaml"
    for text in ('api_key: "%s\nsite: datadoghq.com\n' % key, "api_key:\t%s\n  x: [\n" % key):
        path.write_text(text)
        result = run(capsys, diff=True, path=str(path), settings=OWNED)
        assert result["failed"] is True and "not valid YAML" in result["msg"]
        assert test_yaml_edit.leaks(json.dumps(result), key) == [], result


@pytest.mark.parametrize("name", sorted(test_yaml_edit.MASK_CASES))
def test_diff_masks_every_style(capsys, tmp_path, name):
    text = test_yaml_edit.MASK_CASES[name]
    if name == "unparsable":
        return
    path = tmp_path / "datadog.yaml"
    path.write_text(text)
    settings = {"DD_LOGS_CONFIG_FORCE_USE_HTTP": "true"} if name.startswith("compose") else {"site": "ap1.datadoghq.com"}
    extra = {"compose_service": "datadog"} if name.startswith("compose") else {}
    result = run(capsys, check=True, diff=True, path=str(path), settings=settings, **extra)
    assert result["changed"] is True, result
    assert result["diff"]["before"] != result["diff"]["after"]
    assert test_yaml_edit.leaks(json.dumps(result), *test_yaml_edit.SECRETS) == [], result["diff"]


def test_a_secret_set_through_settings_stays_out_of_the_result(capsys, tmp_path):
    path = tmp_path / "datadog.yaml"
    path.write_text("site: datadoghq.com\n")
    result = run(capsys, diff=True, path=str(path), settings={"api_key": "Zq9Rw3Xp1Vb6NewKey"})
    assert result["changed"] is True and "Zq9Rw3Xp1Vb6NewKey" not in json.dumps(result)
    assert yaml.safe_load(path.read_text())["api_key"] == "Zq9Rw3Xp1Vb6NewKey"
