"""The surgical YAML editor: only owned lines change, everything else stays byte for byte."""

import difflib
import json
import os
import time

import pytest
import yaml

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _yaml_edit as yaml_edit
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._yaml_edit import YamlEditError, set_keys

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


# ---------------------------------------------------------------------------------
# Both parsers: libyaml when PyYAML has it (fast), pure Python otherwise.

PARSERS = [pytest.param(yaml.SafeLoader, id="pure-python")]
if getattr(yaml, "__with_libyaml__", False):
    PARSERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


@pytest.fixture(params=PARSERS)
def parser(request, monkeypatch):
    monkeypatch.setattr(yaml_edit, "_LOADER", yaml_edit._cached_resolver(request.param))
    return request.param


def test_tab_after_a_colon_is_refused_by_pure_python_and_kept_by_libyaml(parser):
    old = "a: 1\nlogs_config:\t# tab\n  x: 1\n"
    if parser is yaml.SafeLoader:
        # PyYAML (like YAML 1.1) refuses a tab as separator; the file is refused, never damaged.
        with pytest.raises(YamlEditError, match=r"not valid YAML.* at line 2, column 13\..*tab"):
            set_keys(old, OWNED)
    else:
        # libyaml reads it as the Agent's Go parser does: the edit keeps the tab.
        assert set_keys(old, OWNED)[0] == old + "  force_use_http: true\n"


API_KEY = "0123456789abcdef0123456789abcdef"


def windows(secret, size=7):
    """Every run of `size` characters of the secret: none of them may show."""
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def leaks(text, *secrets):
    return sorted(w for secret in secrets for w in windows(secret) if w in text)


@pytest.mark.parametrize(
    "text, where",
    [
        pytest.param('api_key: "%s\nsite: datadoghq.com\n' % API_KEY, "line 3, column 1", id="unterminated-quote"),
        pytest.param("api_key:\t%s\nlogs_config:\n\tforce_use_http: true\n" % API_KEY, "line ", id="tab-indent"),
        pytest.param('api_key: "%s\\q"\n' % API_KEY, "line 1, column 4", id="bad-escape"),
        pytest.param("api_key: %s: x\n" % API_KEY, "line 1, column 42", id="colon-in-value"),
        pytest.param("{api_key: %s, site: [datadoghq.com}\n" % API_KEY, "line 1", id="flow"),
        pytest.param("api_key: *%s\n" % API_KEY, "line 1, column 10", id="undefined-alias"),
        pytest.param("api_key: !%s!x y\n" % API_KEY, "line 1, column 10", id="undefined-tag-handle"),
        pytest.param("api_key: %s\nsite: x\napi_key: %s\n" % (API_KEY, API_KEY), "line 3, column 1", id="duplicate"),
    ],
)
def test_parse_errors_give_line_and_column_never_the_text(parser, text, where):
    with pytest.raises(YamlEditError) as error:
        set_keys(text, OWNED)
    message = str(error.value)
    assert leaks(message, API_KEY) == [], message
    assert "api_key" not in message and "site" not in message, message
    if where:
        assert where in message, message


def test_tab_after_api_key_with_pure_python(monkeypatch):
    # The snippet PyYAML prints under its message used to show 31 of the key's 32 characters.
    monkeypatch.setattr(yaml_edit, "_LOADER", yaml_edit._cached_resolver(yaml.SafeLoader))
    with pytest.raises(YamlEditError) as error:
        set_keys("api_key:\t%s\n" % API_KEY, OWNED)
    assert str(error.value) == ("The file is not valid YAML, left untouched: found character (a tab) that cannot start any "
                                "token at line 1, column 9. YAML does not allow a tab there: use spaces.")


@pytest.mark.parametrize(
    "text, message",
    [
        ("base: &lc\n  use_compression: true\nlogs_config: *lc\n",
         r"^logs_config is an alias \(\*lc\) of the value at line 1, column 7, .*Replace the alias"),
        ("logs_config: &lc {use_compression: true}\nother: *lc\n", r"^logs_config is anchored \(&lc\) and used elsewhere"),
        ("s: &s datadoghq.com\nsite: *s\n", r"^site is an alias"),
    ],
)
def test_aliases_on_the_way_are_refused_with_what_to_do(parser, text, message):
    settings = {"site": "ap1.datadoghq.com"} if "site" in text else OWNED
    with pytest.raises(YamlEditError, match=message):
        set_keys(text, settings)


def test_anchors_and_aliases_elsewhere_are_kept(parser):
    text = "base: &b {x: 1}\nother: *b\nlogs_config:\n  y: 2\n"
    new, changed = set_keys(text, OWNED)
    assert new == text + "  force_use_http: true\n" and changed == ["logs_config.force_use_http"]
    # an anchor nobody uses may be edited
    text = "logs_config: &lc\n  y: 2\n"
    assert set_keys(text, OWNED)[0] == text + "  force_use_http: true\n"


def test_verify_catches_any_other_difference():
    old = "a: 1\nb: |\n  text\nlogs_config:\n  x: 1\n"
    root = yaml_edit._load(old)
    items = [(("logs_config", "force_use_http"), True)]
    yaml_edit.verify(root, old.replace("  x: 1\n", "  x: 1\n  force_use_http: true\n"), items)
    for wrong in (
        old.replace("  x: 1\n", "  x: 2\n  force_use_http: true\n"),  # another value changed
        old.replace("  text\n", "  text\n  force_use_http: true\n"),  # landed inside the block scalar
        old.replace("  x: 1\n", "  x: 1\n  force_use_http: true\n  extra: 1\n"),  # a key nobody asked for
        old.replace("  x: 1\n", "  x: 1\n  force_use_http: 'true'\n"),  # the string, not the boolean
        old.replace("a: 1\n", "a: '1'\n") + "  force_use_http: true\n",  # a tag changed
    ):
        with pytest.raises(YamlEditError, match="Internal error"):
            yaml_edit.verify(root, wrong, items)


@pytest.mark.parametrize(
    "text",
    [
        "logs_config:\n  force_use_http: true\nsite: ap1.datadoghq.com\n",
        '{"logs_config": {"force_use_http": true}, "site": "ap1.datadoghq.com"}',
        "site: 'ap1.datadoghq.com'\nlogs_config: {force_use_http: yes}\n",
    ],
)
def test_nothing_to_change_is_found_in_one_pass(parser, text, monkeypatch):
    settings = {"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"}
    monkeypatch.setattr(yaml_edit, "_load", lambda *a, **k: pytest.fail("the full editor ran"))
    assert set_keys(text, settings) == (text, [])


@pytest.mark.parametrize(
    "text",
    [
        "logs_config:\n  force_use_http: true\nlogs_config:\n  x: 1\n",  # duplicate: the full editor refuses it
        "logs_config: *x\n",  # an alias on the way
        "logs_config:\n  force_use_http: 'true'\n",  # a string
        "a: 1\n---\nlogs_config:\n  force_use_http: true\n",  # two documents
        "- logs_config\n",
    ],
)
def test_the_one_pass_leaves_anything_unusual_to_the_full_editor(parser, text):
    assert yaml_edit._already_set(text, [(("logs_config", "force_use_http"), True)]) is False


# ---------------------------------------------------------------------------------
# The diff mask.

PROXY_PASSWORD = "Pw5Yx8Nb2Kd6Lt"
SECRETS = (API_KEY, "fedcba9876543210fedcba9876543210fedcba98", "Zq9Rw3Xp1Vb6One", "Zq9Rw3Xp1Vb6Two", PROXY_PASSWORD,
           "Tk4Ln8Gh2Wc5Mz", "Cm7Jd3Fs9Hq1Ra")

MASK_CASES = {
    "block": "api_key: %s\napp_key: %s\nsite: datadoghq.com\n" % SECRETS[:2],
    "flow-one-line": "{api_key: %s, app_key: '%s', site: datadoghq.com}" % SECRETS[:2],
    "json": json.dumps({"api_key": SECRETS[0], "app_key": SECRETS[1], "site": "datadoghq.com"}),
    "double-quoted": 'api_key: "%s"\n"app_key": "%s"\nsite: datadoghq.com\n' % SECRETS[:2],
    "single-quoted-anchor": "api_key: &k '%s'\nsite: datadoghq.com\n" % SECRETS[0],
    "multi-line-plain": "api_key:\n  %s\n  %s\nsite: datadoghq.com\n" % (SECRETS[0][:16], SECRETS[0][16:]),
    "folded": "api_key: >-\n  %s\nsite: datadoghq.com\n" % SECRETS[0],
    "multi-line-quoted": 'api_key: "%s\n  %s"\nsite: datadoghq.com\n' % (SECRETS[0][:16], SECRETS[0][16:]),
    "additional-endpoints": ('additional_endpoints:\n  "https://app.datadoghq.com":\n  - %s\n  - %s\n'
                             '  "https://mirror.example.com": [%s]\nsite: datadoghq.com\n' % (SECRETS[2], SECRETS[3], SECRETS[0])),
    "logs-additional-endpoints": ('logs_config:\n  additional_endpoints:\n  - api_key: %s\n    Host: agent-intake.logs.datadoghq.com\n'
                                  'site: datadoghq.com\n' % SECRETS[2]),
    "proxy": ("proxy:\n  http: http://user:%s@proxy.example.com:3128\n  https: 'admin:%s@proxy.example.com:3128'\n"
              "  no_proxy: [localhost]\nsite: datadoghq.com\n" % (PROXY_PASSWORD, PROXY_PASSWORD)),
    "proxy-scalars": ("proxy: admin:%s@proxy.example.com:3128\nlogs_config:\n  https_proxy: '%s@proxy:3128'\n"
                      "site: datadoghq.com\n" % (PROXY_PASSWORD, PROXY_PASSWORD)),
    "proxy-raw-at": "proxy:\n  https: http://user:%s@x@proxy.example.com\nsite: datadoghq.com\n" % PROXY_PASSWORD,
    "tokens": ("cluster_agent:\n  auth_token: %s\n  kubernetes_service_name: dca\nsecret_backend_arguments: [%s]\n"
               "site: datadoghq.com\n" % (SECRETS[5], SECRETS[5])),
    "commented": ("# api_key: %s\n#app_key: %s\n# additional_endpoints:\n#   \"https://app.datadoghq.com\":\n#   - %s\n"
                  "# proxy:\n#   https: http://u:%s@proxy:3128\nsite: datadoghq.com  # token: %s\n"
                  % (SECRETS[0], SECRETS[1], SECRETS[2], PROXY_PASSWORD, SECRETS[6])),
    "prose-hex": "## the old key was %s\nsite: datadoghq.com\n" % SECRETS[0],
    "compose-list": ("services:\n  datadog:\n    environment:\n      - DD_API_KEY=%s\n      - \"DD_APP_KEY=%s\"\n"
                     "      - DD_PROXY_HTTPS=admin:%s@proxy:3128\n      - DD_SITE=datadoghq.com\n"
                     % (SECRETS[0], SECRETS[1], PROXY_PASSWORD)),
    "compose-map": "services:\n  datadog:\n    environment: {DD_API_KEY: %s, DD_SITE: datadoghq.com}\n" % SECRETS[0],
    "unparsable": "api_key: %s\n  site: [datadoghq.com\n# password: %s\n" % (SECRETS[0], PROXY_PASSWORD),
}


@pytest.mark.parametrize("name", sorted(MASK_CASES))
def test_mask_hides_every_secret_whatever_the_style(parser, name):
    text = MASK_CASES[name]
    masked = yaml_edit.mask_secrets(text)
    assert leaks(masked, *SECRETS) == [], masked
    assert "********" in masked
    assert "datadoghq.com" in masked  # what is not secret still shows
    assert masked.count("\n") == text.count("\n")  # lines line up in a diff


def test_mask_keeps_the_rest_byte_for_byte():
    text = fixture("example_full.yaml")
    masked = yaml_edit.mask_secrets(text)
    assert API_KEY not in masked
    removed, added = changed_lines(text, masked)
    assert removed == ["api_key: %s\n" % API_KEY, "#   https: http://<USERNAME>:<PASSWORD>@<PROXY_SERVER_FOR_HTTPS>:<PORT>\n",
                       "#   http: http://<USERNAME>:<PASSWORD>@<PROXY_SERVER_FOR_HTTP>:<PORT>\n",
                       "# secret_backend_command: <COMMAND_PATH>\n"]
    assert added == ["api_key: ********\n", "#   https: http://********@<PROXY_SERVER_FOR_HTTPS>:<PORT>\n",
                     "#   http: http://********@<PROXY_SERVER_FOR_HTTP>:<PORT>\n", "# secret_backend_command: ********\n"]


# ---------------------------------------------------------------------------------
# A large file: nothing to change costs one libyaml pass.

def big_datadog_yaml(size=5 * 1024 * 1024):
    """The Agent's example file, then generated sections (comments, mappings, lists, flow, block scalars)."""
    parts = [fixture("example_full.yaml"), "logs_config:\n  force_use_http: true\n  use_compression: true\n"]
    total, index = sum(len(p) for p in parts), 0
    while total < size:
        block = ("## section %d, documented as in the Agent's example file\n# option_%d: value\n"
                 "custom_%d:\n  enabled: true\n  name: \"service %d\"\n  tags:\n    - env:prod\n    - team:%d\n"
                 "  nested: {a: 1, b: [x, y], c: 'q'}\n  text: |\n    line one\n    line two\n") % ((index,) * 5)
        parts.append(block)
        total += len(block)
        index += 1
    return "".join(parts)


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="pure-Python PyYAML reads about 0.25 MB/s")
def test_five_megabytes_with_nothing_to_change_in_under_two_seconds():
    text = big_datadog_yaml()
    assert len(text) >= 5 * 1024 * 1024
    started = time.process_time()
    assert set_keys(text, {"logs_config.force_use_http": True}) == (text, [])
    assert time.process_time() - started < 2
    # and a change still reads the whole file back before it is accepted
    new, changed = set_keys(text, {"site": "ap1.datadoghq.com"})
    assert changed == ["site"] and new == text + "site: ap1.datadoghq.com\n"
