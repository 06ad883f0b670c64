"""The Network traffic guide in the catalog: destinations, their verdicts, the summary and its generated doc."""

import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

ROOT = Path(__file__).resolve().parents[4]


def by_host_port(site, version=None):
    return {(i["host"], i["port"], i["protocol"]): i for i in catalog.network_destinations(site, version)}


def test_us1_current_agent_logs_https_private_logs_tcp_public_and_ntp():
    items = by_host_port("us1")
    https = items[("agent-http-intake.logs.datadoghq.com", 443, "tcp")]
    assert https["private"] and https["service_key"] == "logs_agent"
    tcp = items[("agent-intake.logs.datadoghq.com", 10516, "tcp")]
    assert not tcp["private"] and tcp["service_key"] == "" and tcp["internet"]
    assert tcp["reason"] == catalog.PUBLIC_REASONS["logs_tcp"]
    ntp = [i for i in items.values() if i["port"] == 123 and i["protocol"] == "udp"]
    assert {i["host"] for i in ntp} == {"*.datadog.pool.ntp.org", "169.254.169.123"}
    assert [i["internet"] for i in ntp if i["host"] == "169.254.169.123"] == [False]
    assert {i["port"] for i in items.values() if i["scope"] == "local_network"} == {10250, 10255}


def test_an_agent_older_than_7_18_sends_api_calls_to_app_which_is_not_private():
    items = by_host_port("us1", "7.17.0")
    app = items[("app.datadoghq.com", 443, "tcp")]
    assert not app["private"] and app["internet"] and app["reason"] == catalog.PUBLIC_REASONS["agent_too_old"]
    assert ("api.datadoghq.com", 443, "tcp") not in items
    assert by_host_port("us1", "6.18.0")[("api.datadoghq.com", 443, "tcp")]["private"]
    assert ("app.datadoghq.com", 443, "tcp") not in by_host_port("us1", "7.18.0")


def test_the_versioned_metrics_host_is_private_through_its_public_cname():
    items = by_host_port("ap1", "7.52.1")
    metrics = items[(catalog.agent_metrics_host("ap1", "7.52.1"), 443, "tcp")]
    assert metrics["private"] and metrics["service_key"] == catalog.VERSIONED_METRICS_CNAME_KEY
    assert metrics["allow"] == "*.agent.ap1.datadoghq.com"
    current = [i for i in catalog.network_destinations("ap1") if i["key"] == "metrics"][0]
    assert current["host"].startswith("*-") and current["private"]


def test_agent_5_1_uses_app_for_data_too():
    keys = [i["key"] for i in catalog.network_destinations("uk1", "5.1.0")]
    assert "metrics_legacy" in keys and "metrics" not in keys and "api_legacy" in keys


@pytest.mark.parametrize("site", list(catalog.SITES))
def test_every_private_destination_is_a_catalog_service_of_its_site(site):
    entries = {e["key"]: e for e in catalog.service_entries(site)}
    for item in catalog.network_destinations(site, "7.52.1"):
        assert item["private"] == bool(item["service_key"])
        assert item["private"] != bool(item["reason"]), item
        if item["private"] and item["key"] != "metrics":
            entry = entries[item["service_key"]]
            # its own host, or a name that is a public CNAME to the service's anchor
            assert item["host"] == entry["private_dns_name"] or catalog.public_target(site, item["host"]) == entry["anchor"]
        if item["scope"] == "datadog":
            assert item["section"] in catalog.IP_RANGES_SECTIONS
            assert item["host"].endswith("." + catalog.SITES[site]["dd_site"])


def test_a_bad_version_or_site_is_refused():
    with pytest.raises(catalog.CatalogError, match="MAJOR.MINOR.PATCH"):
        catalog.network_destinations("us1", "seven")
    with pytest.raises(catalog.CatalogError, match="does not offer PrivateLink"):
        catalog.network_destinations("eu")


def test_the_lookup_gives_items_or_the_summary():
    lookup = lookup_loader.get("datadog_privatelink.aws.destinations")
    assert lookup.run([], variables={}, site="datadoghq.com") == catalog.network_destinations("us1")
    lines = lookup.run(["summary"], variables={}, site="us1", agent_version="7.17.0")
    assert lines == catalog.network_summary("us1", "7.17.0")
    assert any(line.strip().startswith("app.datadoghq.com:443/tcp") and "internet" in line for line in lines)
    with pytest.raises(AnsibleLookupError, match="'report'"):
        lookup.run(["report"], variables={}, site="us1")
    with pytest.raises(AnsibleLookupError, match="does not offer PrivateLink"):
        lookup.run([], variables={}, site="us5")


def test_docs_network_traffic_is_generated_from_the_catalog():
    generated = subprocess.run([sys.executable, str(ROOT / "docs" / "generate_network_traffic.py"), "--stdout"],
                               check=True, capture_output=True, text=True).stdout
    assert (ROOT / "docs" / "network_traffic.md").read_text() == generated, "run: python docs/generate_network_traffic.py"
    for key in catalog.SITES:
        assert "## %s (" % key in generated
    assert "| `agent-intake.logs.datadoghq.com` | 10516/tcp |" in generated
