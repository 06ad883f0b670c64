# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which datadog.yaml keys (or DD_* variables) the agent role owns for an Agent.

Private to this collection (used by the ``agent`` filters and the ``agent_private_path``
module); not a public API. Errors are ValueError with what to change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


def needs_use_http(version):
    """True when an Agent of this version reads use_http (None when unknown); MAJOR.MINOR is enough."""
    match = re.match(r"^(\d+)\.(\d+)", version or "")
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    # Agent 7.x is 6.x's twin, as catalog.agent_version_tuple compares them.
    return (6 if major == 7 else major, minor) < catalog.agent_version_tuple(catalog.FORCE_USE_HTTP_SINCE)[:2]


def mode(value, name):
    """auto, True or False from a bool or its text; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = to_native(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in BOOLEANS_TRUE:
        return True
    if text in BOOLEANS_FALSE:
        return False
    raise ValueError("%s must be auto, true or false, got %r." % (name, value))


def dd_site(site):
    try:
        return catalog.site_facts(site)["dd_site"]
    except catalog.CatalogError as exc:
        raise ValueError("agent_site: %s" % to_native(exc))


def settings(force_use_http=True, use_http="auto", version="", site=""):
    """The keys the role owns in datadog.yaml, as {dotted key: value}."""
    owned = {}
    if force_use_http:
        owned["logs_config.force_use_http"] = True
    wanted = mode(use_http, "agent_use_http")
    if wanted == "auto":
        # An Agent we cannot read may be old: use_http is harmless on new ones.
        wanted = bool(force_use_http) and needs_use_http(version) is not False
    if wanted:
        owned["logs_config.use_http"] = True
    if site:
        owned["site"] = dd_site(site)
    return owned


def container_env(owned):
    """{'logs_config.force_use_http': True} -> {'DD_LOGS_CONFIG_FORCE_USE_HTTP': 'true'}."""
    env = {}
    for key, value in (owned or {}).items():
        name = "DD_" + key.replace(".", "_").upper()
        env[name] = ("true" if value else "false") if isinstance(value, bool) else to_native(value)
    return env
