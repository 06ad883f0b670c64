"""intake_check on this host: real resolution and real TCP connections on loopback."""

import socket

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import run_module

LOOPBACK = ["127.0.0.0/8", "::1/128"]


@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server.getsockname()[1]
    server.close()


def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def test_a_name_inside_the_expected_cidrs_that_answers_passes(listener):
    result = run_module("intake_check", {"site": "us1", "names": ["localhost"], "expected_cidrs": LOOPBACK, "port": listener})
    assert not result["failed"], result.get("msg")
    (check,) = result["checks"]
    assert check["ok"] and check["private"] and check["reachable"] and "127.0.0.1" in check["addresses"]
    assert result["changed"] is False and result["failed_names"] == []


def test_an_address_outside_the_endpoint_vpc_points_at_the_zone(listener):
    result = run_module("intake_check", {"site": "us1", "names": ["localhost"], "expected_cidrs": ["10.40.0.0/16"],
                                         "port": listener})
    assert result["failed"] and result["failed_names"] == ["localhost"]
    assert "public address 127.0.0.1" in result["msg"] and "associate the zone with this VPC" in result["msg"]
    assert "private DNS" in result["msg"]  # dns_mode auto names both causes
    assert result["checks"][0]["verdict"] == "public"
    assert result["checks"][0]["reachable"] is False  # not even tried: it would not go through PrivateLink


def test_a_private_address_that_does_not_answer_points_at_routes_and_groups():
    result = run_module("intake_check", {"site": "us1", "names": ["localhost"], "expected_cidrs": LOOPBACK,
                                         "port": closed_port(), "timeout": 1})
    assert result["failed"] and "peering connection must be active" in result["msg"]
    assert "security group must admit TCP %d" % result["checks"][0]["port"] in result["msg"]
    assert "(refused)" in result["msg"]
    assert result["checks"][0]["private"] is True and result["checks"][0]["reachable"] is False
    assert result["checks"][0]["verdict"] == "unreachable"


def test_catalog_names_are_checked_and_unresolvable_ones_reported_without_failing_when_asked():
    result = run_module("intake_check", {"site": "datadoghq.com", "services": ["api", "metrics"], "timeout": 1,
                                         "fail_on_error": False, "names": [], "agent_version": "7.52.1",
                                         "config_path": ""})
    assert not result["failed"]
    entries = {e["key"]: e for e in catalog.service_entries("us1", ["api", "metrics"])}
    hosts = [entries["api"]["private_dns_name"], entries["metrics"]["private_dns_name"],
             catalog.agent_metrics_host("us1", "7.52.1")]
    names = [c["name"] for c in result["checks"]]
    assert names[:3] == hosts  # the Agent's names first
    # then every other customer-facing name of the services, a wildcard through an example name
    others = [n for key in ("api", "metrics") for n in entries[key]["check_names"] if n not in hosts]
    assert names[3:] == others and others
    assert all(any(catalog.name_covers(p, n) for key in entries for p in entries[key]["names"]) for n in names if n != hosts[2])
    zones = {c["name"]: c["zone"] for c in result["checks"]}
    assert zones[hosts[2]] == entries["metrics"]["zone_name"]  # the versioned host is a CNAME to metrics' name
    assert zones[hosts[0]] == entries["api"]["anchor"]  # api is a public CNAME to its anchor, whose zone answers
    # This machine has no DNS but a package mirror: the names resolve nowhere, or publicly; either is reported.
    assert set(result["failed_names"]) == set(names)
    assert all(c["problem"] for c in result["checks"])


def test_bad_input_is_refused():
    assert "does not offer PrivateLink" in run_module("intake_check", {"site": "us3"})["msg"]
    assert "expected_cidrs" in run_module("intake_check", {"site": "us1", "expected_cidrs": ["10.0.0.0/33"]})["msg"]


def test_a_proxy_in_datadog_yaml_is_reported_never_claimed_private(tmp_path, listener):
    config = tmp_path / "datadog.yaml"
    config.write_text("api_key: 0123456789abcdef0123456789abcdef\nproxy:\n  https: http://127.0.0.1:%d\n"
                      "  no_proxy: [process.datadoghq.com]\nlogs_enabled: true\n" % listener)
    result = run_module("intake_check", {"site": "us1", "services": ["api", "process"], "config_path": str(config),
                                         "agent_version": "7.52.1", "fail_on_error": False, "timeout": 1})
    by_name = {c["name"]: c for c in result["checks"]}
    assert by_name["api.datadoghq.com"]["verdict"] == "proxy" and not by_name["api.datadoghq.com"]["ok"]
    assert "proxy 127.0.0.1:%d" % listener in by_name["api.datadoghq.com"]["problem"]
    assert "the proxy answers" in by_name["api.datadoghq.com"]["problem"]
    assert by_name["process.datadoghq.com"]["verdict"] != "proxy"  # listed in no_proxy: this host's path decides
    # logs enabled without force_use_http: the TCP destination PrivateLink does not carry is reported
    tcp = by_name["agent-intake.logs.datadoghq.com"]
    assert tcp["verdict"] == "logs_tcp" and tcp["port"] == 10516 and "force_use_http" in tcp["problem"]
    assert "0123456789abcdef" not in str(result)


def test_an_unreadable_datadog_yaml_is_reported_without_its_text(tmp_path):
    config = tmp_path / "datadog.yaml"
    config.write_text('api_key: "0123456789abcdef0123456789abcdef\nsite: datadoghq.com\n')
    result = run_module("intake_check", {"site": "us1", "config_path": str(config)})
    assert result["failed"] and "not valid YAML" in result["msg"]
    assert "0123456789abcdef" not in str(result)
