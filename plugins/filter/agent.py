# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters behind the `agent` role: which datadog.yaml keys to own, and how.

agent_settings         the owned keys (dotted) for a host Agent, from the role's options
agent_container_env    the same settings as DD_* environment variables (container Agent)
agent_version          the version in `datadog-agent version` output
agent_yaml_set         datadog.yaml text with the owned keys set (controller-side edit, Windows)
agent_datadog_config   a datadog.dd `datadog_config` dict with the owned keys merged in
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_keys as agent_keys, catalog, _yaml_edit as yaml_edit


def agent_version(text):
    """'Agent 7.52.1 - Commit: ...' -> '7.52.1'; '' when no version is found."""
    match = catalog.AGENT_VERSION_IN_TEXT.search(to_native(text or "").strip())
    return ".".join(match.groups()) if match else ""


def agent_settings(force_use_http=True, use_http="auto", version="", site=""):
    """The keys the role owns in datadog.yaml, as {dotted key: value}."""
    try:
        return agent_keys.settings(force_use_http, use_http, version, site)
    except ValueError as exc:
        raise AnsibleFilterError(to_native(exc))


def agent_container_env(settings):
    """{'logs_config.force_use_http': True} -> {'DD_LOGS_CONFIG_FORCE_USE_HTTP': 'true'}."""
    return agent_keys.container_env(settings)


def agent_yaml_set(text, settings):
    """Return YAML text with settings applied (see module_utils/_yaml_edit)."""
    try:
        return yaml_edit.set_keys(to_native(text), dict(settings))[0]
    except yaml_edit.YamlEditError as exc:
        raise AnsibleFilterError(to_native(exc))


def agent_datadog_config(datadog_config, settings):
    """Merge the owned keys into a datadog.dd `datadog_config` dict (returns a new dict)."""
    result = yaml_edit.plain_copy(datadog_config or {})
    if not isinstance(result, dict):
        raise AnsibleFilterError("datadog_config must be a dict, got %s." % type(datadog_config).__name__)
    for key, value in (settings or {}).items():
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            if node.get(part) is None:
                node[part] = {}
            if not isinstance(node[part], dict):
                raise AnsibleFilterError("datadog_config.%s is not a mapping: cannot set %s." % (part, key))
            node = node[part]
        node[parts[-1]] = value
    return result


class FilterModule(object):
    def filters(self):
        return {
            "agent_settings": agent_settings,
            "agent_container_env": agent_container_env,
            "agent_version": agent_version,
            "agent_yaml_set": agent_yaml_set,
            "agent_datadog_config": agent_datadog_config,
        }
