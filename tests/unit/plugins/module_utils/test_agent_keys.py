import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_keys as agent_keys, catalog


def since():
    major, minor, _patch = catalog.agent_version_tuple(catalog.FORCE_USE_HTTP_SINCE)
    return major, minor


@pytest.mark.parametrize("major", [6, 7])  # Agent 7.x is 6.x's twin: the same minor brought force_use_http
def test_use_http_is_needed_just_below_the_version_that_brought_force_use_http(major):
    _six, minor = since()
    assert agent_keys.needs_use_http("%d.%d.0" % (major, minor - 1)) is True
    assert agent_keys.needs_use_http("%d.%d" % (major, minor)) is False
    assert agent_keys.needs_use_http("%d.%d.3" % (major, minor + 30)) is False


@pytest.mark.parametrize("version, expected", [("5.32.1", True), ("8.0.0", False), ("", None), ("latest", None)])
def test_other_majors_and_unreadable_versions(version, expected):
    assert agent_keys.needs_use_http(version) is expected


def test_settings_add_use_http_for_an_old_or_unknown_agent_only():
    _six, minor = since()
    old = agent_keys.settings(version="7.%d.0" % (minor - 1))
    assert old == {"logs_config.force_use_http": True, "logs_config.use_http": True}
    assert agent_keys.settings(version="7.%d.0" % minor) == {"logs_config.force_use_http": True}
    assert "logs_config.use_http" in agent_keys.settings(version="")  # harmless on a new Agent, needed on an old one
