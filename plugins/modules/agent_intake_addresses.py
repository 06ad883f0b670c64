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

import ipaddress
import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import agent_host, catalog

# The private ranges, and loopback: a connection to this host is never the public path.
NOT_PUBLIC = agent_host.PRIVATE_NETWORKS + (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_TCP_LIVE_STATES = ("01", "02")  # ESTABLISHED, SYN_SENT


def is_private(address):
    return agent_host.in_networks(address, NOT_PUBLIC)


def alive_pids(pid_files):
    pids = []
    for path in pid_files:
        try:
            with open(path) as handle:
                pid = int(handle.read().split()[0])
        except (IOError, OSError, ValueError, IndexError):
            continue
        if os.path.exists("/proc/%d/stat" % pid):
            pids.append(pid)
    return pids


def process_identity(pid):
    """boot id + start time: the same only for the same process (a pid can be reused, a start time cannot)."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            boot = handle.read().strip()
    except (IOError, OSError):
        boot = ""
    return "%s:%s:%d" % (boot, fields[19], pid)  # field 22 of stat: start time in clock ticks since boot


def _hex_address(text):
    address, port = text.split(":")
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        packed = raw[::-1]
    else:  # IPv6: four 32-bit words, each in host (little-endian) order
        packed = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.ip_address(packed)), int(port, 16)


def connections(pid, ports):
    """Remote (address, port) of the process's live TCP connections to the given ports."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes and fields[3] in _TCP_LIVE_STATES:
                address, port = _hex_address(fields[2])
                if address.startswith("::ffff:"):
                    address = address[7:]
                if port in ports:
                    found.append((address, port))
    return sorted(set(found))


def load(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save(path, data):
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, partial = tempfile.mkstemp(dir=directory, prefix=".intake-addresses-")
    with os.fdopen(handle, "w") as out:
        json.dump(data, out, sort_keys=True, indent=1)
    os.chmod(partial, 0o644)
    os.rename(partial, path)  # readers never see a half-written record


def moved(before, now):
    return ["%s moved from %s to %s" % (name, ", ".join(before.get(name) or ["nothing"]), ", ".join(now[name] or ["nothing"]))
            for name in sorted(now) if sorted(before.get(name) or []) != now[name]]


def decide(now, recorded, identity, live):
    """(restart due, reason, public connections) - the rule, without I/O."""
    if identity is None:
        return False, "no Agent process is running: it resolves the names when it starts", []
    if recorded and recorded.get("agent") == identity:
        changes = moved(recorded.get("addresses") or {}, now)
        if changes:
            return True, "; ".join(changes) + " since the Agent started", []
        return False, "the intake names resolve as when the running Agent was recorded", []
    current = set(a for addresses in now.values() for a in addresses)
    stale = ["%s:%d" % c for c in live if not is_private(c[0]) and c[0] not in current]
    if stale:
        return True, ("the Agent still holds connections to public addresses (%s) that none of its intake names "
                      "resolves to any more" % ", ".join(stale)), stale
    return False, "the running Agent holds no connection that the current addresses would change", stale


def main():
    module = AnsibleModule(
        argument_spec=dict(
            site=dict(type="str", default=""),
            services=dict(type="list", elements="str", default=[]),
            agent_version=dict(type="str", default=""),
            config_path=dict(type="path"),
            pid_files=dict(type="list", elements="path", default=["/opt/datadog-agent/run/agent.pid",
                                                                  "/opt/datadog-agent/run/trace-agent.pid",
                                                                  "/opt/datadog-agent/run/process-agent.pid"]),
            ports=dict(type="list", elements="int", default=[443, 10516]),
            state_path=dict(type="path", default="/var/lib/datadog-privatelink/intake-addresses.json"),
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
    now = dict((n["name"], agent_host.resolve(n["name"])[0]) for n in names)
    pids = alive_pids(params["pid_files"])
    try:
        identity = process_identity(pids[0]) if pids else None
        live = sorted(set(c for pid in pids for c in connections(pid, params["ports"])))
    except (IOError, OSError) as error:
        module.fail_json(msg="Cannot read the Agent's processes in /proc (%s): run this task as root." % error)
    recorded = load(params["state_path"])
    result = dict(addresses=now, recorded=(recorded or {}).get("addresses"), agent_pids=pids)

    if params["record"]:
        if identity and not module.check_mode and recorded != {"agent": identity, "addresses": now}:
            try:
                save(params["state_path"], {"agent": identity, "addresses": now})
            except (IOError, OSError) as error:
                module.fail_json(msg="Cannot write %s: %s" % (params["state_path"], error.strerror or error), **result)
        module.exit_json(changed=False, restart_due=False, reason="recorded the addresses of the running Agent",
                         public_connections=[], **result)

    due, reason, public = decide(now, recorded, identity, live)
    if not due and identity and not module.check_mode and recorded != {"agent": identity, "addresses": now}:
        try:  # nothing to move: remember what this Agent uses, so that a later move is seen
            save(params["state_path"], {"agent": identity, "addresses": now})
        except (IOError, OSError) as error:
            module.fail_json(msg="Cannot write %s: %s" % (params["state_path"], error.strerror or error), **result)
    diff = dict(before=json.dumps((recorded or {}).get("addresses") or {}, indent=1, sort_keys=True) + "\n",
                after=json.dumps(now, indent=1, sort_keys=True) + "\n") if due else None
    module.exit_json(changed=due, restart_due=due, reason=reason, public_connections=public,
                     **dict(result, diff=diff) if diff else result)


if __name__ == "__main__":
    main()
