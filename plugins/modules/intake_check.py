#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: intake_check
short_description: Check from an Agent host that the Agent's Datadog traffic takes the PrivateLink path
version_added: 0.1.0
description:
  - The troubleshooting step of Datadog's PrivateLink guide, run on the Agent host itself, as the Agent
    resolves and connects. For each customer-facing name of the selected services (the host the Agent
    sends to first, then every other name Datadog's guide lists for the service; a wildcard such as
    C(*.agent.<site>) through an example name such as C(7-52-1-app.agent.<site>), and the versioned
    metrics host C(<version>-app.agent.<site>) the Agent really uses), resolves it
    with the host's resolver, checks that every address lies in O(expected_cidrs) (the endpoint VPC's
    CIDR; any private address when empty) and opens a TCP connection to it.
  - Each name gets a verdict and, when it does not pass, the cause in the guide's words. A public address
    means traffic would leave through the internet - the private hosted zone (the service's anchor, such
    as C(orchid.intake.datadoghq.com), to which the name is a public CNAME, or its direct name) is not
    associated with this VPC or its A record is missing (VPC peering), or the endpoint's private DNS is off (same or cross
    region). A name that resolves to nothing in a zone that answers for it means its A record is missing.
    An address inside the endpoint VPC that does not answer means peering or routing is wrong, or TCP 443
    is not allowed from this host to that CIDR (security groups, network ACLs).
  - When C(datadog.yaml) sets an HTTPS proxy (or C(DD_PROXY_HTTPS) is set) and the name is not in
    C(no_proxy), the Agent does not use this host's DNS and routes for it, so the name gets the verdict
    V(proxy), never a success, with whether the proxy answers from here.
  - When logs are enabled but not forced over HTTPS, the logs-over-TCP destination
    (C(agent-intake.logs.<site>:10516)), which PrivateLink does not carry, is reported too.
  - Read-only; changes nothing.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  site:
    description:
      - The Datadog site, as catalog key (V(us1), V(ap1), V(ap2), V(uk1)) or C(dd_site) name.
      - Empty reads C(site) from O(config_path) (V(datadoghq.com) when it has none, as the Agent does).
    type: str
    default: ""
  services:
    description:
      - Service keys whose names are checked; default the Agent's ten, V(all) every service of the
        site (see C(docs/catalog.md)).
    type: list
    elements: str
    default: []
  names:
    description:
      - Host names to check instead of the catalog's (for instance anchor names, or a name
        you added).
    type: list
    elements: str
    default: []
  expected_cidrs:
    description:
      - Where the addresses must be, typically the endpoint VPC's CIDR. Empty means any private
        address (RFC 1918, RFC 6598 shared space, unique local IPv6).
    type: list
    elements: str
    default: []
  agent_version:
    description:
      - The Agent's version (V(7.52.1)), for the versioned metrics host. Empty reads it from
        C(datadog-agent version) on the host; when that fails, a warning says the host was not checked.
    type: str
    default: ""
  config_path:
    description:
      - The Agent's C(datadog.yaml), read for C(proxy) and C(logs_config). Default the platform's
        path when it exists. An empty string reads no file.
    type: path
  dns_mode:
    description:
      - How this VPC is meant to resolve Datadog's names, which decides the cause given for a public
        answer. V(private_zone) for VPC peering (private hosted zones), V(endpoint_private_dns) for
        same-region and cross-region endpoints, V(auto) names both.
    type: str
    choices: [auto, private_zone, endpoint_private_dns]
    default: auto
  port:
    description: The TCP port to open.
    type: int
    default: 443
  timeout:
    description: Seconds to wait for each connection. Names are checked in parallel.
    type: float
    default: 3
  fail_on_error:
    description: Fail the task when a name does not pass; otherwise only report.
    type: bool
    default: true
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Read-only, runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix, windows
notes:
  - Runs on the Agent host with its own resolver, as the Agent resolves.
  - Troubleshooting table of the guide - U(https://docs.datadoghq.com/agent/guide/private-link/).
seealso:
  - module: datadog_privatelink.aws.private_zones
  - module: datadog_privatelink.aws.vpc_endpoints
"""

EXAMPLES = r"""
- name: Every Datadog intake name resolves inside the endpoint VPC and answers on 443
  datadog_privatelink.aws.intake_check:
    site: datadoghq.com
    expected_cidrs: [10.40.0.0/16]
    dns_mode: private_zone

- name: Report only, for the names of two services
  datadog_privatelink.aws.intake_check:
    site: ap1
    services: [logs_agent, api]
    agent_version: 7.52.1
    fail_on_error: false
  register: intake

- name: Show where each name goes
  ansible.builtin.debug:
    var: intake.summary
"""

RETURN = r"""
checks:
  description: One entry per host name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The host name.
      type: str
      sample: api.datadoghq.com
    service:
      description: The catalog service key this name belongs to (null for O(names)).
      type: str
      sample: api
    zone:
      description: The private DNS name (private hosted zone) that must answer for this name.
      type: str
      sample: metrics.agent.datadoghq.com
    port:
      description: The TCP port checked.
      type: int
      sample: 443
    addresses:
      description: The addresses it resolved to.
      type: list
      elements: str
      sample: [10.40.1.17, 10.40.2.33]
    private:
      description: Every address is in O(expected_cidrs) (or private).
      type: bool
    reachable:
      description: A TCP connection to one of the addresses on the port succeeded.
      type: bool
    ok:
      description: On the private path - resolved inside O(expected_cidrs) and reachable.
      type: bool
    verdict:
      description: >-
        V(private), V(public), V(unresolved), V(outside_expected), V(unreachable), V(proxy) or
        V(logs_tcp).
      type: str
      sample: private
    problem:
      description: What is wrong and where to look, following the guide; null when ok.
      type: str
failed_names:
  description: The names that did not pass.
  returned: always
  type: list
  elements: str
summary:
  description: One line per name - name, verdict, addresses.
  returned: always
  type: list
  elements: str
agent_version:
  description: The Agent version used for the versioned metrics host (empty when unknown).
  returned: always
  type: str
config_path:
  description: The datadog.yaml read, null when none.
  returned: always
  type: str
"""

import concurrent.futures
import ipaddress
import os
import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_host as agent_host, catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._agent_host import PRIVATE_NETWORKS, in_networks, resolve

# The guide's troubleshooting, one sentence per cause (docs.datadoghq.com/agent/guide/private-link/).
CAUSE_ZONE = ("the private hosted zone %(zone)s is not associated with this VPC, or its A alias record is missing: "
              "associate the zone with this VPC (private_zones, or private_zone_association from another account)")
CAUSE_PRIVATE_DNS = ("the VPC endpoint of %(service)s in this VPC does not have private DNS enabled (or there is none): "
                     "turn private DNS on (vpc_endpoints private_dns_enabled, with the VPC's DNS attributes on)")
CAUSE_NO_RECORD = ("the private hosted zone %(zone)s answers for this VPC but holds no A record for %(name)s "
                   "(Datadog's public DNS always answers): add the A alias record to the endpoint (private_zones)")
CAUSE_NO_DNS = ("this host's resolver has no answer for %(name)s: the VPC's DNS attributes (enableDnsSupport, "
                "enableDnsHostnames) must be on, and no private hosted zone may hold %(zone)s without its record")
CAUSE_UNREACHABLE = ("resolves inside %(expected)s but TCP %(port)d does not connect (%(how)s): the peering connection "
                     "must be active and both route tables must route the other VPC's CIDR through it; the endpoint's "
                     "security group must admit TCP %(port)d from this host's VPC CIDR; this host's security group "
                     "and network ACLs must let TCP %(port)d out to %(expected)s")
CAUSE_OUTSIDE = ("resolves to %(outside)s, a private address outside %(expected)s: the name points at another "
                 "network than the endpoint VPC (a stale record, or a zone of another VPC)")
CAUSE_PROXY = ("the Agent sends this through the proxy %(proxy)s, so this host's DNS and routes do not decide the path: "
               "the proxy host must resolve %(name)s inside %(expected)s and reach it on TCP 443 (run intake_check "
               "there); from here the proxy %(proxy_state)s")
CAUSE_LOGS_TCP = ("logs are not forced over HTTPS (logs_config.force_use_http), so the Agent may send them over TCP "
                  "to %(name)s:%(port)d, which PrivateLink does not carry: set logs_config.force_use_http: true "
                  "(the agent role does) and restart the Agent")


def connect(address, port, timeout):
    """'ok', 'refused' or 'timeout' (AWS drops what a security group, route or ACL blocks: a timeout)."""
    try:
        connection = socket.create_connection((address, port), timeout=timeout)
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "timeout"
    connection.close()
    return "ok"


def proxy_for(config, name):
    """The HTTPS proxy the Agent uses for name ('' when none): datadog.yaml proxy, or DD_PROXY_HTTPS."""
    proxy = config.get("proxy") if isinstance(config.get("proxy"), dict) else {}
    url = os.environ.get("DD_PROXY_HTTPS") or proxy.get("https") or ""
    no_proxy = os.environ.get("DD_PROXY_NO_PROXY", "").split() or proxy.get("no_proxy") or []
    if isinstance(no_proxy, str):
        no_proxy = no_proxy.replace(",", " ").split()
    for entry in no_proxy:
        entry = str(entry).lstrip("*").lstrip(".")
        if entry and (name == entry or name.endswith("." + entry)):
            return ""
    return str(url)


def logs_over_https(config):
    logs = config.get("logs_config") if isinstance(config.get("logs_config"), dict) else {}
    return any(str(logs.get(key)).lower() == "true" for key in ("force_use_http", "use_http"))


def host_of(url):
    parts = urlsplit(url if "://" in url else "http://" + url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def check(target, networks, expected_text, port, timeout, dns_mode, config):
    name = target["name"]
    entry = dict(target, port=target.get("port") or port, addresses=[], private=False, reachable=False, ok=False,
                 verdict=None, problem=None)
    facts = dict(name=name, zone=target["zone"], service=target["service"] or name, expected=expected_text,
                 port=entry["port"])
    if target.get("transport") == "tcp":
        entry["addresses"] = resolve(name, entry["port"])[0]
        entry.update(verdict="logs_tcp", problem=CAUSE_LOGS_TCP % facts)
        return entry
    proxy = proxy_for(config, name)
    if proxy:
        proxy_host, proxy_port = host_of(proxy)
        addresses, _kind = resolve(proxy_host, proxy_port)
        state = connect(addresses[0], proxy_port, timeout) if addresses else "unresolved"
        proxy_state = {"ok": "answers", "unresolved": "does not resolve"}.get(state, "does not answer (%s)" % state)
        facts.update(proxy="%s:%d" % (proxy_host, proxy_port), proxy_state=proxy_state)
        entry.update(verdict="proxy", proxy=facts["proxy"], problem=CAUSE_PROXY % facts)
        return entry
    entry["addresses"] = resolve(name, entry["port"])[0]
    if not entry["addresses"]:
        # Datadog's public DNS always answers for its names: no answer at all means a private hosted
        # zone answers for the name in this VPC without an A record (or this VPC has no working DNS).
        entry["verdict"] = "unresolved"
        entry["problem"] = "does not resolve: " + (CAUSE_NO_DNS if dns_mode == "endpoint_private_dns"
                                                   else CAUSE_NO_RECORD) % facts
        return entry
    outside = [a for a in entry["addresses"] if not in_networks(a, networks)]
    entry["private"] = not outside
    if outside:
        facts["outside"] = ", ".join(outside)
        if any(not in_networks(a, PRIVATE_NETWORKS) for a in outside):
            causes = {"private_zone": [CAUSE_ZONE], "endpoint_private_dns": [CAUSE_PRIVATE_DNS]}.get(
                dns_mode, [CAUSE_ZONE, CAUSE_PRIVATE_DNS])
            entry.update(verdict="public", problem="resolves to the public address %s, so traffic would leave "
                         "through the internet: %s" % (facts["outside"], "; or ".join(c % facts for c in causes)))
        else:
            entry.update(verdict="outside_expected", problem=CAUSE_OUTSIDE % facts)
        return entry
    states = [connect(a, entry["port"], timeout) for a in entry["addresses"]]
    entry["reachable"] = "ok" in states
    if not entry["reachable"]:
        facts["how"] = ("timed out after %ss" % timeout) if "timeout" in states else "refused"
        entry.update(verdict="unreachable", problem=CAUSE_UNREACHABLE % facts)
        return entry
    entry.update(ok=True, verdict="private")
    return entry


def targets_for(params, version, config):
    """The names to check: every customer-facing name of the services (the Agent's first), logs over TCP."""
    if params["names"]:
        return [{"name": n, "service": None, "zone": n} for n in params["names"]]
    targets = agent_host.check_names(params["site"], params["services"], version)
    if config.get("logs_enabled") and not logs_over_https(config):
        host, port = catalog.logs_tcp_destination(params["site"])
        targets.append({"name": host, "service": None, "zone": host, "port": port, "transport": "tcp"})
    return targets


def main():
    module = AnsibleModule(
        argument_spec=dict(
            site=dict(type="str", default=""),
            services=dict(type="list", elements="str", default=[]),
            names=dict(type="list", elements="str", default=[]),
            expected_cidrs=dict(type="list", elements="str", default=[]),
            agent_version=dict(type="str", default=""),
            config_path=dict(type="path"),
            dns_mode=dict(type="str", default="auto", choices=["auto", "private_zone", "endpoint_private_dns"]),
            port=dict(type="int", default=443),
            timeout=dict(type="float", default=3),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        networks = [ipaddress.ip_network(c, strict=False) for c in params["expected_cidrs"]] or list(PRIVATE_NETWORKS)
    except ValueError as error:
        module.fail_json(msg="expected_cidrs: %s" % error)
    expected_text = ", ".join(params["expected_cidrs"]) or "the private address ranges"
    config_path = params["config_path"]
    if config_path is None:
        config_path = agent_host.default_config_path()
    try:
        config = agent_host.read_agent_config(config_path)
        params["site"] = params["site"] or config.get("site") or "datadoghq.com"
        version = params["agent_version"] or agent_host.agent_version_on_host(module)
        targets = targets_for(params, version, config)
    except (catalog.CatalogError, ValueError) as error:
        module.fail_json(msg=str(error))

    # One thread per name: a blocked path costs one timeout, not one per name.
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(targets) or 1)) as pool:
        checks = list(pool.map(lambda t: check(t, networks, expected_text, params["port"], params["timeout"],
                                               params["dns_mode"], config), targets))
    failed = [c["name"] for c in checks if not c["ok"]]
    result = dict(changed=False, checks=checks, failed_names=failed, agent_version=version,
                  config_path=config_path or None,
                  summary=["%-42s %-16s %s" % (c["name"], c["verdict"], ", ".join(c["addresses"]) or "-")
                           for c in checks])
    if not version and not params["names"]:
        module.warn("The Agent version is unknown (agent_version, or datadog-agent on this host): the versioned "
                    "metrics host <version>-app.agent.<site> the Agent uses was not checked.")
    if failed and params["fail_on_error"]:
        module.fail_json(msg="%d of %d Datadog intake names are not on the private path: %s" % (
            len(failed), len(checks), "; ".join("%s %s" % (c["name"], c["problem"]) for c in checks if not c["ok"])),
            **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
