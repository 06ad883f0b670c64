#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: private_path_info
short_description: Where each Agent VPC's traffic to each Datadog name goes, read from AWS
version_added: 0.1.0
description:
  - For each Agent VPC and each customer-facing name of the selected services (a wildcard through an
    example name, see C(docs/catalog.md)), answers as the Route 53 Resolver answers inside that VPC - a
    private hosted zone associated with the VPC wins (its A alias record leads to an endpoint), then the
    private DNS of an endpoint in the VPC, else the public answer, where Datadog's public CNAME of the name
    to its service's anchor is followed (the anchor's zone or endpoint then answers) - and checks the
    network path to the endpoint's addresses as AWS decides it - the peering connection active, a route
    both ways through it, the endpoint's security groups admitting TCP 443 from the Agent VPC's CIDR.
  - Each name gets a verdict and, when it is not on the private path, the cause in the words of the
    troubleshooting section of Datadog's PrivateLink guide. It is the AWS-side half of the check;
    M(datadog_privatelink.aws.intake_check) is the half run on Agent hosts.
  - Read-only. The scenario playbooks end with it.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  vpc_id:
    description: The VPC holding the Datadog endpoints, in the module's region.
    type: str
    required: true
  agent_vpcs:
    description:
      - The VPCs the Agents run in. Empty means the endpoint VPC itself (same-region and cross-region
        scenarios).
    type: list
    elements: dict
    default: []
    suboptions:
      vpc_id:
        description: The Agent VPC.
        type: str
        required: true
      region:
        description: Its region; default the module's region.
        type: str
      subnet_ids:
        description: The Agents' subnets, whose route tables must route to the endpoints; default every subnet of the VPC.
        type: list
        elements: str
      route_table_ids:
        description: The route tables that must route to the endpoints, instead of those of O(agent_vpcs[].subnet_ids).
        type: list
        elements: str
      account_id:
        description: The account that owns the VPC (informational; the same list as the peering role's C(peering_agent_vpcs) is accepted).
        type: str
      aws:
        description:
          - Credentials of the account that owns this VPC when it is not the module's (C(access_key),
            C(secret_key), C(session_token), C(profile)).
        type: dict
  port:
    description: The TCP port the Agents connect to.
    type: int
    default: 443
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog
  - datadog_privatelink.aws.datadog.read_only_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Security group rules that admit other security groups cannot be checked from here (the Agents'
    instances are not known); such a path is reported as not proven. Network ACLs are not read.
  - Troubleshooting table of the guide - U(https://docs.datadoghq.com/agent/guide/private-link/).
seealso:
  - module: datadog_privatelink.aws.intake_check
  - module: datadog_privatelink.aws.private_zones
"""

EXAMPLES = r"""
- name: Where the Agents of two peered VPCs send each Datadog service
  datadog_privatelink.aws.private_path_info:
    region: us-east-1
    site: datadoghq.com
    vpc_id: vpc-0a1b2c3d4e5f67890
    agent_vpcs:
      - vpc_id: vpc-0fedcba9876543210
        region: eu-west-1
      - vpc_id: vpc-0123456789abcdef0
        region: eu-west-1
        aws:
          profile: agents-account
  register: paths

- name: Show it
  ansible.builtin.debug:
    var: paths.summary
"""

RETURN = r"""
paths:
  description: One entry per Agent VPC and Datadog name.
  returned: always
  type: list
  elements: dict
  contains:
    vpc_id:
      description: The Agent VPC.
      type: str
    region:
      description: Its region.
      type: str
    service:
      description: The service key.
      type: str
      sample: api
    name:
      description: The Datadog host name.
      type: str
      sample: api.datadoghq.com
    answer:
      description: V(private_zone), V(endpoint_private_dns), V(no_record) (a zone answers without an A record) or V(public).
      type: str
    zone_id:
      description: The private hosted zone that answers, if any.
      type: str
    endpoint_id:
      description: The endpoint the name leads to, if any.
      type: str
    addresses:
      description: The endpoint's private addresses the name resolves to.
      type: list
      elements: str
    reachable:
      description: The network path to those addresses is open on the port (null when not proven).
      type: bool
    ok:
      description: Resolves to the endpoint and the path is open.
      type: bool
    cause:
      description: Why not, in the guide's words; null when ok.
      type: str
summary:
  description: One line per path - VPC, name, verdict, addresses, cause.
  returned: always
  type: list
  elements: str
not_private:
  description: The paths (C(vpc_id name)) that are not on the private path.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._site_args import site_argument_spec
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog, _path_plan as path_plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_plan import GONE_STATES
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._sdk_floor import require_service_regions


class Reads:
    """The reads of one run, each asked once (every Agent VPC shares the zones and the endpoint VPC's peerings)."""

    def __init__(self, aws, endpoint_vpc_id):
        self.aws = aws
        self.endpoint_vpc_id = endpoint_vpc_id
        self._records = {}
        self._peerings = None

    def vpc_cidr(self, ec2, vpc_id):
        return self.aws.call(ec2, "describe_vpcs", "describe %s" % vpc_id, VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]

    def endpoints(self, ec2, vpc_id, wanted):
        """The endpoints of wanted services in a VPC, but those being deleted."""
        found = self.aws.token_pages(ec2, "describe_vpc_endpoints", "VpcEndpoints", "describe the endpoints of %s" % vpc_id,
                                     Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        return [e for e in found if e["State"].lower() not in GONE_STATES and e["ServiceName"] in wanted]

    def peering_with(self, ec2, other):
        """The peering connection between the endpoint VPC and another VPC, the active one first (None when there is none)."""
        if self._peerings is None:
            self._peerings = []
            for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
                self._peerings += self.aws.token_pages(ec2, "describe_vpc_peering_connections", "VpcPeeringConnections",
                                                       "describe the peering connections of %s" % self.endpoint_vpc_id,
                                                       Filters=[{"Name": side, "Values": [self.endpoint_vpc_id]}])
        pairs = [p for p in self._peerings
                 if {p["RequesterVpcInfo"]["VpcId"], p["AccepterVpcInfo"]["VpcId"]} == {self.endpoint_vpc_id, other}]
        pairs.sort(key=lambda p: p["Status"]["Code"] != "active")
        return pairs[0] if pairs else None

    def a_record(self, route53_clients, zone_id, name):
        """The A record set of name in a zone, trying each client (zone owner first); None when absent."""
        if (zone_id, name) not in self._records:
            self._records[(zone_id, name)] = self._read_a_record(route53_clients, zone_id, name)
        return self._records[(zone_id, name)]

    def _read_a_record(self, route53_clients, zone_id, name):
        code = None
        for client in route53_clients:
            page, code = self.aws.attempt(client, "list_resource_record_sets", "read the A record of %s in %s" % (name, zone_id),
                                          ("AccessDenied", "NoSuchHostedZone"), HostedZoneId=zone_id, StartRecordName=name,
                                          StartRecordType="A", MaxItems="1")
            if code:
                continue
            for record in page.get("ResourceRecordSets", []):
                if record["Name"].rstrip(".").lower() == name and record["Type"] == "A":
                    return record
            return None
        self.aws.fail(AnsibleAWSError(message="none of the accounts given can (%s)" % code),
                      "read the A record of %s in %s" % (name, zone_id))


def main():
    module = AnsibleAWSModule(
        argument_spec=site_argument_spec(
            vpc_id=dict(type="str", required=True),
            agent_vpcs=dict(type="list", elements="dict", default=[], options=dict(
                vpc_id=dict(type="str", required=True),
                region=dict(type="str"),
                subnet_ids=dict(type="list", elements="str"),
                route_table_ids=dict(type="list", elements="str"),
                account_id=dict(type="str"),
                aws=dict(type="dict", no_log=True),
            )),
            port=dict(type="int", default=443),
        ),
        supports_check_mode=True,
    )
    params = module.params
    region = module.region
    try:
        entries = catalog.service_entries(params["site"], params["services"], params["service_names"])
    except catalog.CatalogError as error:
        module.fail_json(msg=str(error))
    site_region = entries[0]["region"]
    require_service_regions(module, region != site_region)
    paths = []
    aws = AwsCalls(module, lambda: {"paths": paths})
    reads = Reads(aws, params["vpc_id"])
    ec2 = aws.client("ec2", region)
    home_route53 = aws.client("route53", region)
    port = params["port"]
    wanted = {}
    for entry in entries:
        for name in [entry["service_name"]] + entry["superseded_service_names"]:
            wanted[name] = entry
    agent_vpcs = params["agent_vpcs"] or [{"vpc_id": params["vpc_id"], "region": region, "subnet_ids": None,
                                           "route_table_ids": None, "aws": None}]
    agents = []
    for agent in agent_vpcs:  # clients first: botocore makes them one at a time
        agent_region = agent.get("region") or region
        agents.append(dict(agent=agent, region=agent_region, ec2=aws.client("ec2", agent_region, agent.get("aws")),
                           route53=aws.client("route53", region, agent.get("aws")), same_vpc=agent["vpc_id"] == params["vpc_id"]))
    peered = [a for a in agents if not a["same_vpc"]]

    # Every VPC's reads at once: the endpoint VPC's, then each Agent VPC's.
    def tables_of(client, vpc_id):
        return lambda: aws.call(client, "describe_route_tables", "describe the route tables of %s" % vpc_id,
                                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]

    def zones_of(a):
        return lambda: aws.token_pages(a["route53"], "list_hosted_zones_by_vpc", "HostedZoneSummaries",
                                       "list the private zones of %s" % a["agent"]["vpc_id"],
                                       VPCId=a["agent"]["vpc_id"], VPCRegion=a["region"])

    jobs = [lambda: reads.vpc_cidr(ec2, params["vpc_id"]), lambda: reads.endpoints(ec2, params["vpc_id"], wanted)]
    if peered:
        jobs += [tables_of(ec2, params["vpc_id"]), lambda: reads.peering_with(ec2, None)]
    for a in agents:
        jobs.append(zones_of(a))
        if not a["same_vpc"]:
            jobs += [(lambda a=a: reads.vpc_cidr(a["ec2"], a["agent"]["vpc_id"])),
                     (lambda a=a: reads.endpoints(a["ec2"], a["agent"]["vpc_id"], wanted)),
                     tables_of(a["ec2"], a["agent"]["vpc_id"])]
    answers = iter(aws.together(jobs))
    endpoint_cidr, endpoints = next(answers), next(answers)
    endpoint_tables = None
    if peered:
        endpoint_tables, _first = next(answers), next(answers)
    for a in agents:
        a["zones"] = [{"Id": z["HostedZoneId"], "Name": z["Name"]} for z in next(answers)]
        if a["same_vpc"]:
            a.update(cidr=endpoint_cidr, here=endpoints, network=None)
        else:
            a.update(cidr=next(answers), here=next(answers))
            a["network"] = (reads.peering_with(ec2, a["agent"]["vpc_id"]), next(answers))

    # What the endpoints lead to, and the A record each Agent VPC's zone holds for each name, at once.
    eni_ids = [i for e in endpoints for i in e.get("NetworkInterfaceIds", [])]
    group_ids = sorted(set(g["GroupId"] for e in endpoints for g in e.get("Groups", [])))
    service_names = sorted(set(e["ServiceName"] for e in endpoints))
    jobs = [lambda: aws.call(ec2, "describe_network_interfaces", "describe the endpoints' network interfaces",
                             NetworkInterfaceIds=eni_ids)["NetworkInterfaces"] if eni_ids else [],
            lambda: aws.call(ec2, "describe_security_groups", "describe the endpoints' security groups",
                             GroupIds=group_ids)["SecurityGroups"] if group_ids else [],
            lambda: aws.token_pages(ec2, "describe_vpc_endpoint_services", "ServiceDetails", "describe the endpoints' services",
                                    ServiceNames=service_names, **({"ServiceRegions": [site_region]} if region != site_region else {}))
            if service_names else []]
    records = sorted(set((zone["Id"], name) for a in agents for entry in entries for name in entry["check_names"]
                         for zone in [path_plan.zone_for(name, a["zones"])] if zone))
    route53_clients = []  # the zones' account first, then each other account once
    for client in [home_route53] + [a["route53"] for a in agents]:
        if all(client is not known for known in route53_clients):
            route53_clients.append(client)
    jobs += [(lambda zone_id=zone_id, name=name: reads.a_record(route53_clients, zone_id, name)) for zone_id, name in records]
    interfaces, found_groups, details = aws.together(jobs)[:3]
    addresses = dict((eni["NetworkInterfaceId"], eni["PrivateIpAddress"]) for eni in interfaces)
    groups = dict((g["GroupId"], g) for g in found_groups)
    names = dict((e["service_name"], [e["zone_name"]]) for e in entries)
    for detail in details:
        names.setdefault(detail["ServiceName"], []).append(detail.get("PrivateDnsName") or "")

    for a in agents:
        agent = a["agent"]
        for entry in entries:
            for name in entry["check_names"]:
                found = follow(params["site"], name, a["zones"], [home_route53, a["route53"]], a["here"],
                               endpoints + ([] if a["same_vpc"] else a["here"]), names, reads)
                paths.append(judge(entry, agent, a["region"], a["cidr"], found, addresses, groups, a["network"],
                                   endpoint_tables, port, name))
    not_private = ["%s %s" % (p["vpc_id"], p["name"]) for p in paths if not p["ok"]]
    summary = ["%s | %s | %s | %s | %s" % (p["vpc_id"], p["name"], "private" if p["ok"] else p["answer"],
                                           ",".join(p["addresses"]) or "-", p["cause"] or "")
               for p in paths]
    module.exit_json(changed=False, paths=paths, summary=summary, not_private=not_private)


def follow(site, name, zones, route53_clients, endpoints_here, all_endpoints, names, reads):
    """path_plan.answer for a name, through Datadog's public CNAMEs (a name to its anchor) while the answer is public."""
    for _hop in range(MAX_CNAME_HOPS):
        zone = path_plan.zone_for(name, zones)
        records = {zone["Id"]: reads.a_record(route53_clients, zone["Id"], name)} if zone else {}
        found = path_plan.answer(name, zones, records, endpoints_here, all_endpoints, names)
        target = catalog.public_target(site, name) if found["kind"] == "public" else None
        if not target:
            return found
        name = target
    return found


# Datadog's chains are short (the versioned metrics host -> metrics' host -> its anchor).
MAX_CNAME_HOPS = 4


def judge(entry, agent, agent_region, agent_cidr, found, addresses, groups, network, endpoint_tables, port, name):
    endpoint = found.get("endpoint")
    path = dict(vpc_id=agent["vpc_id"], region=agent_region, service=entry["key"], name=name, answer=found["kind"],
                zone_id=(found.get("zone") or {}).get("Id"), endpoint_id=(endpoint or {}).get("VpcEndpointId"),
                addresses=sorted(addresses[i] for i in (endpoint or {}).get("NetworkInterfaceIds", []) if i in addresses),
                reachable=None, ok=False, cause=None)
    zone_name = (found.get("zone") or {}).get("Name", name).rstrip(".")
    if found["kind"] == "public":
        zone = entry["zone_name"] if name == entry["zone_name"] else "%s (its anchor %s)" % (name, entry["zone_name"]) \
            if entry["anchor"] else name
        path["cause"] = ("resolves to the public address: no private hosted zone for %s is associated with %s, and no "
                         "endpoint of %s there has private DNS on" % (zone, agent["vpc_id"], entry["key"]))
        return path
    if found["kind"] == "no_record":
        path["cause"] = "the private hosted zone %s answers for %s but holds no A record for it" % (zone_name, agent["vpc_id"])
        return path
    if endpoint is None:
        path["cause"] = ("the A record of the private hosted zone %s does not lead to a Datadog endpoint of this "
                         "scenario" % zone_name)
        return path
    problems = []
    if network is not None:
        peering, agent_tables = network
        peering_id = (peering or {}).get("VpcPeeringConnectionId")
        status = ((peering or {}).get("Status") or {}).get("Code")
        if status != "active":
            problems.append("no active VPC peering connection between %s and the endpoint VPC (%s)"
                            % (agent["vpc_id"], "%s is %s" % (peering_id, status) if peering else "none"))
        else:
            serving = ([t for t in agent_tables if t["RouteTableId"] in agent["route_table_ids"]]
                       if agent.get("route_table_ids") else path_plan.tables_serving(agent_tables, agent.get("subnet_ids")))
            for address in path["addresses"][:1]:
                problems += path_plan.route_problems(serving, address, peering_id, agent["vpc_id"], address)
            endpoint_serving = path_plan.tables_serving(endpoint_tables, endpoint.get("SubnetIds"))
            problems += path_plan.route_problems(endpoint_serving, agent_cidr.split("/")[0], peering_id,
                                                 endpoint["VpcId"], agent_cidr)
    ingress = path_plan.ingress_problem([groups[g["GroupId"]] for g in endpoint.get("Groups", []) if g["GroupId"] in groups],
                                        port, agent_cidr)
    if ingress:
        problems.append(ingress)
    path["reachable"] = not problems
    path["ok"] = not problems and bool(path["addresses"])
    if problems:
        path["cause"] = "resolves to the endpoint, but TCP %d cannot get there: %s" % (port, "; ".join(problems))
    return path


if __name__ == "__main__":
    main()
