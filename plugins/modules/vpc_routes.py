#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vpc_routes
short_description: Add or remove exact routes through VPC peering connections, touching no other route
version_added: 0.1.0
description:
  - Ensures a set of routes (route table, destination CIDR, VPC peering connection) in one
    region and account, in one call - one C(DescribeRouteTables) for all the tables, then
    C(CreateRoute) or C(DeleteRoute) for exactly the routes given.
  - Unlike M(amazon.aws.ec2_vpc_route_table), it never rewrites a table - other routes, subnet
    associations and tags are not read back nor written - and it does not pause after a change.
  - A destination already routed through something else is refused (nothing is changed), never
    replaced - except a blackhole route left by a deleted peering connection, which is replaced.
    With O(state=absent), a route is deleted only when it goes through the given peering connection.
  - Plans with the same rules as M(datadog_privatelink.aws.vpc_peerings), which the C(peering) role uses.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  routes:
    description: The routes.
    type: list
    elements: dict
    required: true
    suboptions:
      route_table_id:
        description: The route table.
        type: str
        required: true
      destination_cidr:
        description: The IPv4 destination.
        type: str
        required: true
      vpc_peering_connection_id:
        description: The peering connection the traffic goes through.
        type: str
        required: true
      vpc_id:
        description: When given, the route table must belong to this VPC.
        type: str
  state:
    description: V(present) adds the missing routes; V(absent) deletes those that go through their peering connection.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: amazon.aws.ec2_vpc_route_table
"""

EXAMPLES = r"""
- name: Route the Agent VPC's CIDR through the peering connection, in two tables
  datadog_privatelink.aws.vpc_routes:
    region: us-east-1
    routes:
      - {route_table_id: rtb-0123456789abcdef0, destination_cidr: 10.50.0.0/16, vpc_peering_connection_id: pcx-0aaa1111bbbb22223}
      - {route_table_id: rtb-0fedcba9876543210, destination_cidr: 10.50.0.0/16, vpc_peering_connection_id: pcx-0aaa1111bbbb22223}

- name: Remove them (only if they still go through that connection)
  datadog_privatelink.aws.vpc_routes:
    region: us-east-1
    state: absent
    routes:
      - {route_table_id: rtb-0123456789abcdef0, destination_cidr: 10.50.0.0/16, vpc_peering_connection_id: pcx-0aaa1111bbbb22223}
"""

RETURN = r"""
added:
  description: Routes created (check mode, that would be), as given.
  returned: always
  type: list
  elements: dict
removed:
  description: Routes deleted (check mode, that would be), as given.
  returned: always
  type: list
  elements: dict
unchanged:
  description: Routes already as wanted.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils import ec2 as aws_ec2
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _peering_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import Converging, run


class Routes(Converging):
    """Exact routes through peering connections, made (present) or removed (absent)."""

    def __init__(self, module):
        self.module = module
        self.routes = [dict((k, v) for k, v in r.items() if v is not None) for r in module.params["routes"]]
        self.out = dict(changed=False, added=[], removed=[], unchanged=[])
        self.diff = {"before": [], "after": []}  # lines (_runner)
        self.aws = AwsCalls(module, self.result)
        self.client = self.aws.client("ec2")

    def converge(self, present):
        table_ids = sorted(set(r["route_table_id"] for r in self.routes))
        if not table_ids:
            return
        # Filtered rather than by id: an unknown id is then reported by name instead of failing the whole call.
        tables = self.aws.run("describe route tables %s" % ", ".join(table_ids), aws_ec2.describe_route_tables, self.client,
                              Filters=[{"Name": "route-table-id", "Values": table_ids}])
        routes_plan = plan.plan_routes(tables, self.routes, present)
        if routes_plan["missing"]:
            self.module.fail_json(msg="Route table not found in %s: %s." % (self.module.region, ", ".join(routes_plan["missing"])))
        if routes_plan["wrong_vpc"]:
            self.module.fail_json(msg="Route tables outside their VPC: %s." % ", ".join(routes_plan["wrong_vpc"]))
        self.out["unchanged"] = routes_plan["unchanged"]
        if routes_plan["conflicts"]:
            self.module.fail_json(msg="Routes to the same destination through something else exist; they are not replaced: %s."
                                  % "; ".join(routes_plan["conflicts"]), **self.result())

        for route in routes_plan["todo"]:
            self.out["changed"] = True
            self.out["added" if present else "removed"].append(dict((k, v) for k, v in route.items() if k != "replace"))
            if self.module.check_mode:
                continue
            what = "%s the route to %s in %s; the routes done before it are in the result" % (
                "create" if present else "delete", route["destination_cidr"], route["route_table_id"])
            if not present:
                self.aws.run(what, aws_ec2.delete_route, self.client, route["route_table_id"],
                             DestinationCidrBlock=route["destination_cidr"])
            else:
                self.aws.run(what, aws_ec2.replace_route if route.get("replace") else aws_ec2.create_route, self.client,
                             route["route_table_id"], DestinationCidrBlock=route["destination_cidr"],
                             VpcPeeringConnectionId=route["vpc_peering_connection_id"])
        before = self.out["unchanged"] if present else self.out["removed"]
        after = self.out["unchanged"] + self.out["added"] if present else []
        self.diff["before"] = ["route %s via %s" % (plan.route_text(r), r["vpc_peering_connection_id"]) for r in before]
        self.diff["after"] = ["route %s via %s" % (plan.route_text(r), r["vpc_peering_connection_id"]) for r in after]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            routes=dict(type="list", elements="dict", required=True, options=dict(
                route_table_id=dict(type="str", required=True),
                destination_cidr=dict(type="str", required=True),
                vpc_peering_connection_id=dict(type="str", required=True),
                vpc_id=dict(type="str"),
            )),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        supports_check_mode=True,
    )
    run(module, Routes(module))


if __name__ == "__main__":
    main()
