# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The "Verify" step of the guide: DescribeVpcEndpointServices for a set of names in one call.

Private to this collection; used by service_info and vpc_endpoints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

_NAME_IN_MESSAGE = re.compile(r"com\.amazonaws\.vpce\.[a-z0-9-]+\.vpce-svc-[0-9a-f]+")


@AWSRetry.jittered_backoff()
def all_service_details(client, **kwargs):
    """Every ServiceDetail DescribeVpcEndpointServices answers for kwargs (paged by NextToken).

    Not AwsCalls.token_pages: describe_services must see InvalidServiceName itself, not a failed module.
    """
    details = []
    while True:
        page = client.describe_vpc_endpoint_services(**kwargs)
        details.extend(page.get("ServiceDetails", []))
        if not page.get("NextToken"):
            return details
        kwargs["NextToken"] = page["NextToken"]


def resolve_service_region(site_region, module_region, service_region):
    """The region Datadog's services are looked up in, or raise CatalogError.

    None means "same region as the endpoints". When the module runs in another region than
    the site, cross-region PrivateLink is implied and the site's region is used.
    """
    if service_region and service_region != site_region:
        raise catalog.CatalogError(
            "service_region=%s, but this Datadog site is served from %s: set service_region to %s "
            "or leave it unset." % (service_region, site_region, site_region)
        )
    if module_region == site_region:
        return None
    return site_region


def describe_services(client, names, service_region=None):
    """Return ({name: ServiceDetail}, [names not found]) for names, in one call when all exist.

    service_region: a region, or a list of them (names of several regions in one call).
    AWS answers InvalidServiceName for the whole call when one name is unknown; the unknown
    names are read from the message and the call is made once more without them.
    """
    names = sorted(set(names))
    missing = []
    while names:
        kwargs = {"ServiceNames": names}
        if service_region:
            kwargs["ServiceRegions"] = _regions(service_region)
        try:
            details = all_service_details(client, **kwargs)
        except is_boto3_error_code("InvalidServiceName") as error:
            message = error.response.get("Error", {}).get("Message", "")
            unknown = [name for name in _NAME_IN_MESSAGE.findall(message) if name in names]
            if not unknown:
                # The message did not name them: ask one by one, a rare path.
                unknown = [name for name in names if not _exists(client, name, service_region)]
            if not unknown:
                raise
            missing.extend(unknown)
            names = [name for name in names if name not in unknown]
            continue
        found = dict((d["ServiceName"], d) for d in details if d.get("ServiceName") in names)
        missing.extend(name for name in names if name not in found)
        return found, sorted(set(missing))
    return {}, sorted(set(missing))


def _regions(service_region):
    return list(service_region) if isinstance(service_region, (list, tuple)) else [service_region]


def _exists(client, name, service_region):
    kwargs = {"ServiceNames": [name]}
    if service_region:
        kwargs["ServiceRegions"] = _regions(service_region)
    try:
        client.describe_vpc_endpoint_services(aws_retry=True, **kwargs)
        return True
    except is_boto3_error_code("InvalidServiceName"):
        return False


def not_found_message(missing, entries, looked_in):
    keys = dict((entry["service_name"], entry["key"]) for entry in entries)
    listed = ", ".join("%s (%s)" % (keys.get(name, "?"), name) for name in missing)
    return (
        "Endpoint service(s) not found in %s: %s. Check the site and the region (cross-region "
        "endpoints need service_region), set service_names to the name Datadog gave you, or "
        "contact Datadog support as the PrivateLink guide says." % (looked_in, listed)
    )


def detail_summary(detail):
    """The fields of a ServiceDetail a user needs, snake_cased."""
    if not detail:
        return None
    return {
        "service_name": detail.get("ServiceName"),
        "service_id": detail.get("ServiceId"),
        "private_dns_name": detail.get("PrivateDnsName"),
        "private_dns_name_verification_state": detail.get("PrivateDnsNameVerificationState"),
        "availability_zones": sorted(detail.get("AvailabilityZones") or []),
        "service_region": detail.get("ServiceRegion"),
        "service_type": [t.get("ServiceType") for t in detail.get("ServiceType") or []],
        "acceptance_required": detail.get("AcceptanceRequired"),
        "owner": detail.get("Owner"),
    }
