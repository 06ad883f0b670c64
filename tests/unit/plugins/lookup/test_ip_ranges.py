"""ip_ranges lookup against a local HTTPS mirror (127.0.0.1, test CA): families, validation, cache."""

import json
import os

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from tests.https_mirror import ip_ranges_document as document


def plugin():
    """The lookup as Ansible loads it (its options come from its DOCUMENTATION)."""
    return lookup_loader.get("datadog_privatelink.aws.ip_ranges")


V4 = catalog.IP_RANGES_PREFIX_KEYS[4]
V6 = catalog.IP_RANGES_PREFIX_KEYS[6]


@pytest.fixture
def lookup(server, tmp_path):
    server.body = json.dumps(document()).encode()

    def run(*terms, **options):
        options.setdefault("url", server.url)
        options.setdefault("ca_path", server.ca_path)
        options.setdefault("cache_dir", str(tmp_path / "cache"))
        return plugin().run(list(terms), variables={}, **options)
    return run


def test_both_families_of_a_section_from_the_mirror(lookup, server):
    logs = document()["logs"]
    assert lookup("logs") == logs[V4] + logs[V6]
    assert lookup("logs", ip_version="4") == logs[V4]
    assert lookup("logs", ip_version="6", refresh=True) == logs[V6]
    assert server.requests == 2


def test_sections_are_merged_without_repeats(lookup):
    doc = document()
    cidrs = lookup("logs", "apm", ip_version="4")
    assert cidrs == [doc["logs"][V4][0], doc["logs"][V4][1], doc["apm"][V4][0]]


def test_no_term_means_every_section(lookup):
    assert len(lookup(ip_version="6")) == len(catalog.IP_RANGES_SECTIONS)


@pytest.mark.parametrize("broken, field", [
    ({"logs": {V6: []}}, "logs." + V4),
    ({"logs": {V4: ["192.0.2.0/24"], V6: "2001:db8::/32"}}, "logs." + V6),
    ({"logs": {V4: ["2001:db8::/32"], V6: []}}, "logs." + V4),
    ({"logs": {V4: ["not-a-cidr"], V6: []}}, "logs." + V4),
    ({"version": "seven"}, "'version'"),
    ({"modified": None}, "'modified'"),
])
def test_a_malformed_document_is_refused_naming_the_field(lookup, server, broken, field):
    server.body = json.dumps(document(**broken)).encode()
    with pytest.raises(AnsibleLookupError) as error:
        lookup("logs")
    assert field in str(error.value)
    assert server.url in str(error.value)


def test_a_missing_section_is_named(lookup, server):
    doc = document()
    del doc["logs"]
    server.body = json.dumps(doc).encode()
    with pytest.raises(AnsibleLookupError, match="section 'logs' is missing"):
        lookup("logs")


def test_a_section_that_is_not_an_object_is_named_even_when_not_asked_for(lookup, server):
    server.body = json.dumps(document(webhooks=["192.0.2.0/24"])).encode()
    with pytest.raises(AnsibleLookupError, match="section 'webhooks' is not an object"):
        lookup()


def test_an_http_error_names_the_url_and_what_to_do(lookup, server):
    server.status = 503
    with pytest.raises(AnsibleLookupError) as error:
        lookup("logs")
    assert "503" in str(error.value) and server.url in str(error.value) and "'url'" in str(error.value)


def test_not_json_is_refused(lookup, server):
    server.body = b"<html>proxy login</html>"
    with pytest.raises(AnsibleLookupError, match="not JSON"):
        lookup("logs")


def test_the_server_certificate_is_verified(lookup, server):
    with pytest.raises(AnsibleLookupError, match="(?i)Could not read Datadog's IP ranges.*certificate verify failed"):
        lookup("logs", ca_path=None)
    assert lookup("logs", ca_path=None, validate_certs=False, ip_version="4") == document()["logs"][V4]


def test_the_cache_answers_until_max_age_then_the_newer_version_replaces_it(lookup, server, tmp_path):
    first = lookup("api")
    assert lookup("api") == first and server.requests == 1
    newer = document(version=8, api={V4: ["203.0.113.0/24"], V6: []})
    server.body = json.dumps(newer).encode()
    assert lookup("api") == first and server.requests == 1  # young cache
    assert lookup("api", max_age=0) == ["203.0.113.0/24"] and server.requests == 2
    cached = [json.load(open(str(p))) for p in (tmp_path / "cache").iterdir()]
    assert [c["document"]["version"] for c in cached] == [8]
    assert oct(os.stat(str(tmp_path / "cache")).st_mode & 0o777) == "0o700"


def test_an_unreachable_server_falls_back_to_the_cache(lookup, server, tmp_path):
    first = lookup("process")
    url = server.url
    server.stop()
    assert lookup("process", url=url, max_age=0) == first
    with pytest.raises(AnsibleLookupError, match="Could not read"):
        lookup("process", url=url, max_age=0, cache_dir=str(tmp_path / "empty"))


def test_the_default_url_is_the_sites_ip_ranges_host(monkeypatch, tmp_path):
    seen = []

    def fake_fetch(self, url):
        seen.append(url)
        return document()
    instance = plugin()
    monkeypatch.setattr(type(instance), "fetch", fake_fetch)  # never the real host
    instance.run(["logs"], variables={}, site="eu", cache_dir=str(tmp_path))
    assert seen == [catalog.ip_ranges_url("datadoghq.eu")]
    assert seen[0].startswith("https://") and seen[0].endswith(catalog.any_dd_site("eu"))
