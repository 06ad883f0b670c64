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
    replaced. With O(state=absent), a route is deleted only when it goes through the given
    peering connection.
  - Used by the C(peering) role, on each side of each peering connection.
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

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def route_target(route):
    """The id a route goes through (peering connection, gateway, ...), or its state."""
    for key in sorted(route):
        if key.endswith("Id") and key not in ("DestinationPrefixListId",) and route[key]:
            return route[key]
    return route.get("State", "another route")


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
    routes = [dict((k, v) for k, v in r.items() if v is not None) for r in module.params["routes"]]
    present = module.params["state"] == "present"
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    table_ids = sorted(set(r["route_table_id"] for r in routes))
    result = dict(changed=False, added=[], removed=[], unchanged=[])
    if not table_ids:
        module.exit_json(**result)

    try:
        tables = client.describe_route_tables(aws_retry=True, RouteTableIds=table_ids)["RouteTables"]
    except is_boto3_error_code("InvalidRouteTableID.NotFound") as e:
        module.fail_json(msg="Route table not found in %s: %s" % (module.region, e.response["Error"].get("Message")))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not describe route tables %s" % ", ".join(table_ids))
    by_id = dict((t["RouteTableId"], t) for t in tables)

    wrong_vpc = ["%s (in %s, not %s)" % (r["route_table_id"], by_id[r["route_table_id"]]["VpcId"], r["vpc_id"])
                 for r in routes if r.get("vpc_id") and by_id[r["route_table_id"]]["VpcId"] != r["vpc_id"]]
    if wrong_vpc:
        module.fail_json(msg="Route tables outside their VPC: %s." % ", ".join(sorted(set(wrong_vpc))))

    todo, conflicts = [], []
    for route in routes:
        current = next((c for c in by_id[route["route_table_id"]].get("Routes", [])
                        if c.get("DestinationCidrBlock") == route["destination_cidr"]), None)
        ours = current is not None and current.get("VpcPeeringConnectionId") == route["vpc_peering_connection_id"]
        if present and ours or not present and not ours:
            result["unchanged"].append(route)
        elif present and current is not None:
            conflicts.append("%s routes %s through %s" % (route["route_table_id"], route["destination_cidr"], route_target(current)))
        else:
            todo.append(route)
    if conflicts:
        module.fail_json(msg="Routes to the same destination through something else exist; they are not replaced: %s."
                         % "; ".join(conflicts), **result)

    for route in todo:
        result["changed"] = True
        result["added" if present else "removed"].append(route)
        if module.check_mode:
            continue
        try:
            if present:
                client.create_route(aws_retry=True, RouteTableId=route["route_table_id"], DestinationCidrBlock=route["destination_cidr"],
                                    VpcPeeringConnectionId=route["vpc_peering_connection_id"])
            else:
                client.delete_route(aws_retry=True, RouteTableId=route["route_table_id"], DestinationCidrBlock=route["destination_cidr"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Could not %s the route to %s in %s; the routes done before it are in the result"
                                 % ("create" if present else "delete", route["destination_cidr"], route["route_table_id"]), **result)
    if module._diff:
        result["diff"] = {
            "before": {"routes": sorted("%s %s" % (r["route_table_id"], r["destination_cidr"]) for r in
                                        (result["unchanged"] if present else result["removed"]))},
            "after": {"routes": sorted("%s %s" % (r["route_table_id"], r["destination_cidr"]) for r in
                                       (result["unchanged"] + result["added"] if present else []))},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
