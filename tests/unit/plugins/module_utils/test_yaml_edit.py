"""The surgical YAML editor: only owned lines change, everything else stays byte for byte."""

import difflib
import os

import pytest
import yaml

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import yaml_edit
from ansible_collections.datadog_privatelink.aws.plugins.module_utils.yaml_edit import YamlEditError, set_keys

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "extensions", "molecule", "resources", "datadog_yaml")
OWNED = {"logs_config.force_use_http": True}


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8", newline="") as handle:
        return handle.read()


def changed_lines(old, new):
    """(removed, added) lines of a line diff."""
    diff = list(difflib.ndiff(old.splitlines(True), new.splitlines(True)))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def test_big_commented_example_changes_only_appended_lines():
    old = fixture("example_full.yaml")
    assert old.count("\n") > 400
    new, changed = set_keys(old, {"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"})
    assert changed == ["logs_config.force_use_http", "site"]
    # The commented `# logs_config:` and `# force_use_http: true` are not keys: a block is appended.
    assert new == old + "logs_config:\n  force_use_http: true\nsite: ap1.datadoghq.com\n"
    assert yaml.safe_load(new)["logs_config"] == {"force_use_http": True}
    again, changed = set_keys(new, {"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"})
    assert (again, changed) == (new, [])


def test_existing_logs_config_gets_key_at_its_indentation_after_last_entry():
    old = fixture("logs_config_existing.yaml")
    new, changed = set_keys(old, OWNED)
    assert changed == ["logs_config.force_use_http"]
    removed, added = changed_lines(old, new)
    assert removed == [] and added == ["    force_use_http: true\n"]
    lines = new.splitlines()
    assert lines[lines.index("    force_use_http: true") - 1] == "    batch_wait: 5"
    data = yaml.safe_load(new)
    assert data["logs_config"]["processing_rules"][0]["name"] == "mask_credit_cards"
    assert data["logs_config"]["force_use_http"] is True


def test_false_becomes_true_in_flow_mapping_and_quotes_are_kept():
    old = fixture("force_use_http_false.yaml")
    new, changed = set_keys(old, {"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"})
    assert changed == ["logs_config.force_use_http", "site"]
    removed, added = changed_lines(old, new)
    assert removed == ['site: "datadoghq.com"\n', "logs_config: {force_use_http: false, use_compression: true}\n"]
    assert added == ['site: "ap1.datadoghq.com"\n', "logs_config: {force_use_http: true, use_compression: true}\n"]


def test_invalid_yaml_is_refused():
    with pytest.raises(YamlEditError, match="not valid YAML"):
        set_keys(fixture("invalid_yaml.txt"), OWNED)


@pytest.mark.parametrize(
    "old, settings, new",
    [
        pytest.param("", OWNED, "logs_config:\n  force_use_http: true\n", id="empty-file"),
        pytest.param("# all commented\n# logs_config:\n#   force_use_http: true\n", OWNED,
                     "# all commented\n# logs_config:\n#   force_use_http: true\nlogs_config:\n  force_use_http: true\n",
                     id="commented-keys-are-not-keys"),
        pytest.param("api_key: x", OWNED, "api_key: x\nlogs_config:\n  force_use_http: true\n", id="no-final-newline"),
        pytest.param("a: 1\r\nb: 2\r\n", OWNED, "a: 1\r\nb: 2\r\nlogs_config:\r\n  force_use_http: true\r\n", id="crlf"),
        pytest.param("a: 1\r\nlogs_config:\r\n  x: 1\r\nb: 2\r\n", OWNED,
                     "a: 1\r\nlogs_config:\r\n  x: 1\r\n  force_use_http: true\r\nb: 2\r\n", id="crlf-nested"),
        pytest.param("---\na: 1\n", OWNED, "---\na: 1\nlogs_config:\n  force_use_http: true\n", id="document-start"),
        pytest.param("a:\n    b: 1\n", OWNED, "a:\n    b: 1\nlogs_config:\n    force_use_http: true\n", id="four-space-indent"),
        pytest.param("a: \"t\\tab\"\nlogs_config:  # tab\tin comment\n  x: '\t'\n", OWNED,
                     "a: \"t\\tab\"\nlogs_config:  # tab\tin comment\n  x: '\t'\n  force_use_http: true\n", id="tabs-in-comment-and-strings"),
        pytest.param("logs_config: {}\n", OWNED, "logs_config: {force_use_http: true}\n", id="empty-flow"),
        pytest.param("logs_config: {a: 1}  # c\n", OWNED, "logs_config: {a: 1, force_use_http: true}  # c\n", id="flow"),
        pytest.param("logs_config:\nb: 1\n", OWNED, "logs_config:\n  force_use_http: true\nb: 1\n", id="null-value"),
        pytest.param("logs_config: ~  # later\nb: 1\n", OWNED, "logs_config:  # later\n  force_use_http: true\nb: 1\n", id="tilde"),
        pytest.param('"logs_config":\n  \'force_use_http\': "false"\n', OWNED,
                     '"logs_config":\n  \'force_use_http\': true\n', id="quoted-keys-string-false"),
        pytest.param("logs_config:\n  force_use_http: true   # keep me\n", OWNED,
                     "logs_config:\n  force_use_http: true   # keep me\n", id="already-set"),
        pytest.param("logs_config:\n  force_use_http: false   # keep me\n", OWNED,
                     "logs_config:\n  force_use_http: true   # keep me\n", id="false-with-comment"),
        pytest.param("logs_config:\n  force_use_http:\n", OWNED, "logs_config:\n  force_use_http: true\n", id="empty-leaf"),
        pytest.param("logs_config:\n  rules:\n    - a\n    - b\n# end\n", OWNED,
                     "logs_config:\n  rules:\n    - a\n    - b\n  force_use_http: true\n# end\n", id="after-nested-list"),
        pytest.param("logs_config:\n  x: |\n    text\n\nb: 1\n", OWNED,
                     "logs_config:\n  x: |\n    text\n\n  force_use_http: true\nb: 1\n", id="after-block-scalar"),
        pytest.param("site: datadoghq.com # us1\n", {"site": "ap1.datadoghq.com"}, "site: ap1.datadoghq.com # us1\n", id="site"),
        pytest.param("site: 'datadoghq.com'\n", {"site": "ap1.datadoghq.com"}, "site: 'ap1.datadoghq.com'\n", id="single-quotes"),
        pytest.param("a: 1\n...\n", OWNED, "a: 1\nlogs_config:\n  force_use_http: true\n...\n", id="document-end-marker"),
    ],
)
def test_edits(old, settings, new):
    got = set_keys(old, settings)[0]
    if new is not None:
        assert got == new
    assert yaml.safe_load(got)["logs_config" if "logs_config.force_use_http" in settings else "site"] is not None
    assert set_keys(got, settings) == (got, [])


def test_yes_already_true_is_left_alone():
    # PyYAML reads `yes` as true (YAML 1.1) and so does the Agent's parser: nothing to change.
    assert set_keys("logs_config:\n  force_use_http: yes\n", OWNED)[1] == []


@pytest.mark.parametrize(
    "old, message",
    [
        ("logs_config: true\n", "not a mapping"),
        ("logs_config:\n  - a\n", "list, not a mapping"),
        ("logs_config:\n  force_use_http: [true]\n", "not a scalar"),
        ("- a\n- b\n", "not a YAML mapping"),
        ("a: 1\n---\nb: 2\n", "2 YAML documents"),
        ("a: 1\na: 2\n", "duplicate key"),
        ("a:\n\tb: 1\n", "not valid YAML"),
        # PyYAML (like YAML 1.1) refuses a tab as separator; the file is refused, never damaged.
        ("a: 1\nlogs_config:\t# tab\n  x: 1\n", "not valid YAML"),
        ("logs_config:\n  force_use_http: |\n    false\n", "block scalar"),
    ],
)
def test_refusals(old, message):
    with pytest.raises(YamlEditError, match=message):
        set_keys(old, OWNED)


def test_several_nested_keys_in_one_pass():
    old = "api_key: x\n"
    new, changed = set_keys(old, {"logs_config.force_use_http": True, "logs_config.use_http": True})
    assert new == "api_key: x\nlogs_config:\n  force_use_http: true\n  use_http: true\n"
    assert changed == ["logs_config.force_use_http", "logs_config.use_http"]


def test_string_values_needing_quotes_are_quoted():
    new = set_keys("a: 1\n", {"b": "true", "c": "x: y", "d": "7"})[0]
    assert yaml.safe_load(new) == {"a": 1, "b": "true", "c": "x: y", "d": "7"}


def test_bad_keys():
    with pytest.raises(YamlEditError, match="Invalid key"):
        set_keys("a: 1\n", {"logs_config..x": True})
    with pytest.raises(YamlEditError, match="scalar values"):
        set_keys("a: 1\n", {"b": {"c": 1}})


COMPOSE_LIST = """\
# Datadog Agent on this host
services:
  datadog:
    image: gcr.io/datadoghq/agent:7
    environment:
      - DD_API_KEY=${DD_API_KEY}
      - "DD_SITE=datadoghq.com"
      - DD_LOGS_ENABLED=true
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
  web:
    image: nginx
    environment:
      - DD_SITE=datadoghq.com
"""


def test_compose_list_form():
    env = {"DD_LOGS_CONFIG_FORCE_USE_HTTP": True, "DD_SITE": "ap1.datadoghq.com"}
    new, changed = yaml_edit.set_compose_environment(COMPOSE_LIST, "datadog", env)
    assert changed == ["DD_LOGS_CONFIG_FORCE_USE_HTTP", "DD_SITE"]
    removed, added = changed_lines(COMPOSE_LIST, new)
    assert removed == ['      - "DD_SITE=datadoghq.com"\n']
    assert added == ['      - "DD_SITE=ap1.datadoghq.com"\n', "      - DD_LOGS_CONFIG_FORCE_USE_HTTP=true\n"]
    assert yaml.safe_load(new)["services"]["web"]["environment"] == ["DD_SITE=datadoghq.com"]
    assert yaml_edit.set_compose_environment(new, "datadog", env) == (new, [])


def test_compose_mapping_form_and_missing_environment():
    text = "services:\n  agent:\n    image: datadog/agent\n    environment:\n      DD_API_KEY: abc\n"
    new = yaml_edit.set_compose_environment(text, "agent", {"DD_LOGS_CONFIG_FORCE_USE_HTTP": "true"})[0]
    assert new == text + "      DD_LOGS_CONFIG_FORCE_USE_HTTP: 'true'\n"
    text = "services:\n  agent:\n    image: datadog/agent\n"
    new = yaml_edit.set_compose_environment(text, "agent", {"DD_LOGS_CONFIG_FORCE_USE_HTTP": True})[0]
    assert yaml.safe_load(new)["services"]["agent"]["environment"] == {"DD_LOGS_CONFIG_FORCE_USE_HTTP": "true"}


def test_compose_unknown_service():
    with pytest.raises(YamlEditError, match="no service 'agent'"):
        yaml_edit.set_compose_environment(COMPOSE_LIST, "agent", {"DD_SITE": "x"})
