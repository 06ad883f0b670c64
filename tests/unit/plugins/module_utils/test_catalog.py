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
        cname = catalog.public_dns(key)[0]  # the versioned host comes first
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


def _distinct_ids(site):
    return {service_id for _colour, service_id, _pairs in catalog.SITES[site]["endpoint_services"]}


@pytest.mark.parametrize("site", sorted(catalog.SITES))
def test_all_takes_one_endpoint_per_distinct_service_id(site):
    entries = catalog.service_entries(site, [catalog.ALL])
    groups = catalog.group_by_service_name(entries)
    assert len(groups) == len(_distinct_ids(site))
    assert sorted(name.rsplit("-", 1)[-1] for name in groups) == sorted(_distinct_ids(site))
    # every customer-facing name of the site is in the selection, once
    listed = [name for _c, _i, pairs in catalog.SITES[site]["endpoint_services"] for _k, name in pairs]
    assert sorted(catalog.customer_names(site, [catalog.ALL])) == sorted(listed)
    assert len(set(listed)) == len(listed)


@pytest.mark.parametrize("site", sorted(catalog.SITES))
def test_the_default_is_still_the_agents_ten(site):
    assert [e["key"] for e in catalog.service_entries(site)] == list(catalog.SERVICE_KEYS)
    assert [e["key"] for e in catalog.service_entries(site, [])] == list(catalog.SERVICE_KEYS)


def test_more_keys_are_distinct_and_named_after_products():
    assert len(set(catalog.ALL_SERVICE_KEYS)) == len(catalog.ALL_SERVICE_KEYS)
    assert catalog.ALL not in catalog.ALL_SERVICE_KEYS
    for key in catalog.ALL_SERVICE_KEYS:
        assert re.match(r"^[a-z][a-z0-9_]*$", key)
        assert any(key in site["service_ids"] for site in catalog.SITES.values()), key


def test_a_key_the_site_does_not_offer_is_refused_with_the_ones_it_does():
    missing = next(k for k in catalog.ALL_SERVICE_KEYS if k not in catalog.SITES["ap1"]["service_ids"])
    with pytest.raises(catalog.CatalogError) as error:
        catalog.service_entries("ap1", ["api", missing])
    message = str(error.value)
    assert missing in message and "ap1" in message
    for key in catalog.SITES["ap1"]["service_ids"]:
        assert key in message


@pytest.mark.parametrize("site", sorted(catalog.SITES))
def test_anchored_services_are_zoned_by_anchor_direct_ones_by_their_name(site):
    dd_site = catalog.SITES[site]["dd_site"]
    for entry in catalog.service_entries(site, [catalog.ALL]):
        if entry["anchor"]:
            assert re.match(r"^[a-z]+\.intake\.%s$" % re.escape(dd_site), entry["anchor"])
            assert entry["zone_name"] == entry["anchor"]
        else:
            assert entry["names"] == [entry["zone_name"]] == [entry["private_dns_name"]]
        # the host its clients use is covered by one of its names
        assert any(catalog.name_covers(n, entry["private_dns_name"]) for n in entry["names"])
        for name in entry["check_names"]:
            assert not name.startswith("*")
            assert any(catalog.name_covers(n, name) for n in entry["names"]), name


@pytest.mark.parametrize("site", sorted(catalog.SITES))
def test_each_anchor_is_one_service_and_every_name_keeps_one_service(site):
    anchors = {}
    for entry in catalog.service_entries(site, [catalog.ALL]):
        if entry["anchor"]:
            assert anchors.setdefault(entry["anchor"], entry["service_name"]) == entry["service_name"]


def _public_answer(site, name):
    """The first public CNAME that matches, as a resolver walking the list would take it."""
    return next((c["target"] for c in catalog.public_dns(site) if re.match(c["pattern"], name)), None)


@pytest.mark.parametrize("site", sorted(catalog.SITES))
def test_every_anchored_name_is_a_public_cname_to_its_anchor(site):
    anchors = set()
    for entry in catalog.service_entries(site, [catalog.ALL]):
        if not entry["anchor"]:
            assert _public_answer(site, entry["private_dns_name"]) is None  # a direct name answers for itself
            continue
        anchors.add(entry["anchor"])
        for name in entry["check_names"]:
            target = _public_answer(site, name)
            # the versioned metrics host goes through metrics' host, itself a CNAME to the anchor
            while target is not None and target != entry["anchor"]:
                target = _public_answer(site, target)
            assert target == entry["anchor"], (name, entry["key"])
    for anchor in anchors:
        assert _public_answer(site, anchor) is None  # an anchor is never a CNAME: no loop


def test_a_listed_name_wins_over_a_wildcard():
    trace = catalog.intake_hosts("ap2", ["traces"])["traces"]
    traces = catalog.service_entries("ap2", ["traces"])[0]
    metrics = catalog.service_entries("ap2", ["metrics"])[0]
    assert any(catalog.name_covers(n, trace) for n in metrics["names"])  # the wildcard covers it too
    assert _public_answer("ap2", trace) == traces["anchor"] != metrics["anchor"]


def test_wildcards_are_checked_through_an_example_name():
    metrics = catalog.service_entries("uk1", ["metrics"])[0]
    assert catalog.agent_metrics_host("uk1", catalog.EXAMPLE_AGENT_VERSION) in metrics["check_names"]
    for site in catalog.SITES:
        for entry in catalog.service_entries(site, [catalog.ALL]):
            wildcards = [n for n in entry["names"] if n.startswith("*.")]
            assert len(entry["check_names"]) >= len(entry["names"])
            for wildcard in wildcards:
                assert any(catalog.name_covers(wildcard, n) for n in entry["check_names"])


def test_synthetics_private_locations_ride_the_api_anchor_where_there_is_one():
    for site in catalog.SITES:
        synthetics = [d for d in catalog.network_destinations(site) if d["key"].startswith("synthetics")]
        anchored = bool(catalog.service_entries(site, ["api"])[0]["anchor"])
        assert synthetics and all(d["private"] == anchored for d in synthetics), (site, synthetics)
        assert all(d["service_key"] == "api" for d in synthetics if d["private"])


def test_aws_service_entries_are_in_the_given_region_and_unknown_keys_are_refused():
    (entry,) = catalog.aws_service_entries("eu-west-1", ["secretsmanager", "secretsmanager"])
    assert entry["key"] == "secretsmanager" and entry["aws_service"] is True
    for name in (entry["service_name"], entry["private_dns_name"]):  # the region's own service, by its key
        assert ".eu-west-1." in name and "secretsmanager" in name.split(".")
    assert not catalog.SERVICE_NAME_PATTERN.match(entry["service_name"])  # never taken for a Datadog name
    with pytest.raises(catalog.CatalogError, match="Unknown AWS service key.*kms.*secretsmanager"):
        catalog.aws_service_entries("eu-west-1", ["kms"])
    assert catalog.aws_service_entries("eu-west-1", []) == []
