"""Filters of the agent role: owned keys, Agent version rule (use_http before 6.19/7.19), datadog.dd merge."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datadog_privatelink.aws.plugins.filter import agent


@pytest.mark.parametrize(
    "output, version",
    [
        ("Agent 7.52.1 - Commit: 5f0b1a2 - Serialization version: v5.0.104 - Go version: go1.21.9", "7.52.1"),
        ("Agent (v6.15.0) - Commit: abc", "6.15.0"),
        ("Agent 6.19.2 - Meta: ...", "6.19.2"),
        ("datadog-agent: command not found", ""),
        ("", ""),
    ],
)
def test_agent_version(output, version):
    assert agent.agent_version(output) == version


@pytest.mark.parametrize(
    "version, use_http",
    [("6.18.9", True), ("6.19.0", False), ("7.18.1", True), ("7.19.0", False), ("7.52.1", False), ("5.32.0", True), ("", True)],
)
def test_use_http_follows_the_agent_version(version, use_http):
    settings = agent.agent_settings(True, "auto", version)
    assert settings.get("logs_config.use_http", False) is use_http
    assert settings["logs_config.force_use_http"] is True


def test_explicit_use_http_and_site_from_the_catalog():
    assert agent.agent_settings(True, False, "6.0.0", "ap1") == {
        "logs_config.force_use_http": True, "site": "ap1.datadoghq.com"}
    assert agent.agent_settings(True, "yes", "7.52.1", "datadoghq.com")["logs_config.use_http"] is True
    with pytest.raises(AnsibleFilterError, match="does not offer PrivateLink"):
        agent.agent_settings(True, "auto", "7.52.1", "datadoghq.eu")
    with pytest.raises(AnsibleFilterError, match="auto, true or false"):
        agent.agent_settings(True, "sometimes")


def test_container_env():
    assert agent.agent_container_env({"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"}) == {
        "DD_LOGS_CONFIG_FORCE_USE_HTTP": "true", "DD_SITE": "ap1.datadoghq.com"}


def test_datadog_config_merge_keeps_user_keys_and_does_not_mutate():
    user = {"api_key": "x", "logs_config": {"container_collect_all": True}, "apm_config": None}
    merged = agent.agent_datadog_config(user, {"logs_config.force_use_http": True, "site": "ap1.datadoghq.com"})
    assert merged == {"api_key": "x", "apm_config": None, "site": "ap1.datadoghq.com",
                      "logs_config": {"container_collect_all": True, "force_use_http": True}}
    assert user["logs_config"] == {"container_collect_all": True}
    with pytest.raises(AnsibleFilterError, match="not a mapping"):
        agent.agent_datadog_config({"logs_config": "oops"}, {"logs_config.force_use_http": True})


def test_yaml_set_filter_refuses_invalid_text():
    assert agent.agent_yaml_set("a: 1\n", {"site": "ap1.datadoghq.com"}) == "a: 1\nsite: ap1.datadoghq.com\n"
    with pytest.raises(AnsibleFilterError, match="not valid YAML"):
        agent.agent_yaml_set("a: [\n", {"site": "x"})
