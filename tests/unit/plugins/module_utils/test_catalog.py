"""The catalog: its invariants, lookups and refusals (its facts are not restated here)."""

import re

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


def test_every_site_has_every_service_with_a_well_formed_name_in_its_region():
    for key, site in catalog.SITES.items():
        entries = catalog.service_entries(key)
        assert [e["key"] for e in entries] == list(catalog.SERVICE_KEYS)
        for entry in entries:
            match = catalog.SERVICE_NAME_PATTERN.match(entry["service_name"])
            assert match, entry
            assert match.group("region") == site["region"]
            assert entry["private_dns_name"].endswith("." + site["dd_site"])
            for old in entry["superseded_service_names"]:
                assert catalog.SERVICE_NAME_PATTERN.match(old)
                assert old != entry["service_name"]


def test_ten_services_with_distinct_keys_and_dns_prefixes():
    assert len(catalog.SERVICE_KEYS) == 10
    assert len(set(catalog.SERVICE_KEYS)) == 10
    assert len({prefix for _k, _t, prefix in catalog.SERVICES}) == 10


@pytest.mark.parametrize("given", ["us1", "US1", "us", "US", "datadoghq.com", "DATADOGHQ.COM", "datadoghq.com.",
                                   "app.datadoghq.com", "https://app.datadoghq.com/"])
def test_site_accepts_key_or_dd_site(given):
    assert catalog.site_facts(given) == {"key": "us1", "dd_site": "datadoghq.com", "region": "us-east-1"}


@pytest.mark.parametrize("site", ["us3", "us5.datadoghq.com", "datadoghq.eu", "eu", "EU1", "ddog-gov.com", "US1-FED",
                                  "us2.ddog-gov.com"])
def test_unsupported_sites_are_refused_naming_the_supported_ones(site):
    with pytest.raises(catalog.CatalogError) as error:
        catalog.site_facts(site)
    message = str(error.value)
    assert "does not offer PrivateLink" in message
    for key, facts in catalog.SITES.items():
        assert key in message and facts["dd_site"] in message


def test_unknown_site_is_refused():
    with pytest.raises(catalog.CatalogError, match="Unknown Datadog site 'datadoghq.org'"):
        catalog.site_facts("datadoghq.org")


def test_unknown_service_key_lists_the_valid_ones():
    with pytest.raises(catalog.CatalogError) as error:
        catalog.service_entries("us1", ["api", "log", "apm"])
    message = str(error.value)
    assert "apm, log" in message
    for key in catalog.SERVICE_KEYS:
        assert key in message


def test_selection_keeps_catalog_order_and_ignores_duplicates():
    entries = catalog.service_entries("ap1", ["traces", "api", "traces"])
    assert [e["key"] for e in entries] == ["api", "traces"]


def test_override_replaces_one_name_and_is_validated():
    name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
    entries = {e["key"]: e for e in catalog.service_entries("us1", service_names={"api": name})}
    assert entries["api"]["service_name"] == name
    assert entries["metrics"]["service_name"] != name
    with pytest.raises(catalog.CatalogError, match="service_names.api"):
        catalog.service_entries("us1", service_names={"api": "vpce-svc-123"})
    with pytest.raises(catalog.CatalogError, match="Unknown Datadog service key"):
        catalog.service_entries("us1", service_names={"apm": name})


def test_shared_service_gets_one_group():
    groups = catalog.group_by_service_name(catalog.service_entries("ap2"))
    shared = [keys for keys in groups.values() if len(keys) > 1]
    assert shared == [["logs_agent", "logs_user"]]
    assert len(groups) == 9
    assert len(catalog.group_by_service_name(catalog.service_entries("ap1"))) == 10


def test_intake_hosts_are_the_private_dns_names():
    hosts = catalog.intake_hosts("uk1", ["metrics", "logs_agent"])
    assert hosts == {
        "logs_agent": "agent-http-intake.logs.uk1.datadoghq.com",
        "metrics": "metrics.agent.uk1.datadoghq.com",
    }


def test_agent_metrics_host_is_a_public_cname_to_the_metrics_private_name():
    assert catalog.agent_metrics_host("us1", "7.52.1") == "7-52-1-app.agent.datadoghq.com"
    assert catalog.agent_metrics_host("ap1.datadoghq.com", "7.60.0-rc.1") == "7-60-0-app.agent.ap1.datadoghq.com"
    for key in catalog.SITES:
        host = catalog.agent_metrics_host(key, "6.19.2")
        (cname,) = catalog.public_dns(key)
        assert re.match(cname["pattern"], host)
        assert cname["target"] == catalog.intake_hosts(key, ["metrics"])["metrics"]
        assert not re.match(cname["pattern"], cname["target"])
    with pytest.raises(catalog.CatalogError, match="MAJOR.MINOR.PATCH"):
        catalog.agent_metrics_host("us1", "latest")


def test_docs_catalog_is_generated_from_the_catalog():
    """docs/catalog.md must be what docs/generate_catalog.py writes today."""
    from pathlib import Path
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[4]
    generated = subprocess.run(
        [sys.executable, str(root / "docs" / "generate_catalog.py"), "--stdout"], check=True, capture_output=True, text=True
    ).stdout
    assert (root / "docs" / "catalog.md").read_text() == generated, "run: python docs/generate_catalog.py"
    assert re.search(r"vpce-svc-[0-9a-f]{17}", generated)


@pytest.mark.parametrize("given, key", [("ap1", "ap1"), ("AP2", "ap2"), ("uk1", "uk1"), ("ap1.datadoghq.com", "ap1")])
def test_every_supported_site_by_its_datadog_name(given, key):
    assert catalog.site_key(given) == key


def test_every_alias_names_a_known_site():
    for alias, key in catalog.SITE_ALIASES.items():
        assert key in catalog.SITES or key in catalog.UNSUPPORTED_SITES, alias
