#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: private_zone_association
short_description: Associate a VPC of this account with Datadog private zones owned by another account
version_added: 0.1.0
description:
  - The second half of a cross-account association. The account that owns the Datadog private
    hosted zones authorizes the VPC (M(datadog_privatelink.aws.private_zones) with
    C(vpcs[].account_id)); this module, run with the credentials of the account that owns the
    VPC, associates the VPC with every zone. Running M(datadog_privatelink.aws.private_zones)
    again then deletes the authorizations that were used.
  - Reads the VPC's current zones with C(ListHostedZonesByVPC) (one call) and associates only
    what is missing. An association a concurrent run made counts as done; a VPC already
    associated with another private zone of the same name is refused, naming the VPC's zones.
  - Checks C(enableDnsSupport) and C(enableDnsHostnames) on the VPC; refuses, or turns them on
    with O(enable_vpc_dns=true).
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  zone_ids:
    description: The hosted zone ids (the C(zone_id) of each zone in the result of private_zones).
    type: list
    elements: str
    required: true
  vpc_id:
    description: The VPC of this account to associate.
    type: str
    required: true
  vpc_region:
    description: The VPC's region. Defaults to the module's region.
    type: str
  enable_vpc_dns:
    description: Turn on the VPC's DNS attributes instead of refusing.
    type: bool
    default: false
  state:
    description: V(present) associates, V(absent) disassociates the VPC from the zones.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: datadog_privatelink.aws.private_zones
"""

EXAMPLES = r"""
- name: With the Agents' account, associate its VPC with the Datadog zones of the endpoint account
  datadog_privatelink.aws.private_zone_association:
    profile: agents-account
    region: eu-west-1
    zone_ids: "{{ datadog_zones.zones | dict2items | map(attribute='value.zone_id') | list }}"
    vpc_id: vpc-0aaaabbbbccccdddd
"""

RETURN = r"""
associated:
  description: Zone ids the VPC was associated with by this run.
  returned: always
  type: list
  elements: str
disassociated:
  description: Zone ids the VPC was disassociated from by this run.
  returned: always
  type: list
  elements: str
zones:
  description: The VPC's zones among O(zone_ids) after the run, with their names when known.
  returned: always
  type: list
  elements: dict
vpc_dns_enabled:
  description: DNS attributes turned on.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _vpc_dns as vpc_dns
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import Converging, run
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._zone_plan import credentials_problem


def list_vpc_zones(aws, route53, vpc_id, region):
    """{zone id: name} of the private zones the VPC is associated with (every account's)."""
    summaries = aws.token_pages(route53, "list_hosted_zones_by_vpc", "HostedZoneSummaries", "list the hosted zones of %s" % vpc_id,
                                VPCId=vpc_id, VPCRegion=region)
    return dict((s["HostedZoneId"].split("/")[-1], s.get("Name", "").rstrip(".")) for s in summaries)


class Association(Converging):
    """The associations of one VPC with zones, made with the VPC's own account (present) or removed (absent)."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.vpc_id = params["vpc_id"]
        self.region = params["vpc_region"] or module.region
        self.zone_ids = [z.split("/")[-1] for z in params["zone_ids"]]
        self.out = dict(changed=False, associated=[], disassociated=[], zones=[], vpc_dns_enabled=[])
        self.diff = {"before": [], "after": []}  # lines (_runner)
        self.aws = AwsCalls(module, self.result, self.hint)
        self.route53 = self.aws.client("route53")
        self.ec2 = self.aws.client("ec2", self.region)

    def hint(self, error):
        problem = credentials_problem(error)
        return problem and ("%s. Give this task the credentials of the account that owns %s (access_key and secret_key, "
                            "session_token, profile, or the AWS_* environment variables)" % (problem, self.vpc_id))

    def present(self):
        try:
            off = self.aws.run("read the DNS attributes of %s" % self.vpc_id, vpc_dns.attributes_off, self.ec2, self.vpc_id)
        except vpc_dns.VpcNotFound:
            self.module.fail_json(msg="VPC %s not found in %s with these credentials: run this task with the account "
                                  "that owns the VPC." % (self.vpc_id, self.region))
        if off and not self.module.params["enable_vpc_dns"]:
            self.module.fail_json(msg=vpc_dns.refusal(self.vpc_id, off, self.region))
        for attribute in off:
            self.out["changed"] = True
            self.out["vpc_dns_enabled"].append(attribute)
            if not self.module.check_mode:
                self.aws.run("turn on %s of %s" % (attribute, self.vpc_id), vpc_dns.turn_on, self.ec2, self.vpc_id, attribute)
        self.converge(True)

    def converge(self, present):
        vpc_id, region, result = self.vpc_id, self.region, self.out
        current = list_vpc_zones(self.aws, self.route53, vpc_id, region)
        todo = [z for z in self.zone_ids if (z not in current) == present]
        key, operation = ("associated", "associate_vpc_with_hosted_zone") if present else ("disassociated", "disassociate_vpc_from_hosted_zone")
        for zone_id in todo:
            result["changed"] = True
            result[key].append(zone_id)
            if self.module.check_mode:
                continue
            _answer, code = self.aws.attempt(self.route53, operation, "change the association of %s with %s" % (vpc_id, zone_id),
                                             ("NotAuthorizedException", "ConflictingDomainExists", "VPCAssociationNotFound"),
                                             HostedZoneId=zone_id, VPC={"VPCRegion": region, "VPCId": vpc_id})
            if code is None:
                continue
            if code == "NotAuthorizedException":
                self.module.fail_json(msg="Zone %s has no association authorization for %s (%s): run "
                                      "datadog_privatelink.aws.private_zones with this VPC (and its account_id) in vpcs first, "
                                      "with the zones' account." % (zone_id, vpc_id, region), **self.result())
            now = list_vpc_zones(self.aws, self.route53, vpc_id, region)
            if (zone_id in now) == present:
                continue  # a racing run made this very change
            others = ", ".join("%s (%s)" % (name, z) for z, name in sorted(now.items())) or "none listed"
            self.module.fail_json(msg="VPC %s (%s) is already associated with another private zone of the name of zone %s, and a "
                                  "VPC resolves a name through one zone only. Its zones: %s. Disassociate the one that is not "
                                  "Datadog's (or delete it), then run again." % (vpc_id, region, zone_id, others), **self.result())

        after = (set(current) | set(result["associated"])) - set(result["disassociated"])
        result["zones"] = [{"zone_id": z, "name": current.get(z)} for z in self.zone_ids if z in after]
        self.diff["before"] = ["zone %s associated with %s (%s)" % (z, vpc_id, region) for z in self.zone_ids if z in current]
        self.diff["after"] = ["zone %s associated with %s (%s)" % (z, vpc_id, region) for z in self.zone_ids if z in after]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            zone_ids=dict(type="list", elements="str", required=True),
            vpc_id=dict(type="str", required=True),
            vpc_region=dict(type="str"),
            enable_vpc_dns=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    run(module, Association(module))


if __name__ == "__main__":
    main()
