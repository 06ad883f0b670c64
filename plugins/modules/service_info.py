#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: service_info
short_description: Datadog PrivateLink endpoint services of a site, from the catalog and from AWS
version_added: 0.1.0
description:
  - Returns, for a Datadog site and its services, the catalog entries (service name,
    private DNS name, region) and, with O(verify=true), what C(DescribeVpcEndpointServices)
    answers for each one (found, private DNS name, availability zones, service region), in
    one call.
  - Works across regions - run it in the Agents' region and it looks the services up in the
    site's region through C(ServiceRegions), as cross-region PrivateLink does.
  - Never fails because a service is unknown to AWS; it reports C(found=false). Use
    M(datadog_privatelink.aws.vpc_endpoints) to refuse.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  service_region:
    description:
      - Region of Datadog's endpoint services. Defaults to the site's region when it
        differs from the module's region, so the lookup goes through C(ServiceRegions).
    type: str
  verify:
    description:
      - Ask AWS about each service. V(false) returns the catalog alone and makes no AWS call.
    type: bool
    default: true
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog
  - datadog_privatelink.aws.datadog.read_only_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: datadog_privatelink.aws.vpc_endpoints
"""

EXAMPLES = r"""
- name: What AWS says about every Datadog service of ap1
  datadog_privatelink.aws.service_info:
    region: ap-northeast-1
    site: ap1.datadoghq.com
  register: ap1_services

- name: Fail early when a service name does not exist
  ansible.builtin.assert:
    that: ap1_services.services | dict2items | rejectattr('value.found') | list | length == 0
    fail_msg: "Unknown: {{ ap1_services.services | dict2items | rejectattr('value.found') | map(attribute='key') | list }}"

- name: From eu-west-1, the us1 services through cross-region PrivateLink
  datadog_privatelink.aws.service_info:
    region: eu-west-1
    site: us1
    services: [api, logs_agent]

- name: The catalog alone, no AWS call (host names the Agents will resolve)
  datadog_privatelink.aws.service_info:
    site: uk1
    verify: false
  register: uk1_catalog
"""

RETURN = r"""
site:
  description: The site facts.
  returned: always
  type: dict
  sample: {key: us1, dd_site: datadoghq.com, region: us-east-1}
service_region:
  description: The region the services were looked up in through ServiceRegions (null for same region).
  returned: always
  type: str
services:
  description: Per service key, the catalog entry and what AWS answered.
  returned: always
  type: dict
  contains:
    key:
      description: The catalog key.
      type: str
      sample: metrics
    title:
      description: The service, as the guide names it.
      type: str
      sample: Metrics
    service_name:
      description: The endpoint service name (catalog, or your override).
      type: str
      sample: com.amazonaws.vpce.us-east-1.vpce-svc-09a8006e245d1e7b8
    catalog_private_dns_name:
      description: The host name the catalog gives for this service.
      type: str
      sample: metrics.agent.datadoghq.com
    private_dns_name:
      description: The private DNS name AWS reports for the service (the name for a private hosted zone), else the catalog's.
      type: str
      sample: metrics.agent.datadoghq.com
    found:
      description: Whether AWS knows the service (null when verify=false).
      type: bool
    availability_zones:
      description: Availability zones the service is offered in.
      type: list
      elements: str
    service_region:
      description: The region of the service, as AWS reports it.
      type: str
    details:
      description: The ServiceDetail AWS returned, snake_cased (null when not found or not verified).
      type: dict
    shares_endpoint_with:
      description: Other keys served by the same endpoint service (one endpoint serves them all).
      type: list
      elements: str
missing_service_names:
  description: Service names AWS did not know.
  returned: always
  type: list
  elements: str
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.datadog_privatelink.aws.plugins.module_utils._site_args import site_argument_spec
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import describe_services
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import detail_summary
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import resolve_service_region
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._sdk_floor import require_service_regions


def main():
    module = AnsibleAWSModule(
        argument_spec=site_argument_spec(
            service_region=dict(type="str"),
            verify=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        site = catalog.site_facts(params["site"])
        entries = catalog.service_entries(params["site"], params["services"], params["service_names"])
        service_region = resolve_service_region(site["region"], module.region, params["service_region"]) if params["verify"] else None
        require_service_regions(module, bool(service_region))
    except catalog.CatalogError as error:
        module.fail_json(msg=str(error))

    groups = catalog.group_by_service_name(entries)
    details, missing = {}, []
    if params["verify"]:
        client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        try:
            details, missing = describe_services(client, list(groups), service_region)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Could not describe the Datadog endpoint services")

    services = {}
    for entry in entries:
        detail = details.get(entry["service_name"])
        services[entry["key"]] = {
            "key": entry["key"],
            "title": entry["title"],
            "service_name": entry["service_name"],
            "catalog_private_dns_name": entry["private_dns_name"],
            "private_dns_name": (detail or {}).get("PrivateDnsName") or entry["private_dns_name"],
            "found": (detail is not None) if params["verify"] else None,
            "availability_zones": sorted((detail or {}).get("AvailabilityZones") or []),
            "service_region": (detail or {}).get("ServiceRegion") or (site["region"] if detail else None),
            "details": detail_summary(detail),
            "shares_endpoint_with": [k for k in groups[entry["service_name"]] if k != entry["key"]],
        }
    module.exit_json(
        changed=False, site=site, service_region=service_region, services=services, missing_service_names=missing
    )


if __name__ == "__main__":
    main()
