#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vpc_endpoints
short_description: Manage the whole set of Datadog PrivateLink interface endpoints of one VPC
version_added: 0.1.0
description:
  - Ensures one interface VPC endpoint per Datadog service (logs, API, metrics, containers,
    process, profiling, traces, DBM, remote configuration) in one VPC, in one call.
  - Verifies the endpoint service names with C(DescribeVpcEndpointServices) (the guide's
    I(Verify) button), describes the VPC's endpoints once, creates what is missing, repairs
    what drifted (subnets, security groups, private DNS) with C(ModifyVpcEndpoint), and
    waits for all endpoints in one polling loop (one C(DescribeVpcEndpoints) call per poll).
  - Same region (the VPC is in the Datadog site's region) and cross region (the VPC is in
    another region; the endpoints reach Datadog's services through cross-region
    PrivateLink with C(ServiceRegion)).
  - For the peered-region scenario, create the endpoints in the Datadog region with
    O(private_dns_enabled=false) and let M(datadog_privatelink.aws.private_zones) publish
    the names.
  - Service keys that share one endpoint service (the two log intakes of C(ap2) and
    C(uk1)) get one endpoint.
  - Endpoints in a deleted, deleting, failed, rejected or expired state are ignored when
    matching. O(state=absent) deletes only endpoints that carry this collection's
    ownership tag.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  vpc_id:
    description:
      - The VPC that holds the endpoints.
    type: str
    required: true
  subnet_ids:
    description:
      - Subnets of O(vpc_id) the endpoints get a network interface in (one per
        availability zone). Required when O(state=present).
      - Existing endpoints whose subnets differ are modified to match.
    type: list
    elements: str
  security_group_ids:
    description:
      - Security groups of O(vpc_id) attached to the endpoints. At least one of them must
        admit inbound TCP 443 (see O(validate_https_ingress)).
      - When omitted, new endpoints get the VPC's default security group (which is then
        checked) and the groups of existing endpoints are left as they are.
    type: list
    elements: str
  validate_https_ingress:
    description:
      - Refuse to run when none of the security groups admits inbound TCP 443, which the
        Agents need to reach the endpoints.
    type: bool
    default: true
  private_dns_enabled:
    description:
      - Whether AWS publishes the Datadog host names (for example C(api.datadoghq.com)) in
        the VPC. Keep V(true) for same and cross region; use V(false) for the peered-region
        scenario, where private hosted zones carry the names.
    type: bool
    default: true
  service_region:
    description:
      - The region of Datadog's endpoint services, for cross-region PrivateLink. Endpoints
        are created in the module's region.
      - When omitted, it is the site's region if that differs from the module's region
        (cross region), and unset otherwise (same region).
      - Cross-region endpoints need IAM permission C(vpce:AllowMultiRegion).
    type: str
  verify:
    description:
      - Look the service names up with C(DescribeVpcEndpointServices) before creating
        anything, and refuse with the unknown names. Also reports the private DNS name each
        service publishes.
    type: bool
    default: true
  name_prefix:
    description:
      - Prefix of the C(Name) tag of endpoints this module creates; the service key(s)
        follow it. An empty string sets no C(Name) tag. A C(Name) in O(tags) wins.
    type: str
    default: datadog-privatelink-
  state:
    description:
      - V(present) ensures the endpoints; V(absent) deletes the endpoints of the selected
        services in O(vpc_id) that this collection created.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until every endpoint is C(available) (or, with O(state=absent), gone).
      - All endpoints are waited for in one loop; an endpoint that ends C(failed) or
        C(rejected) fails the task with its id and reason.
    type: bool
    default: true
  wait_timeout:
    description:
      - How long to wait, in seconds. Datadog's guide says creation can take up to ten
        minutes.
    type: int
    default: 600
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog
  - datadog_privatelink.aws.datadog.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - O(tags) are applied to endpoints this module owns (created), together with the
    ownership tags C(datadog-privatelink:managed-by), C(datadog-privatelink:service) and
    C(datadog-privatelink:site). An endpoint of the same service that someone else created
    in the VPC is used and repaired but not tagged, purged or deleted.
  - Cross-region endpoints need botocore 1.35.70 or newer.
seealso:
  - module: datadog_privatelink.aws.service_info
  - module: amazon.aws.ec2_vpc_endpoint
"""

EXAMPLES = r"""
- name: All Datadog services in the Agents' VPC, same region as the site (us-east-1)
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: datadoghq.com
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223, subnet-0ccc3333dddd44445]
    security_group_ids: [sg-0123456789abcdef0]
    tags:
      team: sre
  register: datadog_endpoints

- name: Cross region - Agents in eu-west-1 reach the us1 site's services in us-east-1
  datadog_privatelink.aws.vpc_endpoints:
    region: eu-west-1
    site: us1
    services: [logs_agent, api, metrics, traces]
    vpc_id: vpc-0fedcba9876543210
    subnet_ids: [subnet-0eee5555ffff66667]
    security_group_ids: [sg-0fedcba9876543210]

- name: Peered region - endpoints in Datadog's region without private DNS
  datadog_privatelink.aws.vpc_endpoints:
    region: ap-northeast-1
    site: ap1
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223]
    security_group_ids: [sg-0123456789abcdef0]
    private_dns_enabled: false

- name: Credentials and endpoint once for our modules and amazon.aws's
  module_defaults:
    group/datadog_privatelink.aws.aws:
      region: us-east-1
      profile: monitoring
  block:
    - name: Datadog endpoints
      datadog_privatelink.aws.vpc_endpoints:
        site: us1
        vpc_id: vpc-0a1b2c3d4e5f67890
        subnet_ids: [subnet-0aaa1111bbbb22223]
        security_group_ids: [sg-0123456789abcdef0]

- name: Remove the endpoints this collection created in the VPC
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    state: absent
"""

RETURN = r"""
endpoints:
  description: Per service key, the endpoint that serves it (keys sharing a service show the same endpoint).
  returned: always
  type: dict
  contains:
    service_key:
      description: The catalog key.
      type: str
      sample: api
    title:
      description: The service, as the guide names it.
      type: str
      sample: API
    service_name:
      description: The endpoint service name.
      type: str
      sample: com.amazonaws.vpce.us-east-1.vpce-svc-07895350fd0109264
    private_dns_name:
      description: The name the Agents resolve, as DescribeVpcEndpointServices reports it (catalog otherwise).
      type: str
      sample: api.datadoghq.com
    vpc_endpoint_id:
      description: The endpoint id; null when it does not exist (absent, or check mode before creation).
      type: str
      sample: vpce-0123456789abcdef0
    state:
      description: The endpoint state, lowercased (pending, available, ...).
      type: str
      sample: available
    private_dns_enabled:
      description: Whether private DNS is on.
      type: bool
    dns_entries:
      description: DNS entries of the endpoint.
      type: list
      elements: dict
      contains:
        dns_name:
          description: The DNS name.
          type: str
        hosted_zone_id:
          description: The hosted zone of the name, for Route53 alias records.
          type: str
    regional_dns_entry:
      description: The regional DNS entry, the alias target of a private hosted zone record.
      type: dict
      sample: {dns_name: vpce-0123-abcd.vpce-svc-07895350fd0109264.us-east-1.vpce.amazonaws.com, hosted_zone_id: Z7HUB22UULQXV}
    subnet_ids:
      description: Subnets of the endpoint.
      type: list
      elements: str
    security_group_ids:
      description: Security groups of the endpoint.
      type: list
      elements: str
    service_region:
      description: The region of the endpoint service (cross-region endpoints).
      type: str
      sample: us-east-1
    owned:
      description: Whether this collection created the endpoint (carries the ownership tag).
      type: bool
    tags:
      description: Tags of the endpoint.
      type: dict
  sample:
    api:
      service_key: api
      service_name: com.amazonaws.vpce.us-east-1.vpce-svc-07895350fd0109264
      private_dns_name: api.datadoghq.com
      vpc_endpoint_id: vpce-0123456789abcdef0
      state: available
created:
  description: Ids of endpoints created (check mode, the service keys that would be).
  returned: always
  type: list
  elements: str
modified:
  description: Ids of endpoints modified to repair drift, with the change applied.
  returned: always
  type: dict
deleted:
  description: Ids of endpoints deleted (state=absent).
  returned: always
  type: list
  elements: str
skipped:
  description: Endpoints left alone, with the reason (not created by this collection, duplicates).
  returned: always
  type: list
  elements: dict
site:
  description: The Datadog site facts used.
  returned: always
  type: dict
  sample: {key: us1, dd_site: datadoghq.com, region: us-east-1}
service_region:
  description: The region Datadog's services were reached in (null for same region).
  returned: always
  type: str
"""

import time
import uuid

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import endpoint_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import vpc_dns
from ansible_collections.datadog_privatelink.aws.plugins.module_utils.aws_reads import all_vpc_endpoints
from ansible_collections.datadog_privatelink.aws.plugins.module_utils.endpoint_services import describe_services
from ansible_collections.datadog_privatelink.aws.plugins.module_utils.endpoint_services import not_found_message
from ansible_collections.datadog_privatelink.aws.plugins.module_utils.endpoint_services import resolve_service_region

MAX_POLL_DELAY = 15


class EndpointSet:
    """The Datadog endpoints of one VPC: what exists, what is wanted, and the work between."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        self.created, self.deleted, self.skipped = [], [], []
        self.modified = {}
        self.changed = False
        try:
            self.site = catalog.site_facts(self.params["site"])
            self.entries = catalog.service_entries(
                self.params["site"], self.params["services"], self.params["service_names"]
            )
            self.service_region = resolve_service_region(
                self.site["region"], module.region, self.params["service_region"]
            )
        except catalog.CatalogError as error:
            module.fail_json(msg=str(error))
        self.groups = catalog.group_by_service_name(self.entries)
        self.details = {}
        self.endpoints = {}  # service name -> endpoint dict (live, or predicted in check mode)

    # ---- reads -------------------------------------------------------------------------
    def verify_services(self):
        looked_in = self.service_region or self.module.region
        for name in self.groups:
            region = catalog.SERVICE_NAME_PATTERN.match(name).group("region")
            if region != looked_in:
                keys = ", ".join(self.groups[name])
                self.module.fail_json(
                    msg="Service name %s (%s) belongs to region %s, but the services are looked up in %s. "
                    "Fix service_names or service_region." % (name, keys, region, looked_in)
                )
        if not self.params["verify"]:
            return
        try:
            self.details, missing = describe_services(self.client, list(self.groups), self.service_region)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Could not describe the Datadog endpoint services")
        if missing:
            self.module.fail_json(msg=not_found_message(missing, self.entries, looked_in), missing_service_names=missing)

    def check_subnets(self):
        subnet_ids = self.params["subnet_ids"] or []
        if not subnet_ids:
            self.module.fail_json(msg="subnet_ids is required with state=present: give one subnet of %s per availability zone." % self.params["vpc_id"])
        try:
            subnets = self.client.describe_subnets(aws_retry=True, SubnetIds=subnet_ids)["Subnets"]
        except is_boto3_error_code("InvalidSubnetID.NotFound") as e:
            self.module.fail_json(msg="Subnet not found: %s. Give subnets of %s." % (e.response["Error"].get("Message"), self.params["vpc_id"]))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not describe subnets")
        outside = ["%s (in %s)" % (s["SubnetId"], s["VpcId"]) for s in subnets if s["VpcId"] != self.params["vpc_id"]]
        if outside:
            self.module.fail_json(msg="Subnets outside %s: %s. Give subnets of %s only." % (self.params["vpc_id"], ", ".join(outside), self.params["vpc_id"]))
        zones = [s["AvailabilityZone"] for s in subnets]
        if len(set(zones)) != len(zones):
            self.module.fail_json(msg="An interface endpoint takes one subnet per availability zone; these share one: %s." % ", ".join(
                "%s (%s)" % (s["SubnetId"], s["AvailabilityZone"]) for s in subnets if zones.count(s["AvailabilityZone"]) > 1))
        if not self.service_region:
            for name, detail in self.details.items():
                offered = set(detail.get("AvailabilityZones") or [])
                unserved = [s["SubnetId"] + " (" + s["AvailabilityZone"] + ")" for s in subnets if offered and s["AvailabilityZone"] not in offered]
                if unserved:
                    self.module.fail_json(msg="Service %s (%s) is not offered in the availability zone of subnet(s) %s; it is offered in %s."
                                          % (name, ", ".join(self.groups[name]), ", ".join(unserved), ", ".join(sorted(offered))))

    def check_security_groups(self):
        group_ids = self.params["security_group_ids"]
        vpc_id = self.params["vpc_id"]
        try:
            if group_ids:
                groups = self.client.describe_security_groups(aws_retry=True, GroupIds=group_ids)["SecurityGroups"]
            else:
                groups = self.client.describe_security_groups(
                    aws_retry=True, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
                )["SecurityGroups"]
        except is_boto3_error_code("InvalidGroup.NotFound") as e:
            self.module.fail_json(msg="Security group not found: %s. Give security groups of %s." % (e.response["Error"].get("Message"), vpc_id))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg="Could not describe security groups")
        outside = ["%s (in %s)" % (g["GroupId"], g.get("VpcId")) for g in groups if g.get("VpcId") != vpc_id]
        if outside:
            self.module.fail_json(msg="Security groups outside %s: %s. Give security groups of %s only." % (vpc_id, ", ".join(outside), vpc_id))
        if self.params["validate_https_ingress"] and not any(plan.group_admits_https(g) for g in groups):
            which = ", ".join(g["GroupId"] for g in groups) or "the default group of %s" % vpc_id
            self.module.fail_json(
                msg="None of the security groups (%s) admits inbound TCP 443, so Agents could not reach the endpoints. "
                "Add an ingress rule for TCP 443 from the Agents' CIDRs or security group (the endpoints role can create "
                "such a group), or set validate_https_ingress=false." % which
            )

    def check_vpc_dns(self):
        """Private DNS needs both VPC DNS attributes; AWS would refuse endpoint by endpoint."""
        if not self.params["private_dns_enabled"]:
            return
        vpc_id = self.params["vpc_id"]
        try:
            off = vpc_dns.attributes_off(self.client, vpc_id)
        except vpc_dns.VpcNotFound:
            self.module.fail_json(msg="VPC %s not found in %s." % (vpc_id, self.module.region))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Could not read the DNS attributes of %s" % vpc_id)
        if off:
            self.module.fail_json(msg=vpc_dns.refusal(vpc_id, off, switch="private_dns_enabled=false"))

    def describe_vpc_endpoints(self, **kwargs):
        try:
            return all_vpc_endpoints(self.client, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Could not describe VPC endpoints", **self.result())

    def existing(self):
        return self.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [self.params["vpc_id"]]},
                {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            ]
        )

    # ---- present -----------------------------------------------------------------------
    def ensure_present(self):
        self.verify_services()
        self.check_subnets()
        self.check_security_groups()
        self.check_vpc_dns()
        existing = self.existing()
        matched, extras = plan.match_endpoints(list(self.groups), existing, self.service_region, self.module.region)
        self.adopt_superseded(matched, existing)
        for extra in extras:
            self.skipped.append({"vpc_endpoint_id": extra["VpcEndpointId"], "service_name": extra["ServiceName"],
                                 "reason": "another live endpoint of this service in the VPC is used"})
        before, after = {}, {}
        for name, keys in self.groups.items():
            endpoint = matched.get(name)
            label = "+".join(keys)
            before[label] = plan.diff_view(endpoint)
            if endpoint is None:
                endpoint = self.create(name, keys)
            else:
                endpoint = self.repair(endpoint, keys)
            self.endpoints[name] = endpoint
            after[label] = plan.diff_view(endpoint)
        self.diff = {"before": before, "after": after}
        if self.params["wait"] and not self.module.check_mode:
            self.wait_until_available()

    def create(self, name, keys):
        self.changed = True
        tags = plan.desired_tags(self.params["tags"], keys, self.site["key"], self.params["name_prefix"])
        request = {
            "VpcEndpointType": "Interface",
            "VpcId": self.params["vpc_id"],
            "ServiceName": name,
            "SubnetIds": self.params["subnet_ids"],
            "PrivateDnsEnabled": self.params["private_dns_enabled"],
            "TagSpecifications": [{"ResourceType": "vpc-endpoint", "Tags": ansible_dict_to_boto3_tag_list(tags)}],
            "ClientToken": str(uuid.uuid4()),  # one token per endpoint: a retried call never makes two
        }
        if self.params["security_group_ids"]:
            request["SecurityGroupIds"] = self.params["security_group_ids"]
        if self.service_region:
            request["ServiceRegion"] = self.service_region
        if self.module.check_mode:
            self.created.append("+".join(keys))
            return {
                "ServiceName": name,
                "State": "pending",
                "SubnetIds": list(self.params["subnet_ids"]),
                "Groups": [{"GroupId": g} for g in self.params["security_group_ids"] or []],
                "PrivateDnsEnabled": self.params["private_dns_enabled"],
                "ServiceRegion": self.service_region,
                "Tags": ansible_dict_to_boto3_tag_list(tags),
            }
        try:
            endpoint = self.client.create_vpc_endpoint(aws_retry=True, **request)["VpcEndpoint"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(
                e, msg="Could not create the endpoint for %s (%s); endpoints created before it are in the result" % (", ".join(keys), name),
                **self.result()
            )
        self.created.append(endpoint["VpcEndpointId"])
        return endpoint

    def repair(self, endpoint, keys):
        changes = plan.modification(
            endpoint, self.params["subnet_ids"], self.params["security_group_ids"], self.params["private_dns_enabled"]
        )
        endpoint_id = endpoint["VpcEndpointId"]
        if changes:
            self.changed = True
            self.modified[endpoint_id] = changes
            if not self.module.check_mode:
                try:
                    self.client.modify_vpc_endpoint(aws_retry=True, VpcEndpointId=endpoint_id, **changes)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    self.module.fail_json_aws(e, msg="Could not modify %s (%s)" % (endpoint_id, ", ".join(keys)), **self.result())
            endpoint = plan.apply_modification(endpoint, changes)
        if plan.is_owned(endpoint):
            endpoint = self.retag(endpoint, keys)
        else:
            self.skipped.append({"vpc_endpoint_id": endpoint_id, "service_name": endpoint.get("ServiceName"),
                                 "reason": "not created by this collection: used and repaired, not tagged"})
        return endpoint

    def retag(self, endpoint, keys):
        current = plan.tags_of(endpoint)
        wanted = plan.desired_tags(self.params["tags"], keys, self.site["key"], self.params["name_prefix"])
        if "Name" in current and "Name" not in (self.params["tags"] or {}):
            wanted["Name"] = current["Name"]  # a Name set by hand is kept
        to_set, to_unset = compare_aws_tags(current, wanted, self.params["purge_tags"])
        if not (to_set or to_unset):
            return endpoint
        self.changed = True
        endpoint_id = endpoint["VpcEndpointId"]
        self.modified.setdefault(endpoint_id, {})["Tags"] = {"set": to_set, "unset": to_unset}
        if not self.module.check_mode:
            try:
                if to_unset:
                    self.client.delete_tags(aws_retry=True, Resources=[endpoint_id], Tags=[{"Key": k} for k in to_unset])
                if to_set:
                    self.client.create_tags(aws_retry=True, Resources=[endpoint_id], Tags=ansible_dict_to_boto3_tag_list(to_set))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg="Could not tag %s" % endpoint_id, **self.result())
        tags = dict(current)
        tags.update(to_set)
        for key in to_unset:
            tags.pop(key, None)
        endpoint = dict(endpoint)
        endpoint["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        return endpoint

    def adopt_superseded(self, matched, existing):
        """Use an endpoint made for a name Datadog has since replaced, rather than add a second one.

        A second endpoint with private DNS for the same host name would conflict with it.
        """
        for name, keys in self.groups.items():
            if matched.get(name) is not None:
                continue
            old_names = [old for e in self.entries if e["key"] in keys for old in e["superseded_service_names"]]
            old_matched, _extras = plan.match_endpoints(old_names, existing, self.service_region, self.module.region)
            endpoint = next((e for e in old_matched.values() if e), None)
            if endpoint is not None:
                matched[name] = endpoint
                self.module.warn(
                    "%s serves %s through %s, a service name Datadog has replaced by %s. It is kept; to move, create "
                    "the new endpoint after deleting this one, or pin service_names.%s." % (
                        endpoint["VpcEndpointId"], ", ".join(keys), endpoint["ServiceName"], name, keys[0]))

    def wait_until_available(self):
        ids = [e["VpcEndpointId"] for e in self.endpoints.values() if plan.state_of(e) != plan.READY_STATE]
        deadline = time.time() + self.params["wait_timeout"]
        delay = 1.0
        while ids:
            fresh = self.describe_vpc_endpoints(VpcEndpointIds=ids)
            by_id = dict((e["VpcEndpointId"], e) for e in fresh)
            for name, endpoint in list(self.endpoints.items()):
                if endpoint.get("VpcEndpointId") in by_id:
                    self.endpoints[name] = by_id[endpoint["VpcEndpointId"]]
            _ready, pending, failed = plan.wait_progress(fresh)
            if failed:
                reasons = ", ".join("%s (%s): %s" % (i, by_id[i]["ServiceName"], plan.failure_reason(by_id[i])) for i in failed)
                self.module.fail_json(msg="VPC endpoint(s) failed: %s" % reasons, failed_endpoint_ids=failed, **self.result())
            ids = pending
            if not ids:
                return
            if time.time() + delay > deadline:
                pending_text = ", ".join("%s (%s, %s)" % (i, by_id[i]["ServiceName"], plan.state_of(by_id[i])) for i in ids)
                self.module.fail_json(
                    msg="Timed out after %ss waiting for VPC endpoint(s) to become available: %s. The endpoints in the "
                    "result exist; rerun to wait again." % (self.params["wait_timeout"], pending_text),
                    pending_endpoint_ids=ids, **self.result()
                )
            time.sleep(delay)
            delay = min(MAX_POLL_DELAY, delay * 1.6)

    # ---- absent ------------------------------------------------------------------------
    def ensure_absent(self):
        wanted = set(self.groups)
        doomed, before = [], {}
        for endpoint in self.existing():
            if endpoint.get("ServiceName") not in wanted or plan.state_of(endpoint) in ("deleted", "deleting"):
                continue
            label = "+".join(self.groups[endpoint["ServiceName"]])
            if plan.is_owned(endpoint):
                doomed.append(endpoint["VpcEndpointId"])
                before[label] = plan.diff_view(endpoint)
            else:
                self.skipped.append({"vpc_endpoint_id": endpoint["VpcEndpointId"], "service_name": endpoint["ServiceName"],
                                     "reason": "not created by this collection: left in place"})
        self.diff = {"before": before, "after": dict((label, None) for label in before)}
        if not doomed:
            return
        self.changed = True
        self.deleted = doomed
        if self.module.check_mode:
            return
        try:
            answer = self.client.delete_vpc_endpoints(aws_retry=True, VpcEndpointIds=doomed)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Could not delete VPC endpoints %s" % ", ".join(doomed), **self.result())
        unsuccessful = answer.get("Unsuccessful") or []
        if unsuccessful:
            self.deleted = [i for i in doomed if i not in [u.get("ResourceId") for u in unsuccessful]]
            self.module.fail_json(msg="Some endpoints could not be deleted: %s" % ", ".join(
                "%s: %s" % (u.get("ResourceId"), (u.get("Error") or {}).get("Message")) for u in unsuccessful), **self.result())
        if self.params["wait"]:
            self.wait_until_gone(doomed)

    def wait_until_gone(self, ids):
        deadline = time.time() + self.params["wait_timeout"]
        delay = 1.0
        while ids:
            fresh = self.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [self.params["vpc_id"]]}])
            ids = [e["VpcEndpointId"] for e in fresh if e["VpcEndpointId"] in ids and plan.state_of(e) != "deleted"]
            if not ids:
                return
            if time.time() + delay > deadline:
                self.module.fail_json(msg="Timed out waiting for the deletion of %s" % ", ".join(ids), **self.result())
            time.sleep(delay)
            delay = min(MAX_POLL_DELAY, delay * 1.6)

    # ---- result ------------------------------------------------------------------------
    def result(self):
        endpoints = {}
        for entry in self.entries:
            endpoint = self.endpoints.get(entry["service_name"])
            endpoints[entry["key"]] = plan.summary(endpoint, entry, self.details.get(entry["service_name"]))
        return {
            "changed": self.changed,
            "endpoints": endpoints,
            "created": self.created,
            "modified": self.modified,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "site": self.site,
            "service_region": self.service_region,
        }


def main():
    argument_spec = dict(
        site=dict(type="str", required=True),
        services=dict(type="list", elements="str", default=[]),
        service_names=dict(type="dict", default={}),
        vpc_id=dict(type="str", required=True),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        validate_https_ingress=dict(type="bool", default=True),
        private_dns_enabled=dict(type="bool", default=True),
        service_region=dict(type="str"),
        verify=dict(type="bool", default=True),
        name_prefix=dict(type="str", default="datadog-privatelink-"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    endpoint_set = EndpointSet(module)
    if module.params["state"] == "present":
        endpoint_set.ensure_present()
    else:
        endpoint_set.ensure_absent()
    result = endpoint_set.result()
    if module._diff:
        result["diff"] = endpoint_set.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
