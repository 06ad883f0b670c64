"""Datadog's endpoint services, as DescribeVpcEndpointServices would show them.

Facts come from the collection's catalog (plugins/module_utils/catalog.py), loaded by
path so the sandbox never repeats them and needs no installed collection.
"""

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CATALOG_PATH = os.path.join(ROOT, "plugins", "module_utils", "catalog.py")

# An obviously fake owner account (AWS documentation's example account id).
DATADOG_OWNER = "111122223333"


def _load_catalog():
    spec = importlib.util.spec_from_file_location("_sandbox_datadog_catalog", CATALOG_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalog = _load_catalog()


def published_services():
    """region -> {service name: private DNS name}, for every service of every site.

    As AWS shows Datadog's services: the private DNS name is the anchor where there is one,
    else the service's one name. A superseded service (published before anchors) keeps the
    host name of its key.
    """
    by_region = {}
    for site in catalog.SITES:
        for entry in catalog.service_entries(site, [catalog.ALL]):
            names = by_region.setdefault(entry["region"], {})
            names.setdefault(entry["service_name"], entry["zone_name"])
            for name in entry["superseded_service_names"]:
                names.setdefault(name, entry["private_dns_name"])
    return by_region


PUBLISHED = published_services()


def service_details(region, zones):
    """ServiceDetail dicts (moto's default-service format) for the Datadog services of a region.

    zones: moto Zone objects of the region.
    """
    details = []
    for name, private_dns in sorted(PUBLISHED.get(region, {}).items()):
        service_id = name.rsplit(".", 1)[-1]
        details.append(
            {
                "ServiceName": name,
                "ServiceId": service_id,
                "ServiceType": [{"ServiceType": "Interface"}],
                "ServiceRegion": region,
                "AvailabilityZones": [zone.name for zone in zones],
                "AvailabilityZoneIds": [zone.zone_id for zone in zones],
                "Owner": DATADOG_OWNER,
                "BaseEndpointDnsNames": ["%s.%s.vpce.amazonaws.com" % (service_id, region)],
                "PrivateDnsName": private_dns,
                "PrivateDnsNames": [{"PrivateDnsName": private_dns}],
                "VpcEndpointPolicySupported": False,
                "AcceptanceRequired": False,
                "ManagesVpcEndpoints": False,
                "Tags": [],
                "PrivateDnsNameVerificationState": "verified",
                "SupportedIpAddressTypes": ["ipv4"],
                # Sandbox-only marker (not serialised: not in botocore's shape): Datadog
                # enables cross-region access on its services.
                "_cross_region": True,
            }
        )
    return details
