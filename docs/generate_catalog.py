#!/usr/bin/env python
"""Write docs/catalog.md from plugins/module_utils/catalog.py (the one table of Datadog facts).

Usage: python docs/generate_catalog.py [--stdout]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG_PATH = os.path.join(HERE, "..", "plugins", "module_utils", "catalog.py")


def load_catalog():
    spec = importlib.util.spec_from_file_location("datadog_privatelink_catalog", CATALOG_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(catalog):
    lines = [
        "# Datadog PrivateLink catalog",
        "",
        "Generated from `plugins/module_utils/catalog.py` by `docs/generate_catalog.py`; do not edit.",
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
        "## Services",
        "",
    ]
    for key, site in catalog.SITES.items():
        lines += [
            "### %s (%s, %s)" % (key, site["dd_site"], site["region"]),
            "",
            "| key | service | endpoint service name | private DNS name |",
            "|---|---|---|---|",
        ]
        for entry in catalog.service_entries(key):
            name = "`%s`" % entry["service_name"]
            if entry["superseded_service_names"]:
                name += " (before: %s)" % ", ".join("`%s`" % old for old in entry["superseded_service_names"])
            lines.append("| `%s` | %s | %s | `%s` |" % (entry["key"], entry["title"], name, entry["private_dns_name"]))
        shared = [keys for keys in catalog.group_by_service_name(catalog.service_entries(key)).values() if len(keys) > 1]
        if shared:
            lines += ["", "Served by one endpoint: " + "; ".join(" and ".join("`%s`" % k for k in keys) for keys in shared) + "."]
        lines.append("")
    return "\n".join(lines)


def main():
    text = render(load_catalog())
    if "--stdout" in sys.argv:
        sys.stdout.write(text)
        return
    with open(os.path.join(HERE, "catalog.md"), "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
