"""The declared floors agree everywhere they are written: galaxy.yml, meta/runtime.yml, requirements.txt, the EE."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def load(path):
    return yaml.safe_load((ROOT / path).read_text())


def test_ee_requirements_is_the_collection_requirements():
    # ansible-builder reads meta/requirements.txt for this file, requirements.txt when another EE includes us.
    assert (ROOT / "meta" / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text()


def test_floors_agree():
    galaxy, runtime, ee = load("galaxy.yml"), load("meta/runtime.yml"), load("meta/execution-environment.yml")
    core_floor = re.match(r"^>=([\d.]+)$", runtime["requires_ansible"]).group(1)
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core>=" + core_floor
    aws = {c["name"]: c.get("version") for c in ee["dependencies"]["galaxy"]["collections"]}
    assert aws["amazon.aws"] == galaxy["dependencies"]["amazon.aws"]
    assert "datadog_privatelink.aws" in aws
    assert ee["dependencies"]["python"] == "requirements.txt"


def test_role_metadata_floor_is_the_collection_floor():
    core_floor = re.match(r"^>=(\d+\.\d+)", load("meta/runtime.yml")["requires_ansible"]).group(1)
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        assert str(yaml.safe_load(meta.read_text())["galaxy_info"]["min_ansible_version"]) == core_floor, meta


def test_tarball_excludes_only_development_files():
    ignored = load("galaxy.yml")["build_ignore"]
    for shipped in ("requirements.txt", "meta", "docs", "roles", "playbooks", "plugins", "README.md", "changelogs", "CHANGELOG.md"):
        assert shipped not in ignored
