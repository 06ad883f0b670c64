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

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog, yaml_edit

# Agents older than these read logs_config.use_http; force_use_http came with 6.19/7.19.
FORCE_USE_HTTP_SINCE = {6: (6, 19), 7: (7, 19)}


def agent_version(text):
    """'Agent 7.52.1 - Commit: ...' -> '7.52.1'; '' when no version is found."""
    match = catalog.AGENT_VERSION_IN_TEXT.search(to_native(text or "").strip())
    return ".".join(match.groups()) if match else ""


def needs_use_http(version):
    """True when an Agent of this version reads use_http (None when unknown)."""
    match = re.match(r"^(\d+)\.(\d+)", version or "")
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if major < 6:
        return True
    since = FORCE_USE_HTTP_SINCE.get(major)
    return since is not None and (major, minor) < since


def _mode(value, name):
    if isinstance(value, bool):
        return value
    text = to_native(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise AnsibleFilterError("%s must be auto, true or false, got %r." % (name, value))


def dd_site(site):
    try:
        return catalog.site_facts(site)["dd_site"]
    except catalog.CatalogError as exc:
        raise AnsibleFilterError("agent_site: %s" % to_native(exc))


def agent_settings(force_use_http=True, use_http="auto", version="", site=""):
    """The keys the role owns in datadog.yaml, as {dotted key: value}."""
    settings = {}
    if force_use_http:
        settings["logs_config.force_use_http"] = True
    mode = _mode(use_http, "agent_use_http")
    if mode == "auto":
        # An Agent we cannot read may be old: use_http is harmless on new ones.
        mode = bool(force_use_http) and needs_use_http(version) is not False
    if mode:
        settings["logs_config.use_http"] = True
    if site:
        settings["site"] = dd_site(site)
    return settings


def agent_container_env(settings):
    """{'logs_config.force_use_http': True} -> {'DD_LOGS_CONFIG_FORCE_USE_HTTP': 'true'}."""
    env = {}
    for key, value in (settings or {}).items():
        name = "DD_" + key.replace(".", "_").upper()
        env[name] = ("true" if value else "false") if isinstance(value, bool) else to_native(value)
    return env


def agent_yaml_set(text, settings):
    """Return YAML text with settings applied (see module_utils/yaml_edit)."""
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
