"""Where the twin keeps its files, and the names of what it creates."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = Path(os.environ.get("DDPL_TWIN_DIR") or ROOT / ".cache" / "twin")
SANDBOX_ENV = ROOT / ".cache" / "sandbox.env"

PREFIX = "ddpl-"
FABRIC = PREFIX + "fabric"
INTERNET = PREFIX + "internet"
# Datadog's public intake stands in the documentation range (RFC 5737), never a real address.
PUBLIC_NET = "198.51.100.0/24"
PUBLIC_ADDRESS = "198.51.100.10"
# Links between the fabric and each namespace: shared address space (RFC 6598), inside the namespaces only.
TRANSIT_NET = "100.64.0.0/16"
# Host number of the Agent host in the VPC's first subnet.
AGENT_HOST_NUMBER = 10
# Several twins may run on one machine (other checkouts, CI): the second one's router and
# internet get a suffix ("ddpl-fabric-2"); VPC namespaces are unique by their VPC ids.
MAX_TWINS = 9


def shared_names(number):
    suffix = "" if number == 1 else "-%d" % number
    return FABRIC + suffix, INTERNET + suffix


def namespace(vpc_id):
    return PREFIX + vpc_id


def config_path(state_dir=None):
    return Path(state_dir or STATE_DIR) / "twin.json"


def synced_path(state_dir=None):
    return Path(state_dir or STATE_DIR) / "synced.json"


def model_path(state_dir=None):
    return Path(state_dir or STATE_DIR) / "model.json"


def requests_path(state_dir=None):
    return Path(state_dir or STATE_DIR) / "requests.jsonl"


def ca_path(state_dir=None):
    return Path(state_dir or STATE_DIR) / "ca.pem"
