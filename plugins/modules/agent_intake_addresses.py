#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: agent_intake_addresses
short_description: Tell whether a running Datadog Agent still sends to the addresses its intake names had before
version_added: 0.1.0
description:
  - An Agent resolves Datadog's intake names when it starts and keeps its connections. One that was
    running before the VPC endpoints or private hosted zones existed keeps sending to the public
    addresses until it restarts, even when its C(datadog.yaml) needs no change. This module finds out,
    on the Agent host, whether such a restart is due, so that the C(agent) role restarts exactly the
    Agents that need it, once.
  - It resolves the Agent's intake names now (each selected service's private DNS name and the
    versioned metrics host) and compares them with what this module recorded while the same Agent
    process was running. The Agent process is found by its pid files; its identity is its start time.
  - A restart is due when the names now resolve to other addresses than those recorded for the running
    Agent. With no record for the running process (first run, or the Agent was restarted by someone
    else), a restart is due when the Agent holds a connection on an intake port (443, 10516) to a public
    address that none of its intake names resolves to any more - the Agent is still on the old path. On
    a host whose Agent integrations also hold connections to public addresses on these ports, this
    costs one restart the first time, never again (the record then decides).
  - With O(record=true) (after any restart), it records the current addresses for the running Agent and
    reports no change; in check mode it records nothing.
  - Linux only (it reads C(/proc)).
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  site:
    description:
      - The Datadog site, as catalog key or C(dd_site) name. Empty reads C(site) from O(config_path)
        (default V(datadoghq.com), as the Agent does).
    type: str
    default: ""
  services:
    description: Service keys whose names the Agent resolves; default all.
    type: list
    elements: str
    default: []
  agent_version:
    description: The Agent's version, for the versioned metrics host. Empty reads it from C(datadog-agent version).
    type: str
    default: ""
  config_path:
    description: The Agent's C(datadog.yaml), read for C(site) only. Default the platform's path.
    type: path
  pid_files:
    description: The Agent's pid files (the main Agent first); the processes alive among them are the Agent.
    type: list
    elements: path
    default:
      - /opt/datadog-agent/run/agent.pid
      - /opt/datadog-agent/run/trace-agent.pid
      - /opt/datadog-agent/run/process-agent.pid
  ports:
    description: The intake ports whose connections count.
    type: list
    elements: int
    default: [443, 10516]
  state_path:
    description: Where the addresses recorded for the running Agent are kept (JSON, written atomically).
    type: path
    default: /var/lib/datadog-privatelink/intake-addresses.json
  record:
    description: Record the current addresses for the running Agent (run it after any restart).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Predicts whether a restart is due; records nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the recorded addresses against the current ones.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details: Reports changed while a restart is due; once the Agent restarted and the addresses are recorded, no change.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - C(changed) means that the Agent must restart to take the addresses its names have now, so notify the
    restart handler from this task, as from a configuration change.
seealso:
  - module: datadog_privatelink.aws.intake_check
  - module: datadog_privatelink.aws.agent_config
"""

EXAMPLES = r"""
- name: Restart the Agent when its intake names moved since it started (for instance onto PrivateLink)
  datadog_privatelink.aws.agent_intake_addresses:
    site: datadoghq.com
  notify: Restart the Datadog Agent

- name: Run the restart now
  ansible.builtin.meta: flush_handlers

- name: Record the addresses the restarted Agent uses
  datadog_privatelink.aws.agent_intake_addresses:
    site: datadoghq.com
    record: true
"""

RETURN = r"""
restart_due:
  description: The running Agent must restart to use the addresses its intake names have now.
  returned: always
  type: bool
reason:
  description: Why a restart is due, or why not.
  returned: always
  type: str
  sample: "api.datadoghq.com moved from 52.4.1.10 to 10.40.1.17, 10.40.2.33 since the Agent started"
addresses:
  description: What each intake name resolves to now.
  returned: always
  type: dict
  sample: {"api.datadoghq.com": ["10.40.1.17", "10.40.2.33"]}
recorded:
  description: The addresses recorded for the running Agent (null when none).
  returned: always
  type: dict
agent_pids:
  description: The Agent processes found alive through O(pid_files).
  returned: always
  type: list
  elements: int
public_connections:
  description: Connections of the Agent on an intake port to public addresses that no intake name resolves to now (C(address:port)).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_host as agent_host, _agent_intake as agent_intake, catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._agent_intake import decide


def main():
    module = AnsibleModule(
        argument_spec=dict(
            site=dict(type="str", default=""),
            services=dict(type="list", elements="str", default=[]),
            agent_version=dict(type="str", default=""),
            config_path=dict(type="path"),
            pid_files=dict(type="list", elements="path", default=list(agent_intake.DEFAULT_PID_FILES)),
            ports=dict(type="list", elements="int", default=list(agent_intake.DEFAULT_PORTS)),
            state_path=dict(type="path", default=agent_intake.DEFAULT_STATE_PATH),
            record=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    config_path = params["config_path"] if params["config_path"] is not None else agent_host.default_config_path()
    try:
        site = params["site"] or agent_host.read_agent_config(config_path).get("site") or "datadoghq.com"
        version = params["agent_version"] or agent_host.agent_version_on_host(module)
        names = agent_host.agent_names(site, params["services"], version)
    except (catalog.CatalogError, ValueError) as error:
        module.fail_json(msg=str(error))
    now = agent_intake.addresses_now(names)
    try:
        pids, identity, live = agent_intake.running_agent(params["pid_files"], params["ports"])
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot read the Agent's processes in /proc (%s): run this task as root." % error)
    recorded = agent_intake.load(params["state_path"])
    result = dict(addresses=now, recorded=(recorded or {}).get("addresses"), agent_pids=pids)

    if params["record"]:
        agent_intake.remember(module, params["state_path"], identity, now, recorded, result)
        module.exit_json(changed=False, restart_due=False, reason="recorded the addresses of the running Agent",
                         public_connections=[], **result)

    due, reason, public = decide(now, recorded, identity, live)
    if not due:  # nothing to move: remember what this Agent uses, so that a later move is seen
        agent_intake.remember(module, params["state_path"], identity, now, recorded, result)
    if due:
        result["diff"] = agent_intake.diff(recorded, now)
    module.exit_json(changed=due, restart_due=due, reason=reason, public_connections=public, **result)


if __name__ == "__main__":
    main()
