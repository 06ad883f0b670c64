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
  - Nothing changes before every check passed. The VPC DNS attributes that private DNS needs
    are checked by AWS itself on the first C(CreateVpcEndpoint), the run's first change
    (creates come before repairs and deletions), and read with C(DescribeVpcAttribute) when
    nothing is to be created, in check mode and with O(validate_only); either way a refusal
    names the attribute that is off.
  - Same region (the VPC is in the Datadog site's region) and cross region (the VPC is in
    another region; the endpoints reach Datadog's services through cross-region
    PrivateLink with C(ServiceRegion)).
  - For the peered-region scenario, create the endpoints in the Datadog region with
    O(private_dns_enabled=false) and let M(datadog_privatelink.aws.private_zones) publish
    the names.
  - Service keys that share one endpoint service (the two log intakes of C(ap2) and
    C(uk1)) get one endpoint.
  - An endpoint of a Datadog service that already exists in the VPC (made by hand, by
    another tool, any tags) is adopted rather than duplicated - listed in RV(adopted) and
    tagged C(datadog-privatelink:ownership=adopted). Its subnets, security groups and tags
    stay; what the task asks for is added (see O(purge_subnets), O(purge_security_groups)).
  - Creation is idempotent across concurrent runs - each C(CreateVpcEndpoint) carries a
    C(ClientToken) derived from the VPC, the service and the last endpoint of it that ended,
    so two runs at once make one endpoint. Duplicates this collection created anyway are
    deleted (the oldest is kept); other duplicates are reported in RV(foreign_endpoints).
  - An endpoint this collection created that ended C(failed) or C(rejected) is deleted
    and replaced (RV(replaced)). Deleted, deleting and expired endpoints are ignored.
  - O(state=absent) deletes only endpoints this collection created; adopted ones are left
    in place (RV(left_in_place)), without this collection's tags.
  - With O(security_group), the security group the endpoints need (TCP 443 from the Agents) is
    found or made in the same call, after every read check and before the first endpoint.
  - AWS services the guide suggests an endpoint for (O(aws_services), such as Secrets Manager
    for the Datadog Lambda extension's API key) are handled the same way - verified, adopted,
    tagged, waited for, deleted only when created - in the module's region, with private DNS.
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
      - Missing subnets are added to existing endpoints; others are removed only with
        O(purge_subnets=true). Checked before anything changes - they must belong to
        O(vpc_id), one per availability zone.
    type: list
    elements: str
  security_group_ids:
    description:
      - Security groups of O(vpc_id) attached to the endpoints. At least one of them must
        admit inbound TCP 443 (see O(validate_https_ingress)).
      - When omitted, new endpoints get the VPC's default security group (which is then
        checked) and the groups of existing endpoints are left as they are.
      - Missing groups are added to existing endpoints; others are removed only with
        O(purge_security_groups=true).
      - With O(state=absent), groups to detach from the adopted endpoints left in place (a
        group the caller is about to delete), as long as each keeps another group.
    type: list
    elements: str
  security_group:
    description:
      - A security group this module keeps for the endpoints, admitting TCP 443 from the Agents as
        Datadog's PrivateLink guide asks (U(https://docs.datadoghq.com/agent/guide/private-link/)).
        It is attached to every endpoint, beside O(security_group_ids).
      - The group of that name in O(vpc_id) is used when it exists - one made by hand is used as it
        is (its tags and other rules kept, never deleted) and gets only the missing TCP 443 rules.
        Otherwise it is created, tagged C(datadog-privatelink:ownership=created) with O(tags).
      - Rules are only added, one per missing source, never purged; a rule that already lets TCP 443
        in from a source (a port range, all traffic) counts. Two runs at once make one group.
      - Every input is checked before the group is made, so that a wrong subnet or service key leaves
        nothing behind. With O(state=absent), the group is deleted when this collection created it,
        after the endpoints (adopted endpoints left in place are detached from it first); while an
        endpoint this collection did not make still uses it, it is kept, with a warning
        (RV(security_group.in_use_by)).
      - When omitted, the caller brings every group (O(security_group_ids)).
    type: dict
    suboptions:
      name:
        description: The group's name in O(vpc_id).
        type: str
        default: datadog-privatelink-endpoints
      description:
        description: The description of a group this module creates (AWS cannot change it later).
        type: str
        default: Datadog PrivateLink endpoints - TCP 443 from the Agents
      https_ingress_cidrs:
        description:
          - CIDR blocks (IPv4 or IPv6) admitted on TCP 443.
          - With O(security_group.https_ingress_security_group_ids) empty too, the VPC's associated
            IPv4 CIDR blocks.
        type: list
        elements: str
        default: []
      https_ingress_security_group_ids:
        description: Security groups (the Agents') admitted on TCP 443.
        type: list
        elements: str
        default: []
  datadog_services:
    description:
      - Manage the endpoints of Datadog's services (O(services)). V(false) manages only the
        O(aws_services) endpoints, for instance in an Agent VPC of the peered-region scenario.
    type: bool
    default: true
  aws_services:
    description:
      - AWS services that also get an interface endpoint, C(com.amazonaws.<region>.<key>) in the
        module's region and O(vpc_id), always with private DNS (their clients resolve the
        service's own name), whatever O(private_dns_enabled) says.
      - V(secretsmanager) - the Datadog Lambda extension reads its API key from Secrets Manager
        (C(DD_API_KEY_SECRET_ARN)); Datadog's PrivateLink guide suggests this endpoint
        (U(https://docs.datadoghq.com/agent/guide/private-link/)).
      - Their results are in RV(aws_endpoints).
    type: list
    elements: str
    choices: [secretsmanager]
    default: []
  purge_subnets:
    description:
      - Remove from existing endpoints the subnets not in O(subnet_ids). Without it, a
        subnet the user added stays, and a wanted subnet in an availability zone the
        endpoint already covers with another subnet is not added (with a warning).
    type: bool
    default: false
  purge_security_groups:
    description:
      - Remove from existing endpoints the security groups not in O(security_group_ids).
    type: bool
    default: false
  validate_only:
    description:
      - Make every check that reading can make - site, service keys and names
        (C(DescribeVpcEndpointServices)), region, VPC id and existence, VPC DNS attributes,
        private hosted zones on the VPC that would conflict with private DNS,
        subnets (in the VPC, one per availability zone), security groups, credentials - and
        return without changing anything (C(changed) is false).
      - Run it first in a play that creates other resources (such as a security group) so
        that a wrong input stops the play before anything is made.
    type: bool
    default: false
  validate_https_ingress:
    description:
      - Refuse to run when none of the security groups admits inbound TCP 443, which the
        Agents need to reach the endpoints.
      - Met by construction with O(security_group), whose group admits it.
    type: bool
    default: true
  private_dns_enabled:
    description:
      - Whether AWS publishes the Datadog host names (for example C(api.datadoghq.com)) in
        the VPC. Keep V(true) for same and cross region; use V(false) for the peered-region
        scenario, where private hosted zones carry the names.
      - With V(true), the private hosted zones associated with O(vpc_id)
        (C(route53:ListHostedZonesByVPC)) are read before the first endpoint is created. A
        zone named for a Datadog host the endpoints publish (one made by hand, say) is
        refused, naming the zone, because AWS refuses private DNS beside it.
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
        minutes; endpoints still pending after that are a case for Datadog support.
      - The endpoints are polled every 2 s or 10 % of the time waited, whichever is longer
        (15 s at most), so the module returns soon after the last one is available; once
        some are available, the next poll is timed for when the rest should be.
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
  - O(tags) are applied to endpoints this module holds, together with the ownership tags
    C(datadog-privatelink:managed-by), C(datadog-privatelink:ownership) (V(created) or
    V(adopted)), C(datadog-privatelink:service) and C(datadog-privatelink:site). O(purge_tags)
    applies to created endpoints only; adopted ones keep their tags and are never deleted.
  - Endpoints created by releases before the ownership tag carry only
    C(datadog-privatelink:managed-by); they count as created and get the ownership tag.
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

- name: The endpoints with a security group of their own, TCP 443 from the VPC's CIDR blocks
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223, subnet-0ccc3333dddd44445]
    security_group:
      name: datadog-privatelink-endpoints
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

- name: Datadog endpoints and the Secrets Manager endpoint the Datadog Lambda extension reads its API key through
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223]
    security_group_ids: [sg-0123456789abcdef0]
    aws_services: [secretsmanager]

- name: Only the Secrets Manager endpoint, in an Agent VPC of the peered-region scenario
  datadog_privatelink.aws.vpc_endpoints:
    region: eu-west-1
    site: us1
    datadog_services: false
    aws_services: [secretsmanager]
    vpc_id: vpc-0fedcba9876543210
    subnet_ids: [subnet-0eee5555ffff66667]

- name: Check every input first, changing nothing (before a play creates other resources)
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223, subnet-0ccc3333dddd44445]
    validate_only: true

- name: Remove the endpoints this collection created in the VPC, then the group if it created it
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    security_group:
      name: datadog-privatelink-endpoints
    state: absent
"""

RETURN = r"""
conflicting_zones:
  description:
    - The private hosted zones on O(vpc_id) that hold a name the endpoints' private DNS
      would publish; the module stops before any change when there is one.
  returned: on failure, when such a zone exists
  type: list
  elements: dict
  contains:
    name:
      description: The zone's name.
      type: str
      sample: api.datadoghq.com
    zone_id:
      description: The zone's id.
      type: str
      sample: Z0123456789ABCDEFGHIJ
    service_keys:
      description: The service keys whose endpoint publishes that name.
      type: list
      elements: str
      sample: [api]
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
      description: Whether this collection created the endpoint (and would delete it with O(state=absent)).
      type: bool
    ownership:
      description: V(created), V(adopted), or null for an endpoint this collection does not hold.
      type: str
      sample: created
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
aws_endpoints:
  description:
    - Per O(aws_services) key, its endpoint, with the same fields as RV(endpoints) (C(title) and
      C(service_name) name the AWS service; C(service_region) is null).
  returned: always
  type: dict
  sample:
    secretsmanager:
      service_key: secretsmanager
      service_name: com.amazonaws.us-east-1.secretsmanager
      private_dns_name: secretsmanager.us-east-1.amazonaws.com
      vpc_endpoint_id: vpce-0123456789abcdef1
      state: available
      private_dns_enabled: true
created:
  description: Ids of endpoints created (check mode, the service keys that would be).
  returned: always
  type: list
  elements: str
modified:
  description: Ids of endpoints modified to repair drift, adopt or hand back, with the change applied.
  returned: always
  type: dict
deleted:
  description:
    - Ids of endpoints deleted - with O(state=absent) those this collection created; with
      O(state=present) its failed or rejected endpoints (see RV(replaced)) and its duplicates.
  returned: always
  type: list
  elements: str
adopted:
  description: Ids of existing endpoints this run adopted (not created by this collection, now used and tagged adopted).
  returned: always
  type: list
  elements: str
  sample: [vpce-0123456789abcdef0]
replaced:
  description: Endpoints this collection created that had ended failed or rejected, deleted to be replaced.
  returned: always
  type: list
  elements: dict
  contains:
    vpc_endpoint_id:
      description: The deleted endpoint.
      type: str
    service_keys:
      description: The service keys it served.
      type: list
      elements: str
    state:
      description: Its state, V(failed) or V(rejected).
      type: str
    reason:
      description: AWS's LastError.
      type: str
foreign_endpoints:
  description:
    - Endpoints of the selected services in the VPC that this collection neither created
      nor adopted, left alone - duplicates of the endpoint in use, failed endpoints of other
      owners, untagged endpoints at O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    vpc_endpoint_id:
      description: The endpoint.
      type: str
    service_name:
      description: Its endpoint service.
      type: str
    service_keys:
      description: The service keys it serves.
      type: list
      elements: str
    state:
      description: Its state.
      type: str
    reason:
      description: Why it was left alone.
      type: str
left_in_place:
  description:
    - With O(state=absent), the endpoints of the selected services that were not deleted
      because this collection did not create them (adopted ones, handed back without this
      collection's tags, and foreign ones).
  returned: always
  type: list
  elements: dict
  contains:
    vpc_endpoint_id:
      description: The endpoint.
      type: str
    service_name:
      description: Its endpoint service.
      type: str
    service_keys:
      description: The service keys it serves.
      type: list
      elements: str
    reason:
      description: Why it stays.
      type: str
site:
  description: The Datadog site facts used.
  returned: always
  type: dict
  sample: {key: us1, dd_site: datadoghq.com, region: us-east-1}
service_region:
  description: The region Datadog's services were reached in (null for same region).
  returned: always
  type: str
security_group:
  description: The group of O(security_group); null when that option is not given.
  returned: always
  type: dict
  contains:
    group_id:
      description: Its id; null in check mode before it is created.
      type: str
      sample: sg-0123456789abcdef0
    group_name:
      description: Its name.
      type: str
      sample: datadog-privatelink-endpoints
    vpc_id:
      description: Its VPC.
      type: str
    ownership:
      description: V(created) when this collection made it (and would delete it), V(found) for one made by hand.
      type: str
      sample: created
    created:
      description: Whether this run created it.
      type: bool
    deleted:
      description: Whether this run deleted it (O(state=absent)).
      type: bool
    https_ingress:
      description: The sources it admits on TCP 443 for the Agents.
      type: list
      elements: str
      sample: [10.0.0.0/16]
    https_ingress_added:
      description: The sources this run added a TCP 443 rule for.
      type: list
      elements: str
    in_use_by:
      description:
        - With O(state=absent), the endpoints not created by this collection that still use the group
          it created, which is then kept (with a warning) rather than deleted.
      type: list
      elements: str
"""

import re
import time

try:
    import botocore
    import botocore.session
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_group as endpoint_group
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _vpc_dns as vpc_dns
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import run
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import describe_services
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import not_found_message
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import resolve_service_region
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._sdk_floor import require_service_regions

VPC_ID_PATTERN = re.compile(r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID_PATTERN = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d+$")
# Error codes by which AWS says the caller's credentials are wrong, expired or missing.
CREDENTIAL_ERRORS = frozenset((
    "AuthFailure", "InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException",
    "SignatureDoesNotMatch", "InvalidAccessKeyId", "MissingAuthenticationToken",
))
SUPPORT_NOTE = ("Datadog's PrivateLink guide says endpoints still pending after 10 minutes are a case for Datadog support "
                "(https://docs.datadoghq.com/agent/guide/private-link/): give them the endpoint ids.")


def is_dns_attribute_refusal(error):
    """AWS's refusal of private DNS for a VPC DNS attribute that is off."""
    if not isinstance(error, botocore.exceptions.ClientError):
        return False
    message = error.response.get("Error", {}).get("Message", "")
    return "enableDnsSupport" in message or "enableDnsHostnames" in message


def known_regions():
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return regions


class EndpointSet:
    """The Datadog endpoints of one VPC: what exists, what is wanted, and the work between."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.created, self.deleted, self.adopted, self.foreign, self.left_in_place, self.replaced = [], [], [], [], [], []
        self.modified = {}
        self.changed = False
        self.diff = {"before": {}, "after": {}}
        self.details = {}
        self.endpoints = {}  # service name -> endpoint dict (live, or predicted in check mode)
        self.subnet_zones = {}
        self.created_at = {}
        self.dns_checked_by_create = False  # AWS checks the VPC DNS attributes on the first, private DNS, create
        self.site = None
        self.service_region = None
        self.entries = []  # Datadog's services
        self.aws_entries = []  # AWS services (aws_services), always in the module's region
        self.aws_names = set()
        self.groups = {}
        self.check_inputs()
        self.aws = AwsCalls(module, self.result, self.explain)
        self.client = self.aws.client("ec2")
        # The group this module manages (security_group), or None when the caller brings every group.
        self.group = (endpoint_group.EndpointGroup(module, self.aws, self.client, self.params["security_group"])
                      if self.params["security_group"] else None)

    # ---- inputs checked without any call ----------------------------------------------------
    def check_inputs(self):
        params, region = self.params, self.module.region
        try:
            self.site = catalog.site_facts(params["site"])
            self.entries = catalog.service_entries(params["site"], params["services"], params["service_names"])
            if not params["datadog_services"]:
                self.entries = []
            self.aws_entries = catalog.aws_service_entries(region or "", params["aws_services"])
        except catalog.CatalogError as error:
            self.module.fail_json(msg=str(error))
        if not region:
            self.module.fail_json(msg="No region: set region (or AWS_REGION) to the region of the VPC; the %s site's "
                                  "services are in %s." % (self.site["key"], self.site["region"]))
        for name, value in (("region", region), ("service_region", params["service_region"])):
            if value and (not REGION_PATTERN.match(value) or value not in known_regions()):
                self.module.fail_json(msg="%s=%r is not an AWS region (for example %s). Check its spelling." % (name, value, self.site["region"]))
        wrong = endpoint_group.problems(params["security_group"]) if params["security_group"] else []
        if wrong:
            self.module.fail_json(msg=" ".join(wrong))
        if not (self.entries or self.aws_entries):
            self.module.fail_json(msg="Nothing to manage: datadog_services=false and aws_services is empty. Set either.")
        try:
            self.service_region = resolve_service_region(self.site["region"], region, params["service_region"])
        except catalog.CatalogError as error:
            self.module.fail_json(msg=str(error))
        if not self.entries:
            self.service_region = None  # AWS services are reached in the module's own region
        require_service_regions(self.module, bool(self.service_region))
        self.groups = catalog.group_by_service_name(self.entries + self.aws_entries)
        self.aws_names = set(e["service_name"] for e in self.aws_entries)
        vpc_id = params["vpc_id"]
        if not VPC_ID_PATTERN.match(vpc_id or ""):
            self.module.fail_json(msg="vpc_id=%r is not a VPC id: give the id of the Agents' VPC, such as vpc-0a1b2c3d4e5f67890." % vpc_id)
        if params["state"] == "present":
            subnet_ids = params["subnet_ids"] or []
            if not subnet_ids:
                self.module.fail_json(msg="subnet_ids is required with state=present: give one subnet of %s per availability zone." % vpc_id)
            malformed = [s for s in subnet_ids if not SUBNET_ID_PATTERN.match(s or "")]
            if malformed:
                self.module.fail_json(msg="subnet_ids holds %s, not subnet ids (subnet-...): give subnets of %s."
                                      % (", ".join(repr(s) for s in malformed), vpc_id))

    def explain(self, error):
        """What to change, for the AWS errors whose own message does not say it (AwsCalls' hint), else None."""
        code = ""
        if isinstance(error, botocore.exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code", "")
        if code in CREDENTIAL_ERRORS:
            return ("AWS rejected the credentials: %s (%s). Check the profile, access key, secret key and session token "
                    "(or module_defaults for group/datadog_privatelink.aws.aws)." % (error.response["Error"].get("Message", ""), code))
        if isinstance(error, botocore.exceptions.NoCredentialsError):
            return "No AWS credentials found: set a profile, access and secret keys, or AWS_PROFILE."
        if self.dns_checked_by_create and is_dns_attribute_refusal(error):
            self.dns_checked_by_create = False  # the reads below must not come back here
            off = ["enableDnsSupport", "enableDnsHostnames"]
            try:
                off = vpc_dns.attributes_off(self.client, self.params["vpc_id"]) or off
            except (vpc_dns.VpcNotFound, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                pass  # AWS's refusal already says both are needed
            return self.dns_off_message(off)
        return None

    def dns_off_message(self, off):
        return ("%s is off on %s: private DNS, which lets the Agents reach Datadog's host names through the endpoints, "
                "needs both enableDnsSupport and enableDnsHostnames. Turn them on (amazon.aws.ec2_vpc_net with "
                "dns_support: true and dns_hostnames: true), then rerun." % (" and ".join(off), self.params["vpc_id"]))

    def group_ids(self):
        """The groups the endpoints get: the caller's, then the managed one (once it has an id)."""
        ids = list(self.params["security_group_ids"] or [])
        if self.group is not None and self.group.group_id and self.group.group_id not in ids:
            ids.append(self.group.group_id)
        return ids

    def region_of(self, name):
        """The ServiceRegion of a service name: Datadog's for cross region, None for AWS services (local)."""
        return None if name in self.aws_names else self.service_region

    def private_dns_of(self, name):
        """AWS services always get private DNS (their clients resolve the service's public name)."""
        return True if name in self.aws_names else self.params["private_dns_enabled"]

    def wants_private_dns(self):
        return self.params["state"] == "present" and any(self.private_dns_of(name) for name in self.groups)

    def match(self, names, endpoints):
        """plan.match_endpoints, each name reached through its own service region."""
        matched, extras = {}, []
        for region in set(self.region_of(name) for name in names):
            part, more = plan.match_endpoints([n for n in names if self.region_of(n) == region], endpoints, region, self.module.region)
            matched.update(part)
            extras.extend(more)
        return dict((name, matched[name]) for name in names), extras

    # ---- reads -------------------------------------------------------------------------------
    def validate(self):
        """Every check that reading can make, before the first change.

        The private DNS checks (VPC DNS attributes, conflicting zones) are made here only with
        validate_only; a run reads the VPC's endpoints first and makes them in plan_private_dns.
        """
        self.verify_services()
        if self.params["state"] == "absent":
            self.check_vpc_exists()
            return
        self.check_subnets()  # the subnets' VpcId proves the VPC exists
        self.check_security_groups()
        if self.params["validate_only"] and self.wants_private_dns():
            self.check_dns_attributes()
            self.check_private_zones()

    def plan_private_dns(self, creates, enabling, other_changes_first=False):
        """The private DNS checks, before the first change, with the fewest reads.

        creates: service names about to get an endpoint; enabling: those whose endpoint gets private DNS on;
        other_changes_first: the security group changes before the first create (its own reads come first).
        AWS refuses a private DNS CreateVpcEndpoint when a VPC DNS attribute is off, before making
        anything: when such a create is the run's first change (creates go first), AWS's answer is the
        check (see create) and the two DescribeVpcAttribute reads are saved. The zones are read only
        when an endpoint is about to publish a name.
        """
        dns_creates = [name for name in creates if self.private_dns_of(name)]
        if self.module.check_mode or not dns_creates or other_changes_first:
            if self.wants_private_dns():
                self.check_dns_attributes()
        else:
            self.dns_checked_by_create = True
        if dns_creates or [name for name in enabling if self.private_dns_of(name)]:
            self.check_private_zones()

    def verify_services(self):
        looked_in = self.service_region or self.module.region
        for name in self.groups:
            if name in self.aws_names:
                continue
            region = catalog.SERVICE_NAME_PATTERN.match(name).group("region")
            if region != looked_in:
                keys = ", ".join(self.groups[name])
                self.module.fail_json(
                    msg="Service name %s (%s) belongs to region %s, but the services are looked up in %s. "
                    "Fix service_names or service_region." % (name, keys, region, looked_in)
                )
        if not self.params["verify"]:
            return
        # One call for all: Datadog's region (cross region) and the module's own (AWS services) together.
        regions = sorted(set(self.region_of(name) or self.module.region for name in self.groups))
        self.details, missing = self.aws.run("describe the Datadog endpoint services", describe_services,
                                             self.client, list(self.groups), regions if regions != [self.module.region] else None)
        if missing:
            self.module.fail_json(msg=not_found_message(missing, self.entries + self.aws_entries, looked_in), missing_service_names=missing)

    def not_found(self):
        vpc_id = self.params["vpc_id"]
        self.module.fail_json(msg="VPC %s not found in %s with these credentials. Check vpc_id and region." % (vpc_id, self.module.region))

    def check_vpc_exists(self):
        vpc_id = self.params["vpc_id"]
        if self.aws.attempt(self.client, "describe_vpcs", "read %s" % vpc_id, ("InvalidVpcID.NotFound",), VpcIds=[vpc_id])[1]:
            self.not_found()

    def check_dns_attributes(self, **extra):
        """Both VPC DNS attributes are on (private DNS needs them; AWS would refuse endpoint by endpoint)."""
        vpc_id = self.params["vpc_id"]
        try:
            off = self.aws.run("read the DNS attributes of %s" % vpc_id, vpc_dns.attributes_off, self.client, vpc_id)
        except vpc_dns.VpcNotFound:
            self.not_found()
        if off:
            self.module.fail_json(msg=self.dns_off_message(off), **extra)

    def check_private_zones(self):
        """Refuse, before the first endpoint, a private zone on the VPC that AWS would call a conflicting DNS domain."""
        vpc_id = self.params["vpc_id"]
        summaries = self.aws.token_pages(self.aws.client("route53"), "list_hosted_zones_by_vpc", "HostedZoneSummaries",
                                         "list the private hosted zones of %s" % vpc_id, VPCId=vpc_id, VPCRegion=self.module.region)
        conflicts = plan.private_zone_conflicts(
            summaries, [e for e in self.entries + self.aws_entries if self.private_dns_of(e["service_name"])])
        if conflicts:
            zones = "; ".join("%s (%s, for %s)" % (zone["Name"].rstrip("."), zone["HostedZoneId"], ", ".join(keys))
                              for zone, keys in conflicts)
            self.module.fail_json(
                msg="Private hosted zone(s) associated with %s already hold the name the endpoint's private DNS publishes: "
                "%s. AWS refuses private DNS next to them (conflicting DNS domain). Delete each zone, or disassociate %s "
                "from it, then rerun: the endpoint then answers for that name. Nothing was changed."
                % (vpc_id, zones, vpc_id),
                conflicting_zones=[{"name": zone["Name"].rstrip("."), "zone_id": zone["HostedZoneId"], "service_keys": keys}
                                   for zone, keys in conflicts])

    def check_subnets(self):
        subnet_ids = self.params["subnet_ids"]
        vpc_id = self.params["vpc_id"]
        answer, missing = self.aws.attempt(self.client, "describe_subnets", "describe subnets", ("InvalidSubnetID.NotFound",),
                                           SubnetIds=subnet_ids)
        if missing:
            # A filter answers without the unknown ones, rather than refusing: they are named (on this failing path only).
            found = self.aws.call(self.client, "describe_subnets", "describe subnets", Filters=[{"Name": "subnet-id", "Values": subnet_ids}])
            unknown = sorted(set(subnet_ids) - set(s["SubnetId"] for s in found["Subnets"]))
            self.module.fail_json(msg="Subnet not found: %s. Give subnets of %s." % (", ".join(unknown), vpc_id))
        subnets = answer["Subnets"]
        outside = ["%s (in %s)" % (s["SubnetId"], s["VpcId"]) for s in subnets if s["VpcId"] != vpc_id]
        if len(outside) == len(subnets):
            self.check_vpc_exists()  # none in it: perhaps no such VPC (a read on this failing path only)
        if outside:
            self.module.fail_json(msg="Subnets outside %s: %s. Give subnets of %s only." % (vpc_id, ", ".join(outside), vpc_id))
        zones = [s["AvailabilityZone"] for s in subnets]
        if len(set(zones)) != len(zones):
            self.module.fail_json(msg="An interface endpoint takes one subnet per availability zone; these share one: %s. Keep one of each." % ", ".join(
                "%s (%s)" % (s["SubnetId"], s["AvailabilityZone"]) for s in subnets if zones.count(s["AvailabilityZone"]) > 1))
        self.subnet_zones = dict((s["SubnetId"], s["AvailabilityZone"]) for s in subnets)
        for name, detail in self.details.items():
            if not self.region_of(name):  # cross-region services are offered in their own region's zones
                offered = set(detail.get("AvailabilityZones") or [])
                unserved = [s["SubnetId"] + " (" + s["AvailabilityZone"] + ")" for s in subnets if offered and s["AvailabilityZone"] not in offered]
                if unserved:
                    self.module.fail_json(msg="Service %s (%s) is not offered in the availability zone of subnet(s) %s; it is offered in %s."
                                          % (", ".join(self.groups[name]), name, ", ".join(unserved), ", ".join(sorted(offered))))

    def check_security_groups(self):
        group_ids = self.params["security_group_ids"]
        vpc_id = self.params["vpc_id"]
        if self.group is not None and not group_ids:
            return  # only the managed group, which admits TCP 443 by construction
        query = ({"GroupIds": group_ids} if group_ids else
                 {"Filters": [{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]})
        answer, missing = self.aws.attempt(self.client, "describe_security_groups", "describe security groups",
                                           ("InvalidGroup.NotFound", "InvalidGroupId.Malformed"), **query)
        if missing:
            found = self.aws.call(self.client, "describe_security_groups", "describe security groups",
                                  Filters=[{"Name": "group-id", "Values": group_ids}])["SecurityGroups"]
            unknown = sorted(set(group_ids) - set(g["GroupId"] for g in found))
            self.module.fail_json(msg="Security group not found: %s. Give security groups of %s." % (", ".join(unknown), vpc_id))
        groups = answer["SecurityGroups"]
        outside = ["%s (in %s)" % (g["GroupId"], g.get("VpcId")) for g in groups if g.get("VpcId") != vpc_id]
        if outside:
            self.module.fail_json(msg="Security groups outside %s: %s. Give security groups of %s only." % (vpc_id, ", ".join(outside), vpc_id))
        if self.params["validate_https_ingress"] and self.group is None and not any(plan.group_admits_https(g) for g in groups):
            which = ", ".join(g["GroupId"] for g in groups) or "the default group of %s" % vpc_id
            self.module.fail_json(
                msg="None of the security groups (%s) admits inbound TCP 443, so Agents could not reach the endpoints. "
                "Add an ingress rule for TCP 443 from the Agents' CIDRs or security group (the endpoints role can create "
                "such a group), or set validate_https_ingress=false." % which
            )

    def describe_vpc_endpoints(self, **kwargs):
        return self.aws.pages(self.client, "describe_vpc_endpoints", "VpcEndpoints", "describe VPC endpoints", **kwargs)

    def existing(self):
        return self.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [self.params["vpc_id"]]},
                {"Name": "vpc-endpoint-type", "Values": ["Interface"]},
            ]
        )

    def label(self, name):
        return "+".join(self.groups.get(name) or ["?"])

    def keys_of(self, endpoint):
        name = endpoint.get("ServiceName")
        if name in self.groups:
            return self.groups[name]
        return [e["key"] for e in self.entries if name in e["superseded_service_names"]] or ["?"]

    def report_foreign(self, endpoint, reason):
        self.foreign.append({"vpc_endpoint_id": endpoint["VpcEndpointId"], "service_name": endpoint.get("ServiceName"),
                             "service_keys": self.keys_of(endpoint), "state": plan.state_of(endpoint), "reason": reason})

    def zones_of_endpoint_subnets(self, endpoints):
        """AZs of subnets the endpoints have beyond the wanted ones (to see what adding one would clash with)."""
        unknown = sorted(set(s for e in endpoints for s in e.get("SubnetIds") or []) - set(self.subnet_zones))
        if not unknown or self.params["purge_subnets"]:
            return
        subnets = self.aws.call(self.client, "describe_subnets", "describe the subnets of the existing endpoints",
                                Filters=[{"Name": "subnet-id", "Values": unknown}])["Subnets"]
        self.subnet_zones.update((s["SubnetId"], s["AvailabilityZone"]) for s in subnets)

    # ---- present -------------------------------------------------------------------------------
    def present(self):
        self.validate()
        if self.params["validate_only"]:
            return
        existing = self.existing()
        names = list(self.groups)
        matched, extras = self.match(names, existing)
        self.adopt_superseded(matched, existing)
        doomed = []
        for extra in extras:
            if plan.is_owned(extra):  # two runs raced, or an older release: keep the oldest of ours
                doomed.append(extra)
            else:
                self.report_foreign(extra, "duplicate: %s serves this service in the VPC; this one is left alone"
                                    % matched[extra["ServiceName"]]["VpcEndpointId"])
        for ended in [e for name in names for e in plan.ended_endpoints([name], existing, self.region_of(name), self.module.region)]:
            reason = plan.failure_reason(ended)
            if plan.is_owned(ended):
                doomed.append(ended)
                self.replaced.append({"vpc_endpoint_id": ended["VpcEndpointId"], "service_keys": self.keys_of(ended),
                                      "state": plan.state_of(ended), "reason": reason})
            else:
                self.report_foreign(ended, "%s (%s), not created by this collection: left in place" % (plan.state_of(ended), reason))
        self.zones_of_endpoint_subnets([e for e in matched.values() if e])
        creates = [name for name in names if matched.get(name) is None]
        group_changes = self.group is not None and self.group.read(self.params["tags"])
        self.plan_private_dns(creates, [name for name in names if matched.get(name) is not None
                                        and not matched[name].get("PrivateDnsEnabled")], group_changes)
        if self.group is not None:
            self.ensure_group()
        # Creates first: the first change is then the one AWS checks the VPC DNS attributes on.
        for name in creates + [name for name in names if name not in creates]:
            keys = self.groups[name]
            endpoint = matched.get(name)
            before = plan.diff_view(endpoint)
            if endpoint is None:
                endpoint = self.create(name, keys, plan.generation(existing, name, self.region_of(name), self.module.region))
            else:
                endpoint = self.repair(endpoint, keys)
            self.endpoints[name] = endpoint
            after = plan.diff_view(endpoint)
            if before != after:
                self.diff["before"][self.label(name)] = before
                self.diff["after"][self.label(name)] = after
        self.delete_doomed(doomed)
        if self.params["wait"] and not self.module.check_mode:
            self.wait_until_available()

    def ensure_group(self):
        """The managed group, made or fixed before the endpoints that use it."""
        before, after = self.group.apply(self.params["tags"])
        if before != after:  # made, retagged or given rules: each shows in the views
            self.changed = True
            label = "security group %s" % self.group.name
            self.diff["before"][label] = before
            self.diff["after"][label] = after

    def delete_doomed(self, doomed):
        if not doomed:
            return
        ids = [e["VpcEndpointId"] for e in doomed]
        self.changed = True
        for endpoint in doomed:
            label = "%s %s" % (self.label(endpoint.get("ServiceName")), endpoint["VpcEndpointId"])
            self.diff["before"][label] = plan.diff_view(endpoint)
            self.diff["after"][label] = None
        if not self.module.check_mode:
            self.delete(ids)
        self.deleted.extend(ids)

    def delete(self, ids):
        answer = self.aws.call(self.client, "delete_vpc_endpoints", "delete VPC endpoints %s" % ", ".join(ids), VpcEndpointIds=ids)
        unsuccessful = [u for u in answer.get("Unsuccessful") or []
                        if (u.get("Error") or {}).get("Code") != "InvalidVpcEndpoint.NotFound"]  # gone already: fine
        if unsuccessful:
            self.deleted.extend(i for i in ids if i not in [u.get("ResourceId") for u in unsuccessful])
            self.module.fail_json(msg="Some endpoints could not be deleted: %s" % ", ".join(
                "%s: %s" % (u.get("ResourceId"), (u.get("Error") or {}).get("Message")) for u in unsuccessful), **self.result())

    def create_request(self, name, tags, token):
        request = {
            "VpcEndpointType": "Interface",
            "VpcId": self.params["vpc_id"],
            "ServiceName": name,
            "SubnetIds": self.params["subnet_ids"],
            "PrivateDnsEnabled": self.private_dns_of(name),
            "TagSpecifications": [{"ResourceType": "vpc-endpoint", "Tags": ansible_dict_to_boto3_tag_list(tags)}],
            # Same VPC, service and generation give the same token: two runs at once make one endpoint.
            "ClientToken": token,
        }
        if self.group_ids():
            request["SecurityGroupIds"] = self.group_ids()
        if self.region_of(name):
            request["ServiceRegion"] = self.region_of(name)
        return request

    def create(self, name, keys, generation):
        tags = plan.desired_tags(self.params["tags"], keys, self.site["key"], self.params["name_prefix"])
        if self.module.check_mode:
            self.changed = True
            self.created.append("+".join(keys))
            return {
                "ServiceName": name,
                "State": "pending",
                "SubnetIds": list(self.params["subnet_ids"]),
                "Groups": [{"GroupId": g} for g in self.group_ids()],
                "PrivateDnsEnabled": self.private_dns_of(name),
                "ServiceRegion": self.region_of(name),
                "Tags": ansible_dict_to_boto3_tag_list(tags),
            }
        for _attempt in range(3):
            request = self.create_request(name, tags, plan.client_token(self.params["vpc_id"], name, self.region_of(name), generation))
            answer, mismatch = self.aws.attempt(
                self.client, "create_vpc_endpoint",
                "create the endpoint for %s (%s); endpoints created before it are in the result" % (", ".join(keys), name),
                ("IdempotentParameterMismatch",), **request)
            if mismatch:
                # Another run created it at the same moment with other settings: use that one.
                self.changed = True
                return self.use_concurrent(name, keys)
            endpoint = answer["VpcEndpoint"]
            self.changed = True
            if plan.state_of(endpoint) not in plan.GONE_STATES:
                break
            generation = endpoint["VpcEndpointId"]  # the token named an old, gone endpoint: next generation
        self.created.append(endpoint["VpcEndpointId"])
        self.created_at[endpoint["VpcEndpointId"]] = time.time()
        return endpoint

    def use_concurrent(self, name, keys):
        fresh = self.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [self.params["vpc_id"]]},
                                                     {"Name": "service-name", "Values": [name]}])
        matched, _extras = self.match([name], fresh)
        if matched.get(name) is None:
            self.module.fail_json(msg="AWS answered IdempotentParameterMismatch for %s (%s) but no endpoint of it exists; rerun."
                                  % (", ".join(keys), name), **self.result())
        return self.repair(matched[name], keys)

    def repair(self, endpoint, keys):
        mark = plan.ownership(endpoint)
        endpoint_id = endpoint["VpcEndpointId"]
        if mark is None:
            self.adopted.append(endpoint_id)
            self.changed = True
        if not self.params["purge_subnets"]:
            conflicts = plan.zone_conflicts(endpoint, self.params["subnet_ids"], self.subnet_zones)
            for subnet, other in sorted(conflicts.items()):
                self.module.warn("%s (%s) keeps %s in %s: %s is not added (one subnet per availability zone). Set "
                                 "purge_subnets=true to replace it." % (endpoint_id, ", ".join(keys), other, self.subnet_zones.get(subnet), subnet))
        changes = plan.modification(
            endpoint, self.params["subnet_ids"], self.group_ids() or None, self.private_dns_of(endpoint.get("ServiceName")),
            self.params["purge_subnets"], self.params["purge_security_groups"], self.subnet_zones,
        )
        if changes:
            self.changed = True
            self.modified[endpoint_id] = changes
            if not self.module.check_mode:
                self.aws.call(self.client, "modify_vpc_endpoint", "modify %s (%s)" % (endpoint_id, ", ".join(keys)),
                              VpcEndpointId=endpoint_id, **changes)
            endpoint = plan.apply_modification(endpoint, changes)
        return self.retag(endpoint, keys, mark or catalog.OWNERSHIP_ADOPTED)

    def retag(self, endpoint, keys, mark):
        current = plan.tags_of(endpoint)
        wanted = plan.desired_tags(self.params["tags"], keys, self.site["key"], self.params["name_prefix"], mark)
        purge = self.params["purge_tags"] and mark == catalog.OWNERSHIP_CREATED  # an adopted endpoint keeps its tags
        if "Name" in current and "Name" not in (self.params["tags"] or {}):
            wanted["Name"] = current["Name"]  # a Name set by hand is kept
        to_set, to_unset = compare_aws_tags(current, wanted, purge)
        return self.apply_tags(endpoint, to_set, to_unset)

    def apply_tags(self, endpoint, to_set, to_unset):
        if not (to_set or to_unset):
            return endpoint
        self.changed = True
        endpoint_id = endpoint["VpcEndpointId"]
        self.modified.setdefault(endpoint_id, {})["Tags"] = {"set": to_set, "unset": to_unset}
        if not self.module.check_mode:
            if to_unset:
                self.aws.call(self.client, "delete_tags", "tag %s" % endpoint_id, Resources=[endpoint_id],
                              Tags=[{"Key": k} for k in to_unset])
            if to_set:
                self.aws.call(self.client, "create_tags", "tag %s" % endpoint_id, Resources=[endpoint_id],
                              Tags=ansible_dict_to_boto3_tag_list(to_set))
        tags = plan.tags_of(endpoint)
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

    def describe_text(self, endpoint):
        return "%s (%s, %s)" % (", ".join(self.keys_of(endpoint)), endpoint["VpcEndpointId"], endpoint.get("ServiceName"))

    def wait_until_available(self):
        ids = [e["VpcEndpointId"] for e in self.endpoints.values() if plan.state_of(e) != plan.READY_STATE]
        started = time.time()
        deadline = started + self.params["wait_timeout"]
        created_at = self.created_at  # endpoint id -> when this run's CreateVpcEndpoint returned
        delay = plan.next_poll(0, [created_at.get(i, started) - started for i in ids], [])
        while ids:
            remaining = deadline - time.time()
            if remaining <= 0:
                pending_text = ", ".join("%s: %s" % (self.describe_text(e), plan.state_of(e))
                                         for e in self.endpoints.values() if e.get("VpcEndpointId") in ids)
                self.module.fail_json(
                    msg="Timed out after %ss waiting for VPC endpoint(s) to become available: %s. The endpoints in the "
                    "result exist; rerun to wait again. %s" % (self.params["wait_timeout"], pending_text, SUPPORT_NOTE),
                    pending_endpoint_ids=ids, **self.result()
                )
            time.sleep(min(delay, remaining))
            fresh = self.describe_vpc_endpoints(VpcEndpointIds=ids)
            by_id = dict((e["VpcEndpointId"], e) for e in fresh)
            for name, endpoint in list(self.endpoints.items()):
                if endpoint.get("VpcEndpointId") in by_id:
                    self.endpoints[name] = by_id[endpoint["VpcEndpointId"]]
            _ready, pending, failed = plan.wait_progress(fresh)
            if failed:
                reasons = "; ".join("%s: %s" % (self.describe_text(by_id[i]), plan.failure_reason(by_id[i])) for i in failed)
                self.module.fail_json(msg="VPC endpoint(s) ended %s: %s. Rerun to replace them (the failed ones are deleted "
                                      "then); if it fails again, the reason above says what AWS refused."
                                      % ("/".join(sorted(set(plan.state_of(by_id[i]) for i in failed))), reasons),
                                      failed_endpoint_ids=failed, **self.result())
            now = time.time()
            newly_ready = [created_at.get(i, started) for i in ids if i not in pending]
            ids = pending
            delay = plan.next_poll(now - started, [created_at.get(i, started) - now for i in pending],
                                   [c - now for c in newly_ready])

    # ---- absent --------------------------------------------------------------------------------
    def absent(self):
        if self.params["validate_only"]:
            self.validate()
            return
        wanted = set(self.groups)
        doomed = []
        detach = set(self.params["security_group_ids"] or [])
        our_group = self.group.doomed() if self.group is not None else None
        if our_group:
            detach.add(our_group)  # adopted endpoints let it go before it is deleted
        releasing, users = [], []  # the interfaces of the endpoints deleted; the endpoints that keep our group
        for endpoint in self.existing():
            if endpoint.get("ServiceName") not in wanted or plan.state_of(endpoint) in ("deleted", "deleting"):
                continue
            label = "%s %s" % (self.label(endpoint["ServiceName"]), endpoint["VpcEndpointId"])
            mark = plan.ownership(endpoint)
            if mark == catalog.OWNERSHIP_CREATED:
                doomed.append(endpoint["VpcEndpointId"])
                releasing.extend(endpoint.get("NetworkInterfaceIds") or [])
                self.diff["before"][label] = plan.diff_view(endpoint)
                self.diff["after"][label] = None
                continue
            self.left_in_place.append({"vpc_endpoint_id": endpoint["VpcEndpointId"], "service_name": endpoint["ServiceName"],
                                       "service_keys": self.keys_of(endpoint),
                                       "reason": "adopted, not created by this collection: handed back" if mark else
                                       "not created by this collection"})
            if mark is None:
                self.report_foreign(endpoint, "not created by this collection: left in place")
                after = endpoint
            else:
                before = plan.diff_view(endpoint)
                after = self.hand_back(endpoint, detach)
                if plan.diff_view(after) != before:
                    self.diff["before"][label] = before
                    self.diff["after"][label] = plan.diff_view(after)
            if our_group in plan.group_ids_of(after):
                users.append(endpoint["VpcEndpointId"])
        if doomed:
            self.changed = True
            if not self.module.check_mode:
                self.delete(doomed)
            self.deleted.extend(doomed)
            # The group can go only once its endpoints are gone.
            if (self.params["wait"] or our_group) and not self.module.check_mode:
                self.wait_until_gone(doomed)
        if our_group and users:
            self.group.keep(users)
        elif our_group:
            self.changed = True
            label = "security group %s" % self.group.name
            self.diff["before"][label] = endpoint_group.view(self.group.group, self.group.name,
                                                             endpoint_group.admitted_sources(self.group.group))
            self.diff["after"][label] = None
            self.group.delete(time.time() + self.params["wait_timeout"], releasing)

    def hand_back(self, endpoint, detach):
        """An adopted endpoint stays; it loses our tags and the groups listed for detaching (if one remains)."""
        groups = set(plan.group_ids_of(endpoint))
        remove = sorted(groups & detach) if groups - detach else []
        if remove:
            self.changed = True
            changes = {"RemoveSecurityGroupIds": remove}
            self.modified[endpoint["VpcEndpointId"]] = changes
            if not self.module.check_mode:
                self.aws.call(self.client, "modify_vpc_endpoint", "detach %s from %s" % (", ".join(remove), endpoint["VpcEndpointId"]),
                              VpcEndpointId=endpoint["VpcEndpointId"], **changes)
            endpoint = plan.apply_modification(endpoint, changes)
        ours = [key for key in plan.our_tag_keys() if key in plan.tags_of(endpoint)]
        return self.apply_tags(endpoint, {}, ours)

    def wait_until_gone(self, ids):
        started = time.time()
        deadline = started + self.params["wait_timeout"]
        delay = plan.poll_delay(0)
        while ids:
            fresh = self.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [self.params["vpc_id"]]}])
            ids = [e["VpcEndpointId"] for e in fresh if e["VpcEndpointId"] in ids and plan.state_of(e) != "deleted"]
            if not ids:
                return
            if time.time() + delay > deadline:
                self.module.fail_json(msg="Timed out waiting for the deletion of %s" % ", ".join(ids), **self.result())
            time.sleep(delay)
            delay = plan.poll_delay(time.time() - started)

    # ---- result --------------------------------------------------------------------------------
    def result(self):
        endpoints, aws_endpoints = {}, {}
        for entry in self.entries:
            endpoint = self.endpoints.get(entry["service_name"])
            endpoints[entry["key"]] = plan.summary(endpoint, entry, self.details.get(entry["service_name"]))
        for entry in self.aws_entries:
            endpoint = self.endpoints.get(entry["service_name"])
            aws_endpoints[entry["key"]] = plan.summary(endpoint, entry, self.details.get(entry["service_name"]))
        return {
            "changed": self.changed,
            "endpoints": endpoints,
            "aws_endpoints": aws_endpoints,
            "created": self.created,
            "modified": self.modified,
            "deleted": self.deleted,
            "adopted": self.adopted,
            "replaced": self.replaced,
            "foreign_endpoints": self.foreign,
            "left_in_place": self.left_in_place,
            "site": self.site,
            "service_region": self.service_region,
            "security_group": self.group.result() if self.group is not None else None,
        }


def main():
    argument_spec = dict(
        site=dict(type="str", required=True),
        services=dict(type="list", elements="str", default=[]),
        datadog_services=dict(type="bool", default=True),
        aws_services=dict(type="list", elements="str", default=[], choices=[key for key, _title in catalog.AWS_SERVICES]),
        service_names=dict(type="dict", default={}),
        vpc_id=dict(type="str", required=True),
        subnet_ids=dict(type="list", elements="str"),
        security_group_ids=dict(type="list", elements="str"),
        security_group=dict(type="dict", options=endpoint_group.OPTIONS_SPEC),
        validate_https_ingress=dict(type="bool", default=True),
        private_dns_enabled=dict(type="bool", default=True),
        service_region=dict(type="str"),
        verify=dict(type="bool", default=True),
        name_prefix=dict(type="str", default="datadog-privatelink-"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge_subnets=dict(type="bool", default=False),
        purge_security_groups=dict(type="bool", default=False),
        validate_only=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    run(module, EndpointSet(module))


if __name__ == "__main__":
    main()
