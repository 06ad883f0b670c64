#!/usr/bin/env python
"""Write docs/network_traffic.md from plugins/module_utils/catalog.py: what goes over PrivateLink, what still goes public.

Usage: python docs/generate_network_traffic.py [--check | --stdout]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _generated import load_catalog, write_or_check  # noqa: E402 - docs/ is the script's own folder


def old_agent(catalog):
    """The last 7.x before the api.<site> host (7.18 when written): ("7.17.0", "7.18")."""
    since = next(row["since"] for row in catalog.NETWORK_DESTINATIONS if row["key"] == "api")
    minor = int(since.split(".")[1])
    return "7.%d.0" % (minor - 1), "7.%d" % minor


def table(catalog, site, version):
    lines = ["| destination | port | product | path | why |", "|---|---|---|---|---|"]
    for item in catalog.network_destinations(site, version):
        path = "PrivateLink (`%s`)" % item["service_key"] if item["private"] else ("internet" if item["internet"] else "local")
        lines.append("| `%s` | %d/%s | %s | %s | %s |" % (
            item["host"], item["port"], item["protocol"], item["product"], path, item["reason"] or "-"))
    return lines


def render(catalog):
    lines = [
        "# Network traffic: what PrivateLink carries, what still needs the internet",
        "",
        "Generated from `plugins/module_utils/catalog.py` by `docs/generate_network_traffic.py`; do not edit.",
        "Source: Datadog's [Network traffic](https://docs.datadoghq.com/agent/configure_agent/network/) guide.",
        "Traffic is always initiated by the Agent, over TLS.",
        "",
        "The same facts, in a playbook:",
        "",
        "```yaml",
        "- name: What goes over PrivateLink, and what does not",
        "  ansible.builtin.debug:",
        "    msg: \"{{ query('datadog_privatelink.aws.destinations', 'summary', site=endpoints_site, agent_version='') }}\"",
        "```",
        "",
        "`query('datadog_privatelink.aws.destinations', site=..., agent_version=...)` gives one dictionary",
        "per destination (`host`, `port`, `protocol`, `product`, `private`, `service_key`, `internet`, `reason`,",
        "`section`); `query('datadog_privatelink.aws.ip_ranges', 'logs', ...)` gives the addresses of a section",
        "of Datadog's IP ranges document (`%s`); the `egress` role writes the security group rules." % (catalog.IP_RANGES_URL % "<site>"),
        "",
        "## Why something still goes public",
        "",
    ]
    for key, text in catalog.PUBLIC_REASONS.items():
        lines.append("- `%s`: %s." % (key, text))
    lines += [
        "",
        "## Ports the Agent only listens on locally",
        "",
        "No egress rule; never open them to a network.",
        "",
        "| port | use |",
        "|---|---|",
    ]
    for port, protocol, use in catalog.AGENT_LOCAL_PORTS:
        lines.append("| %d/%s | %s |" % (port, protocol, use))
    lines.append("")
    for key, site in catalog.SITES.items():
        lines += ["## %s (%s)" % (key, site["dd_site"]), ""]
        old, since = old_agent(catalog)
        for version, label in ((None, "A current Agent"), (old, "An Agent older than %s (%s)" % (since, old))):
            lines += ["### %s" % label, ""] + table(catalog, key, version) + [""]
    return "\n".join(lines)


def main():
    return write_or_check({os.path.join(HERE, "network_traffic.md"): render(load_catalog())}, "generate_network_traffic.py")


if __name__ == "__main__":
    sys.exit(main())
