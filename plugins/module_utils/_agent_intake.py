# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The restart rule for a running Agent whose intake names moved: its identity, its connections, the record.

Private to this collection (used by the ``agent_intake_addresses`` and ``agent_private_path``
modules); not a public API. Linux only: it reads /proc.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import os
import tempfile

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_host as agent_host

DEFAULT_PID_FILES = ["/opt/datadog-agent/run/agent.pid", "/opt/datadog-agent/run/trace-agent.pid",
                     "/opt/datadog-agent/run/process-agent.pid"]
DEFAULT_PORTS = [443, 10516]
DEFAULT_STATE_PATH = "/var/lib/datadog-privatelink/intake-addresses.json"

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


def running_agent(pid_files, ports):
    """(alive pids, identity of the main one or None, its live connections on the ports); OSError when /proc is closed."""
    pids = alive_pids(pid_files)
    identity = process_identity(pids[0]) if pids else None
    live = sorted(set(c for pid in pids for c in connections(pid, ports)))
    return pids, identity, live


def addresses_now(names):
    """What each intake name resolves to now, as {name: sorted addresses}."""
    return dict((n["name"], agent_host.resolve(n["name"])[0]) for n in names)


def remember(module, state_path, identity, now, recorded, result):
    """Record ``now`` for the running Agent unless it is already, or in check mode; fail the module on a write error."""
    if identity and not module.check_mode and recorded != {"agent": identity, "addresses": now}:
        try:
            save(state_path, {"agent": identity, "addresses": now})
        except (IOError, OSError) as error:
            module.fail_json(msg="Cannot write %s: %s" % (state_path, error.strerror or error), **result)


def diff(recorded, now):
    return dict(before=json.dumps((recorded or {}).get("addresses") or {}, indent=1, sort_keys=True) + "\n",
                after=json.dumps(now, indent=1, sort_keys=True) + "\n")
