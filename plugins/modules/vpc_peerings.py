#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vpc_peerings
short_description: Peer the Datadog endpoint VPC with Agent VPCs - connections, exact routes both ways, TCP 443 rules
version_added: 0.1.0
description:
  - For the peered-region scenario (endpoints in Datadog's region, Agents in other VPCs, regions or
    accounts), ensures in one call that the endpoint VPC O(vpc_id) is peered with every VPC of
    O(peers) and with nothing else this collection made.
  - For each peer, requests a peering connection from the endpoint VPC and accepts it on the
    peer's side (with the peer's O(peers[].aws) credentials for another account). A live
    connection that already joins the two VPCs - requested by hand or by another tool, from
    either side - is adopted instead of duplicated, listed in RV(adopted) and tagged
    C(datadog-privatelink:ownership=adopted); one this collection requested is tagged
    C(datadog-privatelink:ownership=created).
  - Adds the exact routes through each connection both ways - the peer's CIDRs in the endpoint
    VPC's route tables, the endpoint VPC's CIDRs in the peer's - and nothing else; other routes,
    associations and tags of the tables are never rewritten. Without route tables given, the
    tables associated with the VPC's subnets and its main table are used (and reported); a VPC
    without any is refused.
  - Admits TCP 443 from each peer CIDR on every group of O(security_group_ids) (the groups the
    endpoints actually use, made by the C(endpoints) role or given by the user), one rule per
    CIDR tagged C(datadog-privatelink:rule-owner=datadog-privatelink:peering), added and
    revoked rule by rule; a CIDR another rule already admits on 443 gets no rule (RV(covered)).
  - Declarative - with O(purge_peers=true), a peer taken off O(peers) loses its connection (if
    this collection requested it), the routes through it and its TCP 443 rules, and nothing
    else. An adopted connection is never deleted - it is handed back (its ownership tags
    removed) with its routes.
  - Everything is read and checked first - VPCs, accounts, overlapping CIDRs, route tables,
    routes to the same CIDR through something else (refused, never replaced; only a blackhole
    left by a deleted peering connection is replaced) - and nothing is changed until every check
    has passed. Check mode predicts the changes, with a placeholder id for a connection to request.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  vpc_id:
    description: The endpoint VPC (the VPC of the Datadog endpoints), in O(region).
    type: str
    required: true
  route_table_ids:
    description:
      - Route tables of the endpoint VPC that get a route to every peer CIDR.
      - Empty means the tables associated with its subnets and its main table.
    type: list
    elements: str
    default: []
  cidrs:
    description: CIDRs of the endpoint VPC routed from the peers' side. Empty means all its IPv4 CIDR blocks.
    type: list
    elements: str
    default: []
  security_group_ids:
    description:
      - Security groups of the endpoint VPC that admit TCP 443 from every peer CIDR (the endpoints' groups).
      - Empty means no rule is written.
    type: list
    elements: str
    default: []
  peers:
    description: The Agent VPCs peered with the endpoint VPC, in any region or account.
    type: list
    elements: dict
    default: []
    suboptions:
      vpc_id:
        description: The Agent VPC.
        type: str
        required: true
      region:
        description: Its region. Default O(region).
        type: str
      account_id:
        description:
          - Its AWS account, checked against the VPC's owner. Default the account of its O(peers[].aws)
            credentials, else the endpoint's account.
        type: str
      route_table_ids:
        description:
          - Its route tables that get a route to the endpoint VPC's CIDRs.
          - Empty means the tables associated with its subnets and its main table.
        type: list
        elements: str
      cidrs:
        description: Its CIDRs, routed from the endpoint side and admitted on 443. Empty means all its IPv4 CIDR blocks.
        type: list
        elements: str
      aws:
        description:
          - AWS options for that VPC's account, when it is not the endpoint's; used to read its VPC and
            route tables, accept the connection and route on its side.
          - Credentials given here replace the module's (they are never mixed).
        type: dict
        suboptions:
          profile:
            description: Named profile.
            type: str
          access_key:
            description: Access key id.
            type: str
          secret_key:
            description: Secret access key.
            type: str
          session_token:
            description: Session token of temporary credentials.
            type: str
          endpoint_url:
            description: URL of the EC2 API to use instead of AWS's.
            type: str
  purge_peers:
    description:
      - Also remove what this collection made for VPCs peered with O(vpc_id) that O(peers) no longer lists
        (connections it requested, routes through them, its TCP 443 rules); adopted connections are handed back.
    type: bool
    default: true
  state:
    description:
      - V(present) peers the listed VPCs.
      - V(absent) removes, for the listed VPCs, the connection this collection requested with the routes
        through it and its TCP 443 rules; an adopted connection is handed back, a connection this
        collection does not hold is left alone.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description: Tags of the connections this module requests; the ownership tags and C(Name) are added.
    type: dict
    default: {}
  name_prefix:
    description: Prefix of the connections' C(Name) tag, followed by the peer VPC id.
    type: str
    default: datadog-privatelink-
  accept_timeout:
    description: Seconds to wait for a new cross-region connection to reach the peer's region before accepting it.
    type: int
    default: 60
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs, in the endpoint account, C(ec2:DescribeVpcs), C(ec2:DescribeVpcPeeringConnections),
    C(ec2:DescribeRouteTables), C(ec2:DescribeSecurityGroups), C(ec2:DescribeSecurityGroupRules),
    C(ec2:CreateVpcPeeringConnection), C(ec2:DeleteVpcPeeringConnection), C(ec2:CreateTags),
    C(ec2:DeleteTags), C(ec2:CreateRoute), C(ec2:ReplaceRoute), C(ec2:DeleteRoute),
    C(ec2:AuthorizeSecurityGroupIngress) and C(ec2:RevokeSecurityGroupIngress); in each peer
    account, C(ec2:DescribeVpcs), C(ec2:DescribeRouteTables), C(ec2:AcceptVpcPeeringConnection),
    C(ec2:CreateRoute) and C(ec2:DeleteRoute).
  - Routes in another account's VPC taken off O(peers) cannot be removed without that account's
    credentials; they are reported in a warning (they become blackholes once the connection is deleted).
seealso:
  - module: datadog_privatelink.aws.vpc_routes
  - module: amazon.aws.ec2_vpc_peering
  - name: Connect to Datadog over AWS PrivateLink (peered VPCs)
    description: Datadog's guide, with the inter-region peering setup.
    link: https://docs.datadoghq.com/agent/guide/private-link/
"""

EXAMPLES = r"""
- name: Peer the endpoint VPC with two Agent VPCs, one in another region and account
  datadog_privatelink.aws.vpc_peerings:
    region: us-east-1
    vpc_id: vpc-0123456789abcdef0
    security_group_ids: [sg-0123456789abcdef0]
    peers:
      - vpc_id: vpc-0aaaaaaaaaaaaaaaa
        region: eu-west-1
      - vpc_id: vpc-0bbbbbbbbbbbbbbbb
        region: ap-northeast-1
        account_id: "222222222222"
        route_table_ids: [rtb-0cccccccccccccccc]
        aws:
          profile: agents-account

- name: Remove the peering of one Agent VPC only (keeping the others, purge_peers off)
  datadog_privatelink.aws.vpc_peerings:
    region: us-east-1
    vpc_id: vpc-0123456789abcdef0
    security_group_ids: [sg-0123456789abcdef0]
    state: absent
    purge_peers: false
    peers:
      - {vpc_id: vpc-0aaaaaaaaaaaaaaaa, region: eu-west-1}
"""

RETURN = r"""
peers:
  description: One entry per listed peer, as it is afterwards (in check mode, as it would be).
  returned: always
  type: list
  elements: dict
  contains:
    vpc_id:
      description: The peer VPC.
      type: str
    region:
      description: Its region.
      type: str
    account_id:
      description: Its account (the VPC's owner).
      type: str
    cross_account:
      description: Whether it is another account than the endpoint VPC's.
      type: bool
    cidrs:
      description: Its CIDRs routed and admitted.
      type: list
      elements: str
    peering_connection_id:
      description: The connection (C(pcx-to-be-requested) in check mode for a new one).
      type: str
    status:
      description: The connection's status code (C(deleted) once removed).
      type: str
    ownership:
      description: V(created) or V(adopted), or null for a connection this collection does not hold.
      type: str
    owned:
      description: Whether this collection holds the connection (created or adopted).
      type: bool
    route_table_ids:
      description: Its route tables used (given or found).
      type: list
      elements: str
    route_tables_found:
      description: True when its route tables were not given but found (subnet associations and main table).
      type: bool
    routes_added:
      description: Routes added for it on both sides (C(route_table_id), C(destination)).
      type: list
      elements: dict
    routes_removed:
      description: Routes removed for it on both sides.
      type: list
      elements: dict
    ingress_cidrs_added:
      description: Its CIDRs that got a TCP 443 rule.
      type: list
      elements: str
    ingress_cidrs_removed:
      description: Its CIDRs whose TCP 443 rule was revoked.
      type: list
      elements: str
  sample:
    - vpc_id: vpc-0aaaaaaaaaaaaaaaa
      region: eu-west-1
      account_id: "123456789012"
      cross_account: false
      cidrs: [10.60.0.0/16]
      peering_connection_id: pcx-0123456789abcdef0
      status: active
      ownership: created
      owned: true
      route_table_ids: [rtb-0cccccccccccccccc]
      route_tables_found: true
      routes_added: [{route_table_id: rtb-0cccccccccccccccc, destination: 10.20.0.0/16}]
      routes_removed: []
      ingress_cidrs_added: [10.60.0.0/16]
      ingress_cidrs_removed: []
endpoint_route_table_ids:
  description: The endpoint VPC's route tables used (given or found).
  returned: always
  type: list
  elements: str
created:
  description: Ids of the connections requested by this run.
  returned: always
  type: list
  elements: str
adopted:
  description: Ids of existing connections (made by hand or another tool) this run adopted, not duplicated.
  returned: always
  type: list
  elements: str
deleted:
  description: Ids of the connections this collection had requested and this run deleted.
  returned: always
  type: list
  elements: str
handed_back:
  description: Ids of adopted connections this run left in place and stopped holding (ownership tags removed).
  returned: always
  type: list
  elements: str
removed_peers:
  description: The VPCs taken off O(peers) (or listed with O(state=absent)) whose peering this run removed or handed back.
  returned: always
  type: list
  elements: dict
covered:
  description: Peer CIDRs that got no TCP 443 rule because another rule of the group already admits them.
  returned: always
  type: list
  elements: dict
  sample: [{group_id: sg-0123456789abcdef0, cidr: 10.60.0.0/16, by: 10.0.0.0/8}]
"""

import time

from ansible_collections.amazon.aws.plugins.module_utils import ec2 as aws_ec2
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _peering_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AWS_OPTIONS_SPEC
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import run
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import given


def vpc_filter(ids):
    return [{"Name": "vpc-id", "Values": sorted(set(ids))}]


class Peerings:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.vpc_id = self.params["vpc_id"]
        self.keep = self.params["state"] == "present"  # absent removes what present makes
        self.aws = AwsCalls(module, self.result)
        self.ec2 = self.aws.client("ec2")
        self.changed = False
        self.created, self.adopted, self.deleted, self.handed_back, self.covered = [], [], [], [], []
        self.removed_peers = []
        self.peers = []
        self.endpoint_tables_used = []
        self.diff = {"before": [], "after": []}  # lines (_runner)

    # ---- reading ---------------------------------------------------------------------------------
    def peer_client(self, peer):
        return self.aws.client("ec2", peer["region"], peer["aws"])

    def read(self):
        p = self.params
        self.peers = [{"vpc_id": x["vpc_id"], "region": x.get("region") or self.region, "account_id": x.get("account_id") or "",
                       "route_table_ids": sorted(set(x.get("route_table_ids") or [])), "cidrs": x.get("cidrs") or [],
                       "aws": given(x.get("aws"))} for x in p["peers"]]
        twice = plan.duplicates(x["vpc_id"] for x in self.peers)
        if twice:
            self.module.fail_json(msg="Peer VPCs listed more than once in peers: %s." % ", ".join(twice))
        vpcs = self.aws.run("describe the endpoint VPC %s" % self.vpc_id, aws_ec2.describe_vpcs, self.ec2,
                            Filters=vpc_filter([self.vpc_id]))
        if not vpcs:
            self.module.fail_json(msg="Endpoint VPC %s not found in %s." % (self.vpc_id, self.region))
        self.endpoint_account = vpcs[0]["OwnerId"]
        self.endpoint_blocks = plan.associated_blocks(vpcs[0])
        self.endpoint_cidrs = p["cidrs"] or self.endpoint_blocks
        for peer in self.peers:
            if peer["account_id"] and peer["account_id"] != self.endpoint_account and not peer["aws"]:
                self.module.fail_json(msg="Agent VPC %s is in account %s but its credentials are those of account %s: give that "
                                      "account's credentials in its `aws` option (profile, or access_key and secret_key), so "
                                      "that the connection can be accepted and routed on its side."
                                      % (peer["vpc_id"], peer["account_id"], self.endpoint_account))
        self.read_peer_vpcs()
        problems = plan.overlaps(self.vpc_id, self.endpoint_blocks, self.peers) if self.keep else []
        if problems:
            self.module.fail_json(msg="Overlapping CIDRs: %s. AWS does not peer them, and routes would be ambiguous." % "; ".join(problems))
        self.read_connections()
        self.read_tables()
        self.read_groups()

    def groups_of_peers(self, peers):
        groups = {}
        for peer in peers:
            groups.setdefault((peer["region"], tuple(sorted(peer["aws"].items()))), []).append(peer)
        return list(groups.values())

    def read_peer_vpcs(self):
        for group in self.groups_of_peers(self.peers):
            client = self.peer_client(group[0])
            found = dict((v["VpcId"], v) for v in self.aws.run(
                "describe the Agent VPCs in %s" % group[0]["region"], aws_ec2.describe_vpcs, client,
                Filters=vpc_filter(x["vpc_id"] for x in group)))
            for peer in group:
                vpc = found.get(peer["vpc_id"])
                if vpc is None and not self.keep:  # already deleted: only its connection and rules may remain
                    peer.update(account_id=peer["account_id"] or self.endpoint_account, blocks=[],
                                cross_account=bool(peer["account_id"]) and peer["account_id"] != self.endpoint_account)
                    continue
                if vpc is None:
                    self.module.fail_json(msg="Agent VPC %s not found in %s with %s. For a VPC of another account, give that "
                                          "account's credentials in its `aws` option." % (
                                              peer["vpc_id"], peer["region"],
                                              "its `aws` credentials" if peer["aws"] else "the endpoint account's credentials"))
                if peer["account_id"] and vpc["OwnerId"] != peer["account_id"]:
                    self.module.fail_json(msg="Agent VPC %s is in account %s, not %s as its account_id says: correct account_id "
                                          "or its `aws` credentials." % (peer["vpc_id"], vpc["OwnerId"], peer["account_id"]))
                peer["account_id"] = vpc["OwnerId"]
                peer["cross_account"] = vpc["OwnerId"] != self.endpoint_account
                peer["blocks"] = plan.associated_blocks(vpc)
                peer["cidrs"] = peer["cidrs"] or peer["blocks"]

    def read_connections(self):
        found = {}
        for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
            for connection in self.aws.run("describe the peering connections of %s" % self.vpc_id,
                                           aws_ec2.describe_vpc_peering_connections, self.ec2,
                                           Filters=[{"Name": side, "Values": [self.vpc_id]}]):
                found[connection["VpcPeeringConnectionId"]] = connection
        self.connections = plan.live(found.values())
        listed = set(x["vpc_id"] for x in self.peers)
        for peer in self.peers:
            peer["connection"] = plan.joining(self.connections, self.vpc_id, peer["vpc_id"])
        # What to take down: listed peers with state=absent, or peers no longer listed (purge_peers).
        self.removals = []
        for connection in self.connections:
            other = plan.other_side(connection, self.vpc_id)
            mark = plan.ownership(connection)
            if self.keep and (other["VpcId"] in listed or not self.params["purge_peers"] or mark is None):
                continue
            if not self.keep and other["VpcId"] not in listed:
                continue
            peer = next((x for x in self.peers if x["vpc_id"] == other["VpcId"]), None)
            if peer is None:  # not listed: its side is reached with the endpoint's credentials, in its region
                peer = {"vpc_id": other["VpcId"], "region": other.get("Region") or self.region, "aws": {},
                        "account_id": other.get("OwnerId", ""), "cidrs": [b["CidrBlock"] for b in other.get("CidrBlockSet") or []]}
                peer["cross_account"] = peer["account_id"] != self.endpoint_account
            self.removals.append({"connection": connection, "mark": mark, "peer": peer})

    def read_tables(self):
        self.endpoint_tables = self.aws.run("describe the route tables of %s" % self.vpc_id, aws_ec2.describe_route_tables,
                                            self.ec2, Filters=vpc_filter([self.vpc_id]))
        self.peer_tables = {}
        # Peers taken off the list are reached with the endpoint's credentials: same account only.
        unlisted = [r["peer"] for r in self.removals if r["peer"] not in self.peers and not r["peer"]["cross_account"]]
        reachable = list(self.peers) + unlisted
        for group in self.groups_of_peers(reachable):
            tables = self.aws.run("describe the route tables of the Agent VPCs in %s" % group[0]["region"],
                                  aws_ec2.describe_route_tables, self.peer_client(group[0]),
                                  Filters=vpc_filter(x["vpc_id"] for x in group))
            for peer in group:
                self.peer_tables[peer["vpc_id"]] = [t for t in tables if t["VpcId"] == peer["vpc_id"]]
        if not self.keep:
            return
        self.endpoint_tables_used = self.params["route_table_ids"] or plan.used_tables(self.endpoint_tables, self.vpc_id)
        none = [] if self.endpoint_tables_used else ["endpoint VPC %s (%s)" % (self.vpc_id, self.region)]
        for peer in self.peers:
            peer["route_tables_found"] = not peer["route_table_ids"]
            if not peer["route_table_ids"]:
                peer["route_table_ids"] = plan.used_tables(self.peer_tables[peer["vpc_id"]], peer["vpc_id"])
                if not peer["route_table_ids"]:
                    none.append("Agent VPC %s (%s)" % (peer["vpc_id"], peer["region"]))
        if none:
            self.module.fail_json(msg="No route table to route through the peering in %s: no table is associated with its "
                                  "subnets and none is main. Give route_table_ids." % ", ".join(none))

    def read_groups(self):
        ids = self.params["security_group_ids"]
        self.group_rules = {}
        if not ids:
            return
        groups = self.aws.run("describe the security groups %s" % ", ".join(ids), aws_ec2.describe_security_groups, self.ec2,
                              Filters=[{"Name": "group-id", "Values": ids}])
        outside = [g for g in ids if not any(x["GroupId"] == g and x.get("VpcId") == self.vpc_id for x in groups)]
        if outside:
            self.module.fail_json(msg="Security groups not found in the endpoint VPC %s: %s." % (self.vpc_id, ", ".join(outside)))
        rules = self.aws.pages(self.ec2, "describe_security_group_rules", "SecurityGroupRules",
                               "describe the rules of %s" % ", ".join(ids), Filters=[{"Name": "group-id", "Values": ids}])
        for group_id in ids:
            self.group_rules[group_id] = [r for r in rules if r["GroupId"] == group_id]

    # ---- planning --------------------------------------------------------------------------------
    def plan(self):
        self.route_adds, self.route_removals = [], []  # (client, route, peer vpc_id)
        self.rule_adds, self.rule_revokes = {}, {}
        problems = []
        known = [x["vpc_id"] for x in self.peers] + [r["peer"]["vpc_id"] for r in self.removals]
        for removal in self.removals:
            self.plan_removal(removal, known)
        if not self.keep:  # a listed peer's rules go even when its connection is already gone
            gone = set(r["peer"]["vpc_id"] for r in self.removals)
            for peer in [x for x in self.peers if x["vpc_id"] not in gone]:
                for group_id, rules in self.group_rules.items():
                    self.rule_revokes.setdefault(group_id, []).extend(plan.removal_rules(rules, peer["cidrs"], known))
        if self.keep:
            for peer in self.peers:
                problems.extend(self.plan_peer_routes(peer))
            wanted = dict((cidr, x["vpc_id"]) for x in self.peers for cidr in x["cidrs"])
            for group_id, rules in self.group_rules.items():
                rules_plan = plan.plan_rules(rules, wanted, known, purge=self.params["purge_peers"])
                self.rule_adds[group_id] = rules_plan["add"]
                self.rule_revokes.setdefault(group_id, [])
                revoked = set(r["rule_id"] for r in self.rule_revokes[group_id])
                self.rule_revokes[group_id].extend(r for r in rules_plan["revoke"] if r["rule_id"] not in revoked)
                self.covered.extend(dict(group_id=group_id, cidr=c["cidr"], by=c["by"]) for c in rules_plan["covered"])
                for rule in rules_plan["unchanged"]:
                    self.diff["before"].append("ingress %s tcp 443 from %s" % (group_id, rule["cidr"]))
                    self.diff["after"].append("ingress %s tcp 443 from %s" % (group_id, rule["cidr"]))
        if problems:
            self.module.fail_json(msg="Nothing was changed: %s." % "; ".join(problems))

    def plan_peer_routes(self, peer):
        connection = peer["connection"]
        pcx = connection["VpcPeeringConnectionId"] if connection else plan.PLACEHOLDER_ID
        sides = [(self.ec2, self.endpoint_tables, self.vpc_id, self.endpoint_tables_used, peer["cidrs"]),
                 (self.peer_client(peer), self.peer_tables[peer["vpc_id"]], peer["vpc_id"], peer["route_table_ids"],
                  self.endpoint_cidrs)]
        problems = []
        for client, tables, vpc_id, table_ids, cidrs in sides:
            wanted = [{"route_table_id": t, "destination_cidr": c, "vpc_peering_connection_id": pcx, "vpc_id": vpc_id}
                      for t in table_ids for c in cidrs]
            routes = plan.plan_routes(tables, wanted)
            if routes["missing"] or routes["wrong_vpc"]:
                problems.append("route tables not found in their VPC: %s (not in %s)"
                                % (", ".join(routes["missing"] + routes["wrong_vpc"]), vpc_id))
            if routes["conflicts"]:
                problems.append("routes to the same destination through something else exist, they are not replaced: %s"
                                % "; ".join(routes["conflicts"]))
            self.route_adds.extend((client, r, peer["vpc_id"]) for r in routes["todo"])
            for route in routes["unchanged"]:
                self.diff["before"].append("route %s via %s" % (plan.route_text(route), pcx))
                self.diff["after"].append("route %s via %s" % (plan.route_text(route), pcx))
        return problems

    def plan_removal(self, removal, known):
        connection, peer = removal["connection"], removal["peer"]
        pcx = connection["VpcPeeringConnectionId"]
        self.diff["before"].append("peering %s with %s (%s)" % (pcx, peer["vpc_id"], removal["mark"] or "not held"))
        if removal["mark"] == catalog.OWNERSHIP_CREATED:  # routes through an adopted connection stay with it
            sides = [(self.ec2, self.endpoint_tables)]
            if peer["vpc_id"] in self.peer_tables:
                sides.append((self.peer_client(peer), self.peer_tables[peer["vpc_id"]]))
            else:
                self.module.warn("Routes through %s in %s (account %s, %s) are not removed: that account's credentials are not "
                                 "given. Remove them there, or list the VPC with state=absent and its `aws` option."
                                 % (pcx, peer["vpc_id"], peer["account_id"], peer["region"]))
            for client, tables in sides:
                for route in plan.routes_through(tables, [pcx]):
                    self.route_removals.append((client, route, peer["vpc_id"]))
                    self.diff["before"].append("route %s via %s" % (plan.route_text(route), pcx))
        for group_id, rules in self.group_rules.items():
            revoke = plan.removal_rules(rules, peer["cidrs"], known)
            self.rule_revokes.setdefault(group_id, []).extend(revoke)

    # ---- changing --------------------------------------------------------------------------------
    def apply(self):
        for removal in self.removals:
            self.remove(removal)
        for group_id, revoke in self.rule_revokes.items():
            self.revoke_rules(group_id, revoke)
        for removal in self.removals:
            self.take_down(removal)
        if self.keep:
            for peer in self.peers:
                self.connect(peer)
            for client, route, vpc_id in self.route_adds:
                self.add_route(client, route, vpc_id)
            for group_id, adds in self.rule_adds.items():
                self.add_rules(group_id, adds)

    def row(self, vpc_id):
        for peer in self.peers + [r["peer"] for r in self.removals]:
            if peer["vpc_id"] == vpc_id:
                peer.setdefault("routes_added", [])
                peer.setdefault("routes_removed", [])
                peer.setdefault("ingress_cidrs_added", [])
                peer.setdefault("ingress_cidrs_removed", [])
                return peer
        return {}

    def remove(self, removal):
        for client, route, vpc_id in [r for r in self.route_removals if r[1]["vpc_peering_connection_id"]
                                      == removal["connection"]["VpcPeeringConnectionId"]]:
            self.changed = True
            self.row(vpc_id)["routes_removed"].append({"route_table_id": route["route_table_id"],
                                                       "destination": route["destination_cidr"]})
            if not self.module.check_mode:
                self.aws.run("delete the route to %s in %s" % (route["destination_cidr"], route["route_table_id"]),
                             aws_ec2.delete_route, client, route["route_table_id"], DestinationCidrBlock=route["destination_cidr"])

    def revoke_rules(self, group_id, revoke):
        if not revoke:
            return
        self.changed = True
        for rule in revoke:
            self.diff["before"].append("ingress %s tcp 443 from %s" % (group_id, rule["cidr"]))
            owner = next((x for x in self.peers + [r["peer"] for r in self.removals] if rule["cidr"] in x.get("cidrs", [])), None)
            if owner is not None:
                self.row(owner["vpc_id"])["ingress_cidrs_removed"].append(rule["cidr"])
        if not self.module.check_mode:
            self.aws.run("revoke TCP 443 from %s on %s" % (", ".join(r["cidr"] for r in revoke), group_id),
                         aws_ec2.revoke_security_group_ingress, self.ec2, GroupId=group_id,
                         SecurityGroupRuleIds=[r["rule_id"] for r in revoke])

    def take_down(self, removal):
        connection, peer, mark = removal["connection"], removal["peer"], removal["mark"]
        pcx = connection["VpcPeeringConnectionId"]
        self.removed_peers.append({"vpc_id": peer["vpc_id"], "region": peer["region"], "account_id": peer["account_id"],
                                   "peering_connection_id": pcx, "ownership": mark})
        row = self.row(peer["vpc_id"])
        row["connection_after"] = connection
        if mark == catalog.OWNERSHIP_CREATED:
            self.changed = True
            self.deleted.append(pcx)
            row["status"] = "deleted"
            if not self.module.check_mode:
                self.aws.run("delete the peering connection %s" % pcx, aws_ec2.delete_vpc_peering_connection, self.ec2, pcx)
        elif mark == catalog.OWNERSHIP_ADOPTED:
            self.changed = True
            self.handed_back.append(pcx)
            self.diff["after"].append("peering %s with %s (not held)" % (pcx, peer["vpc_id"]))
            row["status"] = connection["Status"]["Code"]
            if not self.module.check_mode:
                self.aws.call(self.ec2, "delete_tags", "hand back %s" % pcx, Resources=[pcx],
                              Tags=[{"Key": catalog.OWNER_TAG_KEY}, {"Key": catalog.OWNERSHIP_TAG_KEY}])
        else:
            self.diff["after"].append("peering %s with %s (not held)" % (pcx, peer["vpc_id"]))
            row["status"] = connection["Status"]["Code"]
            self.module.warn("%s joins %s and %s but this collection did not request nor adopt it: left in place."
                             % (pcx, self.vpc_id, peer["vpc_id"]))

    def connect(self, peer):
        connection = peer["connection"]
        name = self.params["name_prefix"] + peer["vpc_id"]
        if connection is None:
            self.changed = True
            tags = plan.wanted_tags(self.params["tags"], name, catalog.OWNERSHIP_CREATED)
            if self.module.check_mode:
                connection = {"VpcPeeringConnectionId": plan.PLACEHOLDER_ID, "Status": {"Code": "to be requested"},
                              "AccepterVpcInfo": {"VpcId": peer["vpc_id"]}, "Tags": ansible_dict_to_boto3_tag_list(tags)}
            else:
                request = dict(VpcId=self.vpc_id, PeerVpcId=peer["vpc_id"], PeerRegion=peer["region"],
                               TagSpecifications=boto3_tag_specifications(tags, types="vpc-peering-connection"))
                if peer["cross_account"]:
                    request["PeerOwnerId"] = peer["account_id"]
                connection = self.aws.run("request a peering connection from %s to %s" % (self.vpc_id, peer["vpc_id"]),
                                          aws_ec2.create_vpc_peering_connection, self.ec2, **request)
                connection = dict(connection, Tags=ansible_dict_to_boto3_tag_list(tags))
                self.retarget_routes(peer["vpc_id"], connection["VpcPeeringConnectionId"])
            self.created.append(connection["VpcPeeringConnectionId"])
        elif plan.ownership(connection) is None:
            self.changed = True
            self.adopted.append(connection["VpcPeeringConnectionId"])
            if not self.module.check_mode:
                self.aws.call(self.ec2, "create_tags", "adopt %s" % connection["VpcPeeringConnectionId"],
                              Resources=[connection["VpcPeeringConnectionId"]],
                              Tags=ansible_dict_to_boto3_tag_list({catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE,
                                                                   catalog.OWNERSHIP_TAG_KEY: catalog.OWNERSHIP_ADOPTED}))
            connection = dict(connection, Tags=(connection.get("Tags") or []) + [
                {"Key": catalog.OWNER_TAG_KEY, "Value": catalog.OWNER_TAG_VALUE},
                {"Key": catalog.OWNERSHIP_TAG_KEY, "Value": catalog.OWNERSHIP_ADOPTED}])
        pcx = connection["VpcPeeringConnectionId"]
        if connection["Status"]["Code"] in plan.PENDING_STATES or pcx in self.created:
            connection = self.accept(peer, connection)
        self.diff["after"].append("peering %s with %s (%s)" % (pcx, peer["vpc_id"], plan.ownership(connection)))
        if peer["connection"] is not None:
            self.diff["before"].append("peering %s with %s (%s)" % (pcx, peer["vpc_id"], plan.ownership(peer["connection"])))
        peer["connection"] = connection

    def retarget_routes(self, vpc_id, pcx):
        """Routes planned through the placeholder go through the connection just requested."""
        self.route_adds = [(client, dict(route, vpc_peering_connection_id=pcx) if owner == vpc_id else route, owner)
                           for client, route, owner in self.route_adds]

    def accept(self, peer, connection):
        pcx = connection["VpcPeeringConnectionId"]
        self.changed = True
        if self.module.check_mode:
            return dict(connection, Status={"Code": "active" if pcx != plan.PLACEHOLDER_ID else "to be requested"})
        accepter_is_peer = connection["AccepterVpcInfo"]["VpcId"] == peer["vpc_id"]
        client = self.peer_client(peer) if accepter_is_peer else self.ec2
        deadline = time.time() + self.params["accept_timeout"]
        while True:
            # A cross-region request takes a moment to reach the accepter's region (NotFound until then).
            answer = self.aws.call(client, "accept_vpc_peering_connection", "accept %s in %s" % (
                pcx, peer["region"] if accepter_is_peer else self.region), VpcPeeringConnectionId=pcx,
                ignore=("InvalidVpcPeeringConnectionID.NotFound", "InvalidStateTransition"))
            if answer is not None:
                if pcx in self.created and accepter_is_peer:  # tags stay on the side that set them: the peer sees its own
                    self.aws.call(client, "create_tags", "tag %s in %s" % (pcx, peer["region"]), Resources=[pcx],
                                  Tags=connection.get("Tags") or [])
                return dict(connection, Status=answer["VpcPeeringConnection"]["Status"])
            if time.time() > deadline:
                self.module.fail_json(msg="%s was not found in %s after %ss to accept it; rerun to accept it (it exists)."
                                      % (pcx, peer["region"], self.params["accept_timeout"]), **self.result())
            time.sleep(2)

    def add_route(self, client, route, vpc_id):
        self.changed = True
        self.row(vpc_id)["routes_added"].append({"route_table_id": route["route_table_id"], "destination": route["destination_cidr"]})
        self.diff["after"].append("route %s via %s" % (plan.route_text(route), route["vpc_peering_connection_id"]))
        if self.module.check_mode:
            return
        call = aws_ec2.replace_route if route.get("replace") else aws_ec2.create_route
        self.aws.run("add the route to %s in %s" % (route["destination_cidr"], route["route_table_id"]), call, client,
                     route["route_table_id"], DestinationCidrBlock=route["destination_cidr"],
                     VpcPeeringConnectionId=route["vpc_peering_connection_id"])

    def add_rules(self, group_id, adds):
        if not adds:
            return
        self.changed = True
        for rule in adds:
            self.row(rule["vpc_id"])["ingress_cidrs_added"].append(rule["cidr"])
            self.diff["after"].append("ingress %s tcp 443 from %s" % (group_id, rule["cidr"]))
        if self.module.check_mode:
            return
        tags = {catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE, catalog.RULE_OWNER_TAG_KEY: plan.RULE_OWNER}
        self.aws.run("admit TCP 443 from %s on %s" % (", ".join(a["cidr"] for a in adds), group_id),
                     aws_ec2.authorize_security_group_ingress, self.ec2, GroupId=group_id,
                     IpPermissions=plan.ingress_permissions(adds),
                     TagSpecifications=boto3_tag_specifications(tags, types="security-group-rule"))

    # ---- result ----------------------------------------------------------------------------------
    def peer_result(self, peer):
        connection = peer.get("connection_after") or peer.get("connection")
        mark = plan.ownership(connection) if connection else None
        row = self.row(peer["vpc_id"]) or peer
        return {
            "vpc_id": peer["vpc_id"], "region": peer["region"], "account_id": peer.get("account_id", ""),
            "cross_account": peer.get("cross_account", False), "cidrs": peer.get("cidrs", []),
            "peering_connection_id": connection["VpcPeeringConnectionId"] if connection else None,
            "status": row.get("status") or (connection["Status"]["Code"] if connection else "absent"),
            "ownership": mark, "owned": mark is not None,
            "route_table_ids": peer.get("route_table_ids", []), "route_tables_found": peer.get("route_tables_found", False),
            "routes_added": row.get("routes_added", []), "routes_removed": row.get("routes_removed", []),
            "ingress_cidrs_added": row.get("ingress_cidrs_added", []), "ingress_cidrs_removed": row.get("ingress_cidrs_removed", []),
        }

    def result(self):
        result = dict(changed=self.changed, peers=[self.peer_result(x) for x in self.peers],
                      endpoint_route_table_ids=self.endpoint_tables_used, created=self.created, adopted=self.adopted,
                      deleted=self.deleted, handed_back=self.handed_back, removed_peers=self.removed_peers, covered=self.covered)
        return result

    def present(self):
        """Read, plan and apply (O(state) is in the plan: absent removes what present makes)."""
        self.read()
        self.plan()
        self.apply()

    absent = present


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            vpc_id=dict(type="str", required=True),
            route_table_ids=dict(type="list", elements="str", default=[]),
            cidrs=dict(type="list", elements="str", default=[]),
            security_group_ids=dict(type="list", elements="str", default=[]),
            peers=dict(type="list", elements="dict", default=[], options=dict(
                vpc_id=dict(type="str", required=True),
                region=dict(type="str"),
                account_id=dict(type="str"),
                route_table_ids=dict(type="list", elements="str"),
                cidrs=dict(type="list", elements="str"),
                aws=dict(type="dict", options=AWS_OPTIONS_SPEC),
            )),
            purge_peers=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", default={}),
            name_prefix=dict(type="str", default="datadog-privatelink-"),
            accept_timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    run(module, Peerings(module))


if __name__ == "__main__":
    main()
