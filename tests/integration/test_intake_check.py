"""intake_check on this host: real resolution and real TCP connections on loopback."""

import socket

import pytest

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
    assert "outside 10.40.0.0/16" in result["msg"] and "associate the private hosted zone" in result["msg"]
    assert result["checks"][0]["reachable"] is False  # not even tried: it would not go through PrivateLink


def test_a_private_address_that_does_not_answer_points_at_routes_and_groups():
    result = run_module("intake_check", {"site": "us1", "names": ["localhost"], "expected_cidrs": LOOPBACK,
                                         "port": closed_port(), "timeout": 1})
    assert result["failed"] and "peering routes" in result["msg"] and "security group" in result["msg"]
    assert result["checks"][0]["private"] is True and result["checks"][0]["reachable"] is False


def test_catalog_names_are_checked_and_unresolvable_ones_reported_without_failing_when_asked():
    result = run_module("intake_check", {"site": "datadoghq.com", "services": ["api", "metrics"], "timeout": 1,
                                         "fail_on_error": False, "names": []})
    assert not result["failed"]
    assert [c["name"] for c in result["checks"]] == ["api.datadoghq.com", "metrics.agent.datadoghq.com"]
    # This machine has no DNS but a package mirror: the names resolve nowhere, or publicly; either is reported.
    assert set(result["failed_names"]) == {"api.datadoghq.com", "metrics.agent.datadoghq.com"}
    assert all(c["problem"] for c in result["checks"])


def test_bad_input_is_refused():
    assert "does not offer PrivateLink" in run_module("intake_check", {"site": "us3"})["msg"]
    assert "expected_cidrs" in run_module("intake_check", {"site": "us1", "expected_cidrs": ["10.0.0.0/33"]})["msg"]
