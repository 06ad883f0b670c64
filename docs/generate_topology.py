#!/usr/bin/env python
"""Write the topology picture of each scenario: docs/images/<scenario>.svg and docs/docsite/rst/topology.rst.

VPCs, endpoints, peering, zones and Agents, drawn for the datadoghq.com site; service keys, host
names and regions come from plugins/module_utils/catalog.py, so the pictures follow the catalog.
Usage: python docs/generate_topology.py [--check]   (--check: exit 1 when a file is not current)
"""

import os
import sys
from xml.sax.saxutils import escape

from _generated import load_catalog, write_or_check  # noqa: E402 - docs/ is the script's own folder

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")
RST = os.path.join(HERE, "docsite", "rst", "topology.rst")
SITE = "datadoghq.com"
SCENARIOS = ("same_region", "cross_region", "peered_region")
TITLES = {"same_region": "Same region", "cross_region": "Cross region", "peered_region": "Peered region"}
OTHER_REGION = "eu-west-1"  # any region other than the site's, for the drawings
FONT = "font-family='Helvetica, Arial, sans-serif'"
COLORS = {"region": ("#f7f9fc", "#8a9bb5"), "vpc": ("#eef7ee", "#4c8c4a"), "datadog": ("#f3edfa", "#632ca6"),
          "endpoint": ("#ffffff", "#4c8c4a"), "zone": ("#fff8e6", "#b7791f"), "agent": ("#ffffff", "#555555"),
          "group": ("#ffffff", "#c0392b")}


class Svg:
    def __init__(self, width, height, title):
        self.width, self.height = width, height
        self.parts = ["<title>%s</title>" % escape(title),
                      "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
                      "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' fill='#333'/></marker></defs>",
                      "<rect width='%d' height='%d' fill='#ffffff'/>" % (width, height)]

    def box(self, x, y, w, h, kind, label=None, sub=None, dashed=False):
        fill, stroke = COLORS[kind]
        dash = " stroke-dasharray='6 4'" if dashed else ""
        self.parts.append("<rect x='%d' y='%d' width='%d' height='%d' rx='6' fill='%s' stroke='%s' stroke-width='1.5'%s/>"
                          % (x, y, w, h, fill, stroke, dash))
        if label:
            self.text(x + 8, y + 17, label, bold=True, color=stroke)
        if sub:
            self.text(x + 8, y + 32, sub, size=11, color="#444")

    def text(self, x, y, value, size=12, bold=False, color="#222", anchor="start"):
        weight = " font-weight='bold'" if bold else ""
        self.parts.append("<text x='%d' y='%d' font-size='%d' fill='%s' text-anchor='%s' %s%s>%s</text>"
                          % (x, y, size, color, anchor, FONT, weight, escape(value)))

    def arrow(self, x1, y1, x2, y2, label=None, dashed=False, both=False):
        dash = " stroke-dasharray='5 4'" if dashed else ""
        start = " marker-start='url(#arrow)'" if both else ""
        self.parts.append("<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#333' stroke-width='1.5' marker-end='url(#arrow)'%s%s/>"
                          % (x1, y1, x2, y2, start, dash))
        if label:
            self.text((x1 + x2) // 2, min(y1, y2) - 6, label, size=11, anchor="middle", color="#333")

    def render(self):
        return ("<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' role='img'>\n%s\n</svg>\n"
                % (self.width, self.height, self.width, self.height, "\n".join(self.parts)))


def agents(svg, x, y, count=2):
    for i in range(count):
        svg.box(x, y + i * 34, 120, 26, "agent")
        svg.text(x + 60, y + i * 34 + 17, "Datadog Agent", size=11, anchor="middle")


COLUMN = 300  # width of the endpoints' column


def endpoints(svg, x, y, entries, private_dns):
    """One small box per Datadog service, in the endpoints' security group; returns the column's height."""
    svg.box(x, y, COLUMN, 40 + 22 * len(entries), "group", "interface endpoints, security group: TCP 443")
    for i, entry in enumerate(entries):
        svg.box(x + 10, y + 28 + 22 * i, COLUMN - 20, 18, "endpoint")
        label = "%s: %s" % (entry["key"], entry["private_dns_name"]) if private_dns else entry["key"]
        svg.text(x + 16, y + 41 + 22 * i, label, size=10)
    return 40 + 22 * len(entries)


def datadog(svg, x, y, h, region):
    svg.box(x, y, 200, h, "datadog", "Datadog endpoint services", "in %s, one per service:" % region)
    svg.text(x + 8, y + 50, "com.amazonaws.vpce.%s." % region, size=10, color="#444")
    svg.text(x + 8, y + 64, "vpce-svc-<id>", size=10, color="#444")


def same_or_cross(catalog, scenario):
    entries = catalog.service_entries(SITE)
    home = catalog.site_facts(SITE)["region"]
    cross = scenario == "cross_region"
    agent_region = OTHER_REGION if cross else home
    height = 160 + 22 * len(entries)
    width = 1090 if cross else 980
    svg = Svg(width, height, "%s: Agents in %s, Datadog's services in %s" % (TITLES[scenario], agent_region, home))
    if cross:
        svg.box(10, 10, 720, height - 20, "region", "AWS region %s (the Agents')" % agent_region)
    else:
        svg.box(10, 10, width - 20, height - 20, "region", "AWS region %s (the site's and the Agents')" % home)
    svg.box(25, 45, 690, height - 70, "vpc", "Agents' VPC", "DNS support and DNS hostnames on")
    agents(svg, 40, 95)
    column = endpoints(svg, 230, 85, entries, private_dns=True)
    svg.box(555, 85, 145, 84, "zone", "private DNS")
    for i, line in enumerate(("managed by AWS: each", "host name resolves to", "its endpoint's addresses")):
        svg.text(563, 121 + 15 * i, line, size=10)
    svg.arrow(160, 120, 230, 120, "TCP 443")
    middle = 85 + column // 2
    if cross:
        svg.box(760, 10, 320, height - 20, "region", "AWS region %s (the site's)" % home)
        datadog(svg, 840, middle - 40, 80, home)
        svg.arrow(530, middle, 840, middle, "cross-region PrivateLink")
        svg.text(685, middle + 18, "ServiceRegion=%s" % home, size=10, anchor="middle")
        svg.text(685, middle + 32, "IAM: vpce:AllowMultiRegion", size=10, anchor="middle")
    else:
        datadog(svg, 750, middle - 40, 80, home)
        svg.arrow(530, middle, 750, middle, "PrivateLink")
    return svg


def peered(catalog):
    entries = catalog.service_entries(SITE)
    home = catalog.site_facts(SITE)["region"]
    column = 40 + 22 * len(entries)
    zones_y = 100 + column
    height = zones_y + 120
    svg = Svg(1100, height, "Peered region: endpoints in %s, Agent VPCs peered from any region or account" % home)
    svg.box(10, 10, 720, height - 20, "region", "AWS region %s (the site's), the endpoint account" % home)
    svg.box(25, 45, 480, height - 70, "vpc", "Endpoint VPC", "endpoints without private DNS")
    endpoints(svg, 40, 85, entries, private_dns=False)
    datadog(svg, 520, 135, 80, home)
    svg.arrow(340, 175, 520, 175, "PrivateLink")
    svg.box(40, zones_y, 455, 82, "zone", "Route53 private hosted zones, one per host name")
    names = [e["private_dns_name"] for e in entries]
    svg.text(48, zones_y + 36, ", ".join(names[:2]) + ", ...", size=10)
    svg.text(48, zones_y + 52, "an alias record to its endpoint; associated with every Agent VPC", size=10)
    svg.text(48, zones_y + 68, "(another account's VPC: authorized here, associated with its credentials)", size=10)
    half = (height - 40) // 2
    for i, (label, sub) in enumerate((("Agent VPC, %s" % OTHER_REGION, "same account"),
                                      ("Agent VPC, %s" % OTHER_REGION, "another account"))):
        y = 20 + i * half
        svg.box(790, y, 300, half - 20, "vpc", label, sub, dashed=i == 1)
        agents(svg, 810, y + 45)
        svg.arrow(505, y + 60 + (i * 20), 790, y + 60 + (i * 20), "VPC peering, routes both ways", both=True)
        svg.arrow(495, zones_y + 30 + 20 * i, 810, y + half - 50, dashed=True)
    svg.text(640, zones_y + 20, "zone associations", size=11, anchor="middle", color="#b7791f")
    return svg


def drawings(catalog):
    return {"same_region": same_or_cross(catalog, "same_region"),
            "cross_region": same_or_cross(catalog, "cross_region"),
            "peered_region": peered(catalog)}


def rst_page(svgs):
    lines = [".. _ansible_collections.datadog_privatelink.aws.docsite.topology:", "", "Scenario topologies", "=" * 19, "",
             "Generated by ``docs/generate_topology.py`` from the collection's catalog; drawn for the",
             "``%s`` site. Each guide in ``docs/`` shows the same picture." % SITE, ""]
    for scenario in SCENARIOS:
        lines += [TITLES[scenario], "-" * len(TITLES[scenario]), "", ".. raw:: html", ""]
        lines += ["   " + line if line else "" for line in svgs[scenario].splitlines()]
        lines.append("")
    return "\n".join(lines)


def outputs(catalog):
    svgs = {name: drawing.render() for name, drawing in drawings(catalog).items()}
    files = {os.path.join(IMAGES, name + ".svg"): text for name, text in svgs.items()}
    files[RST] = rst_page(svgs)
    return files


def main():
    return write_or_check(outputs(load_catalog()), "generate_topology.py")


if __name__ == "__main__":
    sys.exit(main())
