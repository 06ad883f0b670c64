#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: intake_check
short_description: Check from an Agent host that Datadog's intake names resolve privately and answer on 443
version_added: 0.1.0
description:
  - The troubleshooting step of Datadog's PrivateLink guide, run on the Agent host itself.
    For each intake host name of the site (from the collection's catalog), resolves it with
    the host's resolver, checks that every address is private (or inside O(expected_cidrs),
    typically the endpoint VPC's CIDR) and opens a TCP connection to port 443.
  - A public address means the traffic would leave through the internet - with VPC peering,
    the private hosted zone is not associated with this VPC or its A record is missing; with
    private DNS, the endpoint's private DNS is off. A private address that does not answer on
    443 means peering or routing is wrong, or a security group or network ACL blocks TCP 443.
  - Read-only; changes nothing.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  site:
    description: The Datadog site, as catalog key (V(us1), V(ap1), V(ap2), V(uk1)) or C(dd_site) name.
    type: str
    required: true
  services:
    description: Service keys whose host names are checked; default all.
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
      - Where the addresses must be. Empty means any private address (RFC 1918, RFC 6598
        shared space, unique local IPv6).
    type: list
    elements: str
    default: []
  port:
    description: The TCP port to open.
    type: int
    default: 443
  timeout:
    description: Seconds to wait for each connection.
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
seealso:
  - module: datadog_privatelink.aws.private_zones
  - module: datadog_privatelink.aws.vpc_endpoints
"""

EXAMPLES = r"""
- name: Every Datadog intake name resolves inside the endpoint VPC and answers on 443
  datadog_privatelink.aws.intake_check:
    site: datadoghq.com
    expected_cidrs: [10.40.0.0/16]

- name: Report only, for the names of two services
  datadog_privatelink.aws.intake_check:
    site: ap1
    services: [logs_agent, api]
    fail_on_error: false
  register: intake
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
    addresses:
      description: The addresses it resolved to.
      type: list
      elements: str
      sample: [10.40.1.17, 10.40.2.33]
    private:
      description: Every address is private (or in expected_cidrs).
      type: bool
    reachable:
      description: A TCP connection to one of the addresses on the port succeeded.
      type: bool
    ok:
      description: Resolved, private and reachable.
      type: bool
    problem:
      description: What is wrong and where to look, following the guide; null when ok.
      type: str
failed_names:
  description: The names that did not pass.
  returned: always
  type: list
  elements: str
"""

import ipaddress
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

# Private ranges an endpoint address can be in when no CIDR is given.
PRIVATE_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")]


def resolve(name, port):
    infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    return sorted(set(info[4][0] for info in infos))


def in_networks(address, networks):
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def reachable(address, port, timeout):
    try:
        connection = socket.create_connection((address, port), timeout=timeout)
    except (OSError, socket.timeout):
        return False
    connection.close()
    return True


def check_name(name, networks, port, timeout, expected_text):
    entry = {"name": name, "addresses": [], "private": False, "reachable": False, "ok": False, "problem": None}
    try:
        entry["addresses"] = resolve(name, port)
    except socket.gaierror as error:
        entry["problem"] = ("does not resolve (%s): with VPC peering, the private hosted zone of this name is missing or "
                            "not associated with this host's VPC, or the VPC's DNS attributes are off" % error)
        return entry
    outside = [a for a in entry["addresses"] if not in_networks(a, networks)]
    entry["private"] = not outside
    if outside:
        entry["problem"] = ("resolves to %s, outside %s: traffic would not go through PrivateLink. With VPC peering, associate "
                            "the private hosted zone with this VPC and check its A alias record; with private DNS, check that "
                            "the endpoint has private DNS on" % (", ".join(outside), expected_text))
        return entry
    entry["reachable"] = any(reachable(a, port, timeout) for a in entry["addresses"])
    if not entry["reachable"]:
        entry["problem"] = ("resolves to %s but no connection on TCP %d within %ss: check the peering routes both ways, the "
                            "endpoint security group (TCP %d from this host) and network ACLs"
                            % (", ".join(entry["addresses"]), port, timeout, port))
        return entry
    entry["ok"] = True
    return entry


def main():
    module = AnsibleModule(
        argument_spec=dict(
            site=dict(type="str", required=True),
            services=dict(type="list", elements="str", default=[]),
            names=dict(type="list", elements="str", default=[]),
            expected_cidrs=dict(type="list", elements="str", default=[]),
            port=dict(type="int", default=443),
            timeout=dict(type="float", default=3),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        names = params["names"] or sorted(set(catalog.intake_hosts(params["site"], params["services"]).values()))
    except catalog.CatalogError as error:
        module.fail_json(msg=str(error))
    try:
        networks = [ipaddress.ip_network(c, strict=False) for c in params["expected_cidrs"]] or PRIVATE_NETWORKS
    except ValueError as error:
        module.fail_json(msg="expected_cidrs: %s" % error)
    expected_text = ", ".join(params["expected_cidrs"]) or "the private address ranges"

    checks = [check_name(name, networks, params["port"], params["timeout"], expected_text) for name in names]
    failed = [c["name"] for c in checks if not c["ok"]]
    result = dict(changed=False, checks=checks, failed_names=failed)
    if failed and params["fail_on_error"]:
        module.fail_json(msg="%d of %d Datadog intake names do not pass: %s" % (
            len(failed), len(checks), "; ".join("%s %s" % (c["name"], c["problem"]) for c in checks if not c["ok"])), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
