# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Paginated, throttling-safe reads shared by the modules.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _all_pages(call, result_key, token_key="NextToken", **kwargs):
    items = []
    while True:
        page = call(**kwargs)
        items.extend(page.get(result_key, []))
        if not page.get(token_key):
            return items
        kwargs[token_key] = page[token_key]


@AWSRetry.jittered_backoff()
def all_service_details(client, **kwargs):
    """Every ServiceDetail DescribeVpcEndpointServices answers for kwargs."""
    return _all_pages(client.describe_vpc_endpoint_services, "ServiceDetails", **kwargs)


@AWSRetry.jittered_backoff()
def all_vpc_endpoints(client, **kwargs):
    """Every VpcEndpoint DescribeVpcEndpoints answers for kwargs."""
    return _all_pages(client.describe_vpc_endpoints, "VpcEndpoints", **kwargs)
