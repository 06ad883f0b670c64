"""service_info against the sandbox: the catalog and what AWS answers, in one call."""

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

from conftest import run_module


def test_every_service_of_every_site_is_found_in_one_call(sandbox):
    for site, facts in catalog.SITES.items():
        sandbox.reset_calls()
        result = run_module("service_info", {"site": site, "region": facts["region"]})
        assert not result["failed"], result.get("msg")
        assert sandbox.calls()["calls"] == {"ec2:DescribeVpcEndpointServices": 1}
        assert result["missing_service_names"] == []
        assert list(result["services"]) == list(catalog.SERVICE_KEYS)
        for key, service in result["services"].items():
            assert service["found"] is True
            # AWS shows the service's anchor (or its one direct name), shared by the keys of the service.
            entry = catalog.service_entries(site, [key])[0]
            assert service["private_dns_name"] == entry["zone_name"]
            assert all(result["services"][k]["private_dns_name"] == entry["zone_name"] for k in service["shares_endpoint_with"])
            assert service["availability_zones"] and all(z.startswith(facts["region"]) for z in service["availability_zones"])
            assert service["details"]["service_type"] == ["Interface"]


def test_all_finds_every_service_of_the_site_in_one_call(sandbox):
    for site, facts in catalog.SITES.items():
        sandbox.reset_calls()
        result = run_module("service_info", {"site": site, "region": facts["region"], "services": [catalog.ALL]})
        assert not result["failed"], result.get("msg")
        assert sandbox.calls()["calls"] == {"ec2:DescribeVpcEndpointServices": 1}
        assert list(result["services"]) == [k for k in catalog.ALL_SERVICE_KEYS if k in facts["service_ids"]]
        assert all(s["found"] for s in result["services"].values()) and result["missing_service_names"] == []


def test_a_key_the_site_does_not_offer_is_refused(sandbox):
    missing = next(k for k in catalog.ALL_SERVICE_KEYS if k not in catalog.SITES["ap1"]["service_ids"])
    result = run_module("service_info", {"site": "ap1", "region": "ap-northeast-1", "services": [missing]})
    assert result["failed"] and missing in result["msg"] and "Keys offered there" in result["msg"]


def test_cross_region_lookup_goes_through_service_regions(sandbox):
    result = run_module("service_info", {"site": "ap1", "region": "eu-west-1", "services": ["api", "traces"]})
    assert result["service_region"] == "ap-northeast-1"
    assert all(s["found"] and s["service_region"] == "ap-northeast-1" for s in result["services"].values())


def test_unknown_name_is_reported_not_fatal(sandbox):
    bogus = "com.amazonaws.vpce.us-east-1.vpce-svc-0fffffffffffffff0"
    result = run_module("service_info", {"site": "us1", "region": "us-east-1", "services": ["api", "metrics"],
                                         "service_names": {"metrics": bogus}})
    assert not result["failed"]
    assert result["services"]["metrics"]["found"] is False and result["services"]["api"]["found"] is True
    assert result["missing_service_names"] == [bogus]


def test_shared_services_are_flagged(sandbox):
    result = run_module("service_info", {"site": "ap2", "region": "ap-southeast-2", "services": ["logs_agent", "logs_user"]})
    assert result["services"]["logs_user"]["shares_endpoint_with"] == ["logs_agent"]


def test_verify_false_is_the_catalog_alone_without_aws(sandbox):
    sandbox.reset_calls()
    result = run_module("service_info", {"site": "uk1.datadoghq.com", "verify": False})
    assert not result["failed"], result.get("msg")
    assert sandbox.calls()["total"] == 0
    assert result["services"]["metrics"]["private_dns_name"] == "metrics.agent.uk1.datadoghq.com"
    assert result["services"]["metrics"]["found"] is None


def test_unsupported_site_is_refused(sandbox):
    result = run_module("service_info", {"site": "us5", "region": "us-east-1"})
    assert result["failed"] and "does not offer PrivateLink" in result["msg"]
