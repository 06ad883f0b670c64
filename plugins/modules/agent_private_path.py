#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: agent_private_path
short_description: Put a Datadog Agent host on the PrivateLink path in one call, and say whether its Agent must restart
version_added: 0.1.0
description:
  - Everything the C(agent) role does on a Linux or macOS Agent host before a restart, in one module
    call, without fact gathering. It detects the platform on the host (its default C(datadog.yaml) path),
    reads the installed Agent's version when the keys to own depend on it, sets those keys in
    C(datadog.yaml) the way M(datadog_privatelink.aws.agent_config) does (every other byte kept, locked,
    validated, atomic), and decides whether the Agent must restart.
  - The keys are C(logs_config.force_use_http=true) (logs over HTTPS, the only way through the PrivateLink
    logs endpoint), C(logs_config.use_http=true) for Agents older than 6.19/7.19, and C(site) when O(site) is
    given; see U(https://docs.datadoghq.com/agent/guide/private-link/) and
    U(https://docs.datadoghq.com/agent/logs/log_transport/).
  - A restart is due when C(datadog.yaml) changed, or, on Linux with O(restart_when_intake_moves), when the
    running Agent's intake names now resolve to other addresses than when it started (the rule of
    M(datadog_privatelink.aws.agent_intake_addresses), with the same record in O(state_path)). When the file
    changed the rule is not evaluated (the restart is due anyway), and when no Agent process runs no name is
    resolved (it resolves them when it starts).
  - When no restart is due, the addresses the running Agent uses are recorded, so that a later move is seen.
    After a restart, record them with M(datadog_privatelink.aws.agent_intake_addresses) and
    O(datadog_privatelink.aws.agent_intake_addresses#module:record=true) (the C(agent) role's handler does).
  - C(changed) is true exactly when a restart is due (file changed or names moved), so notify the restart
    from this task.
author:
  - datadog_privatelink.aws contributors (@datadog-privatelink)
requirements:
  - PyYAML on the managed host (Debian/Ubuntu C(python3-yaml), RHEL C(python3-pyyaml)).
options:
  config_path:
    description:
      - The Agent's C(datadog.yaml). Default the platform's path, detected on the host
        (V(/etc/datadog-agent/datadog.yaml) on Linux, V(/opt/datadog-agent/etc/datadog.yaml) on macOS).
    type: path
  manage_config:
    description: Edit C(datadog.yaml). When false, only the restart rule runs (a host with a container Agent only).
    type: bool
    default: true
  force_use_http:
    description: Set C(logs_config.force_use_http=true).
    type: bool
    default: true
  use_http:
    description:
      - Set C(logs_config.use_http=true), read by Agents older than 6.19/7.19. V(auto) sets it when the Agent
        version (O(agent_version), or read on the host) is older, or cannot be read.
    type: raw
    default: auto
  agent_version:
    description:
      - The installed Agent version, for example V(7.52.1). Empty reads it with C(datadog-agent version) when it
        matters (O(use_http=auto), or the versioned metrics host of a running Agent).
    type: str
    default: ""
  site:
    description:
      - Datadog site to set as C(site), as catalog key (V(us1), V(ap1), ...) or C(dd_site) name. Empty leaves
        C(site) as it is (the restart rule then reads it from the file).
    type: str
    default: ""
  create:
    description: Create C(datadog.yaml) with only the owned keys when it is missing; otherwise a missing file is an error.
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of the old file next to it when it changes.
    type: bool
    default: false
  validate:
    description: A command run on the new file before it replaces the old one; V(%s) is its path.
    type: str
  lock_timeout:
    description: Seconds to wait for another run editing the same file to finish before failing.
    type: int
    default: 30
  restart_when_intake_moves:
    description:
      - Also make a restart due when the running Agent's intake names now resolve elsewhere than when it started.
        Linux only (the rule reads C(/proc)); ignored on macOS.
    type: bool
    default: true
  services:
    description: Service keys whose names the Agent resolves (for the restart rule); default all.
    type: list
    elements: str
    default: []
  pid_files:
    description: The Agent's pid files (the main Agent first); the processes alive among them are the Agent.
    type: list
    elements: path
    default:
      - /opt/datadog-agent/run/agent.pid
      - /opt/datadog-agent/run/trace-agent.pid
      - /opt/datadog-agent/run/process-agent.pid
  ports:
    description: The intake ports whose connections count for the restart rule.
    type: list
    elements: int
    default: [443, 10516]
  state_path:
    description: Where the addresses recorded for the running Agent are kept (shared with M(datadog_privatelink.aws.agent_intake_addresses)).
    type: path
    default: /var/lib/datadog-privatelink/intake-addresses.json
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Predicts the edit and whether a restart is due; writes and records nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The old and new C(datadog.yaml) with secret values masked, or the recorded and current intake addresses.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Linux and macOS. Windows hosts run no Python; the C(agent) role edits their file from the controller.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details: Reports changed while a restart is due; once the Agent restarted and its addresses are recorded, no change.
notes:
  - The intake check (M(datadog_privatelink.aws.intake_check)) is a separate, optional verification.
seealso:
  - module: datadog_privatelink.aws.agent_config
  - module: datadog_privatelink.aws.agent_intake_addresses
  - name: Datadog PrivateLink guide
    description: Logs must be sent over HTTPS through the endpoint.
    link: https://docs.datadoghq.com/agent/guide/private-link/
"""

EXAMPLES = r"""
- name: The PrivateLink keys in datadog.yaml, and whether the Agent must restart
  datadog_privatelink.aws.agent_private_path:
    site: datadoghq.com
  register: private_path
  notify: Restart the Datadog Agent

- name: Why
  ansible.builtin.debug:
    msg: "{{ private_path.restart_reasons }}"
  when: private_path.restart_needed
"""

RETURN = r"""
restart_needed:
  description: The Agent must restart (the file changed, or its intake names moved since it started).
  returned: always
  type: bool
restart_reasons:
  description: Why a restart is due; empty when none is.
  returned: always
  type: list
  elements: str
  sample: ["datadog.yaml changed: logs_config.force_use_http"]
platform:
  description: The host's platform as detected (C(uname -s)).
  returned: always
  type: str
  sample: Linux
config_path:
  description: The C(datadog.yaml) used.
  returned: always
  type: str
  sample: /etc/datadog-agent/datadog.yaml
agent_version:
  description: The Agent version given or read on the host; empty when unknown or not needed.
  returned: always
  type: str
  sample: 7.52.1
settings:
  description: The keys owned for this Agent (dotted key to value).
  returned: always
  type: dict
  sample: {"logs_config.force_use_http": true}
changed_keys:
  description: The keys whose value changed in C(datadog.yaml).
  returned: always
  type: list
  elements: str
created:
  description: Whether C(datadog.yaml) was created.
  returned: always
  type: bool
backup_file:
  description: The copy of the old file, when O(backup=true) and the file changed.
  returned: changed and backup
  type: str
intake:
  description:
    - The restart rule's view, as M(datadog_privatelink.aws.agent_intake_addresses) returns it (C(restart_due),
      C(reason), C(addresses), C(recorded), C(agent_pids), C(public_connections)); C(addresses) is empty when no
      name was resolved.
  returned: on Linux with O(restart_when_intake_moves=true), when C(datadog.yaml) did not change
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import (
    _agent_file as agent_file,
    _agent_host as agent_host,
    _agent_intake as agent_intake,
    _agent_keys as agent_keys,
    catalog,
    _yaml_edit as yaml_edit,
)

# The Agent's datadog.yaml per platform (https://docs.datadoghq.com/agent/configuration/agent-configuration-files/).
CONFIG_PATHS = {"Darwin": "/opt/datadog-agent/etc/datadog.yaml"}
LINUX_CONFIG_PATH = "/etc/datadog-agent/datadog.yaml"


def intake_rule(module, site, version_of, result):
    """(restart due, reason, the rule's view) for the running Agent; records its addresses when nothing moved."""
    params = module.params
    try:
        pids, identity, live = agent_intake.running_agent(params["pid_files"], params["ports"])
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot read the Agent's processes in /proc (%s): run this task as root." % error, **result)
    recorded = agent_intake.load(params["state_path"])
    now = {}
    if identity is not None:  # an Agent that is not running resolves the names when it starts
        try:
            names = agent_host.agent_names(site or read_site(params["config_path"]), params["services"], version_of())
        except (catalog.CatalogError, ValueError) as error:
            module.fail_json(msg=to_native(error), **result)
        now = agent_intake.addresses_now(names)
    due, reason, public = agent_intake.decide(now, recorded, identity, live)
    view = dict(restart_due=due, reason=reason, addresses=now, recorded=(recorded or {}).get("addresses"),
                agent_pids=pids, public_connections=public)
    if not due:
        agent_intake.remember(module, params["state_path"], identity, now, recorded, result)
    return due, reason, view, (agent_intake.diff(recorded, now) if due else None)


def read_site(path):
    return agent_host.read_agent_config(path).get("site") or "datadoghq.com"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_path=dict(type="path"),
            manage_config=dict(type="bool", default=True),
            force_use_http=dict(type="bool", default=True),
            use_http=dict(type="raw", default="auto"),
            agent_version=dict(type="str", default=""),
            site=dict(type="str", default=""),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            validate=dict(type="str"),
            lock_timeout=dict(type="int", default=30),
            restart_when_intake_moves=dict(type="bool", default=True),
            services=dict(type="list", elements="str", default=[]),
            pid_files=dict(type="list", elements="path", default=list(agent_intake.DEFAULT_PID_FILES)),
            ports=dict(type="list", elements="int", default=list(agent_intake.DEFAULT_PORTS)),
            state_path=dict(type="path", default=agent_intake.DEFAULT_STATE_PATH),
        ),
        supports_check_mode=True,
    )
    params = module.params
    system = os.uname()[0]  # Linux or Darwin; the platform module costs more to import than this whole call
    if not params["config_path"]:
        params["config_path"] = CONFIG_PATHS.get(system, LINUX_CONFIG_PATH)
    result = dict(changed=False, restart_needed=False, restart_reasons=[], platform=system,
                  config_path=params["config_path"], agent_version=params["agent_version"], settings={},
                  changed_keys=[], created=False)

    version_read = []

    def version_of():
        """The Agent version, read on the host at most once and only when something depends on it."""
        if not result["agent_version"] and not version_read:
            version_read.append(True)
            result["agent_version"] = agent_host.agent_version_on_host(module)
        return result["agent_version"]

    try:
        needs_version = params["force_use_http"] and agent_keys.mode(params["use_http"], "use_http") == "auto"
        settings = agent_keys.settings(params["force_use_http"], params["use_http"],
                                       version_of() if needs_version else params["agent_version"], params["site"])
    except ValueError as error:
        module.fail_json(msg=to_native(error), **result)
    result["settings"] = settings

    file_changed = False
    diff = None
    if params["manage_config"] and settings:
        if not yaml_edit.HAS_YAML:
            module.fail_json(msg=missing_required_lib("PyYAML"), exception=to_native(yaml_edit.YAML_IMPORT_ERROR),
                             **result)
        edited = agent_file.edit(module, params["config_path"], settings, result, create=params["create"],
                                 backup=params["backup"], validate=params["validate"],
                                 lock_timeout=params["lock_timeout"])
        file_changed = edited["changed"]
        result.update(changed_keys=edited["changed_keys"], created=edited["created"])
        diff = edited["diff"]
        if file_changed:
            result["restart_reasons"].append(
                "%s %s: %s" % (params["config_path"], "created" if edited["created"] else "changed",
                               ", ".join(edited["changed_keys"]) or "the owned keys"))

    if params["restart_when_intake_moves"] and system == "Linux" and not file_changed:
        due, reason, result["intake"], intake_diff = intake_rule(module, settings.get("site", ""), version_of, result)
        if due:
            result["restart_reasons"].append(reason)
            diff = intake_diff

    result["restart_needed"] = result["changed"] = bool(result["restart_reasons"])
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
