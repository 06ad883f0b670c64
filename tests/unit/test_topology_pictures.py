"""docs/images/*.svg and docs/docsite/rst/topology.rst: current with docs/generate_topology.py, and shown."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ("same_region", "cross_region", "peered_region")


def test_pictures_are_generated():
    process = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_topology.py"), "--check"],
                             capture_output=True, text=True, check=False)
    assert process.returncode == 0, process.stderr


def test_each_picture_is_svg_drawn_inside_its_canvas():
    for scenario in SCENARIOS:
        root = ET.parse(ROOT / "docs" / "images" / (scenario + ".svg")).getroot()
        width, height = float(root.get("width")), float(root.get("height"))
        for node in root.iter("{http://www.w3.org/2000/svg}rect"):
            x, y = float(node.get("x", 0)), float(node.get("y", 0))
            assert x + float(node.get("width")) <= width and y + float(node.get("height")) <= height, (scenario, node.attrib)


def test_each_scenario_page_and_the_docs_site_show_its_picture():
    for scenario in SCENARIOS:
        assert "](images/%s.svg)" % scenario in (ROOT / "docs" / (scenario + ".md")).read_text()
    assert "- topology" in (ROOT / "docs" / "docsite" / "extra-docs.yml").read_text()
