# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What an Agent host sees: its datadog.yaml, its Agent's version and the names the Agent resolves.

Private to this collection (used by ``intake_check`` and ``agent_intake_addresses``); not a
public API. Nothing here quotes datadog.yaml's text: it holds the API key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import socket

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - reported when a datadog.yaml must be read
    HAS_YAML = False

# Where an endpoint's address can be when no CIDR is given: RFC 1918, RFC 6598 shared space, unique local IPv6.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                           "100.64.0.0/10", "fc00::/7"))
DEFAULT_CONFIG_PATHS = ("/etc/datadog-agent/datadog.yaml", "/opt/datadog-agent/etc/datadog.yaml",
                        "C:\\ProgramData\\Datadog\\datadog.yaml")
VERSION_COMMANDS = (["datadog-agent", "version"], ["/opt/datadog-agent/bin/agent/agent", "version"])


def resolve(name, port=443):
    """(sorted addresses, error kind): kind is None, 'no_record' (the name exists, no address) or 'no_name'."""
    try:
        infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as error:
        no_data = getattr(socket, "EAI_NODATA", None)
        return [], ("no_record" if no_data is not None and error.errno == no_data else "no_name")
    except UnicodeError:
        return [], "no_name"
    return sorted(set(info[4][0] for info in infos)), None


def in_networks(address, networks):
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def default_config_path():
    return next((path for path in DEFAULT_CONFIG_PATHS if os.path.exists(path)), "")


def read_agent_config(path):
    """datadog.yaml as a dict ({} when there is none); errors give the line, never the text."""
    if not path or not os.path.exists(path):
        return {}
    if not HAS_YAML:
        raise ValueError("PyYAML is needed on this host to read %s (install python3-yaml)" % path)
    try:
        with open(path, "rb") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = " (line %d)" % (mark.line + 1) if mark is not None else ""
        raise ValueError("%s is not valid YAML%s: the Agent cannot start with it" % (path, where))
    except (IOError, OSError) as error:
        raise ValueError("cannot read %s: %s" % (path, error.strerror or error))
    return data if isinstance(data, dict) else {}


def agent_version_on_host(module):
    """The installed Agent's version ('' when no Agent answers)."""
    for command in VERSION_COMMANDS:
        if module.get_bin_path(command[0]) or os.path.exists(command[0]):
            rc, out, _err = module.run_command(command)
            found = catalog.AGENT_VERSION_IN_TEXT.search(out or "") if rc == 0 else None
            if found:
                return ".".join(found.groups())
    return ""


def agent_names(site, services=None, version=""):
    """The intake names an Agent of this version resolves, each with its service key and zone.

    The zone is the private DNS name that must answer for it: the service's anchor (every
    name of an anchor is a public CNAME to it), else its direct name; the versioned metrics
    host is a public CNAME to the metrics host.
    """
    entries = catalog.service_entries(site, services)
    names = [{"name": e["private_dns_name"], "service": e["key"], "zone": e["zone_name"]} for e in entries]
    metrics = [n for n in names if n["service"] == catalog.VERSIONED_METRICS_CNAME_KEY]
    if metrics and version:
        names.append(dict(metrics[0], name=catalog.agent_metrics_host(site, version)))
    return names


def check_names(site, services=None, version=""):
    """Every customer-facing name of the services, to check (a wildcard through an example name), with service and zone.

    The Agent's names come first (agent_names); "*.agent.<site>" is checked through this
    Agent's versioned host when its version is known.
    """
    names = agent_names(site, services, version)
    seen = set(n["name"] for n in names)
    for entry in catalog.service_entries(site, services):
        for pattern in entry["names"]:
            name = catalog.example_name(site, pattern, version)
            if name not in seen:
                seen.add(name)
                names.append({"name": name, "service": entry["key"], "zone": entry["zone_name"]})
    return names
