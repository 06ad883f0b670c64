#!/usr/bin/env python
"""Write docs/catalog.md from plugins/module_utils/catalog.py (the one table of Datadog facts).

Usage: python docs/generate_catalog.py [--stdout | --check]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from _generated import load_catalog, write_or_check  # noqa: E402 - docs/ is the script's own folder

HERE = os.path.dirname(os.path.abspath(__file__))


def render(catalog):
    lines = [
        "# Datadog PrivateLink catalog",
        "",
        "Generated from `plugins/module_utils/catalog.py` by `docs/generate_catalog.py`; do not edit.",
        "Source: Datadog's PrivateLink guide (https://docs.datadoghq.com/agent/guide/private-link/).",
        "The modules verify every name with DescribeVpcEndpointServices at run time, and",
        "`service_names` overrides any of them.",
        "",
        "## Sites",
        "",
        "| site key | dd_site | also accepted | AWS region of Datadog's endpoint services |",
        "|---|---|---|---|",
    ]
    for key, site in catalog.SITES.items():
        aliases = ", ".join("`%s`" % alias for alias, target in catalog.SITE_ALIASES.items() if target == key)
        lines.append("| `%s` | `%s` | %s | `%s` |" % (key, site["dd_site"], aliases, site["region"]))
    lines += [
        "",
        "Without PrivateLink (refused): " + ", ".join(
            "`%s` (%s)" % (key, dd_site) for key, dd_site in catalog.UNSUPPORTED_SITES.items()) + ".",
        "",
        "## Service keys",
        "",
        "`services` takes these keys. Empty (the default) is the Agent's ten (marked *default*);",
        "`%s` takes every service of the site: one endpoint per distinct endpoint service." % catalog.ALL,
        "Keys served by one endpoint service share one endpoint.",
        "",
        "| key | product | default | sites |",
        "|---|---|---|---|",
    ]
    titles = dict((entry["key"], entry["title"]) for site in catalog.SITES for entry in catalog.service_entries(site, [catalog.ALL]))
    for key in catalog.ALL_SERVICE_KEYS:
        sites = [site for site in catalog.SITES if key in catalog.SITES[site]["service_ids"]]
        default = "default" if key in catalog.SERVICE_KEYS else ""
        lines.append("| `%s` | %s | %s | %s |" % (key, titles[key], default, ", ".join(sites)))
    lines += [
        "",
        "## Two-level DNS: anchors",
        "",
        "Each customer-facing name is a public CNAME to its service's *anchor*, `<colour>.intake.<dd_site>`,",
        "the private DNS name of one VPC endpoint service: an endpoint for an anchor (its private DNS, or a",
        "private zone of the anchor's name in a peered VPC) covers every name that maps to it. A service",
        "without an anchor is direct: its one name is its private DNS name. `*.` names are wildcards (one",
        "label here); a listed name wins over a wildcard. A wildcard is checked through an example name.",
        "",
    ]
    for key, site in catalog.SITES.items():
        entries = catalog.service_entries(key, [catalog.ALL])
        groups = catalog.group_by_service_name(entries)
        lines += [
            "### %s (%s, %s): %d endpoint services" % (key, site["dd_site"], site["region"], len(groups)),
            "",
            "| endpoint service name | private DNS name (zone) | keys | customer-facing names |",
            "|---|---|---|---|",
        ]
        by_key = dict((entry["key"], entry) for entry in entries)
        for name, keys in groups.items():
            first = by_key[keys[0]]
            zone = "`%s`" % first["zone_name"] + ("" if first["anchor"] else " (direct)")
            names = ", ".join("`%s`" % n for k in keys for n in by_key[k]["names"])
            old = sorted(set(o for k in keys for o in by_key[k]["superseded_service_names"]))
            shown = "`%s`" % name + (" (before: %s)" % ", ".join("`%s`" % o for o in old) if old else "")
            lines.append("| %s | %s | %s | %s |" % (shown, zone, ", ".join("`%s`" % k for k in keys), names))
        lines += [
            "",
            "| key | host | names checked (wildcards by example) |",
            "|---|---|---|",
        ]
        for entry in entries:
            checks = ", ".join("`%s`" % n for n in entry["check_names"])
            lines.append("| `%s` | `%s` | %s |" % (entry["key"], entry["private_dns_name"], checks))
        lines.append("")
    return "\n".join(lines)


def main():
    return write_or_check({os.path.join(HERE, "catalog.md"): render(load_catalog())}, "generate_catalog.py")


if __name__ == "__main__":
    sys.exit(main())
