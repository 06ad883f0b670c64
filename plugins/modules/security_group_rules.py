#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_group_rules
short_description: Add or revoke exact security group rules, one by one, touching only the rules it owns
version_added: 0.1.0
description:
  - Ensures a set of rules of one security group, in one direction (egress or ingress). Reads the
    group once (C(DescribeSecurityGroups) and C(DescribeSecurityGroupRules)), then adds each missing
    rule with its own C(AuthorizeSecurityGroupEgress) (or C(Ingress)) call and revokes each rule by
    its rule id with its own C(RevokeSecurityGroupEgress) (or C(Ingress)) call.
  - A rule it adds carries the tags C(datadog-privatelink:rule-owner=<owner>) and
    C(datadog-privatelink:managed-by=datadog_privatelink.aws), set in the same call. Only rules
    tagged with the same O(owner) are ever revoked; every other rule of the group is left as it is.
  - Ownership is a tag, not the description, because a tag is set atomically with the rule and is
    not rewritten when a person edits a description in the console; the description (default the
    owner) is a label for people.
  - A wanted rule that already exists without the owner's tag (the same protocol, ports and peer,
    written by someone else) is reported in RV(foreign) and not touched; AWS would refuse a
    second copy anyway.
  - Unlike M(amazon.aws.ec2_security_group), it never needs the group's full rule list and never
    purges a rule it did not write. It does not change the description of an existing rule.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  group_id:
    description: The security group.
    type: str
    required: true
  direction:
    description: Which rules of the group.
    type: str
    choices: [egress, ingress]
    default: egress
  rules:
    description: The rules. Each has a protocol, ports and exactly one peer.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: V(tcp), V(udp), V(icmp), V(icmpv6), V(all), or an IP protocol number.
        type: str
        required: true
      from_port:
        description: First port (for ICMP, the type). Required for V(tcp) and V(udp).
        type: int
      to_port:
        description: Last port (for ICMP, the code). Default O(rules[].from_port).
        type: int
      cidr_ip:
        description: IPv4 peer.
        type: str
      cidr_ipv6:
        description: IPv6 peer.
        type: str
      security_group_id:
        description: Security group peer.
        type: str
      prefix_list_id:
        description: Managed prefix list peer.
        type: str
      description:
        description: Description of the rule when it is added. Default O(owner).
        type: str
  owner:
    description:
      - Who owns the rules; the value of their C(datadog-privatelink:rule-owner) tag.
      - Default C(datadog-privatelink:<direction>).
    type: str
  state:
    description:
      - V(present) adds the missing rules; with O(purge=true) it also revokes the owner's rules that are not listed.
      - V(absent) revokes the listed rules that the owner owns; with O(purge=true) (and no O(rules)), every rule of the owner.
    type: str
    choices: [present, absent]
    default: present
  purge:
    description: Also revoke the rules of O(owner) that are not in O(rules) (never another rule).
    type: bool
    default: false
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Needs C(ec2:DescribeSecurityGroups), C(ec2:DescribeSecurityGroupRules), C(ec2:AuthorizeSecurityGroupEgress) (or C(Ingress)),
    C(ec2:RevokeSecurityGroupEgress) (or C(Ingress)) and C(ec2:CreateTags) on C(security-group-rule) resources.
seealso:
  - module: amazon.aws.ec2_security_group
  - name: Datadog Network traffic guide
    description: The ports and destinations of the Datadog Agent.
    link: https://docs.datadoghq.com/agent/configure_agent/network/
"""

EXAMPLES = r"""
- name: TCP 443 to the endpoint VPC and NTP to the Amazon Time Sync Service, nothing else touched
  datadog_privatelink.aws.security_group_rules:
    region: us-east-1
    group_id: sg-0123456789abcdef0
    rules:
      - {protocol: tcp, from_port: 443, cidr_ip: 10.20.0.0/16, description: "datadog-privatelink:egress PrivateLink endpoints"}
      - {protocol: udp, from_port: 123, cidr_ip: 169.254.169.123/32}
    purge: true   # and revoke the rules this owner wrote before that are no longer listed

- name: Revoke every rule it wrote on that group
  datadog_privatelink.aws.security_group_rules:
    region: us-east-1
    group_id: sg-0123456789abcdef0
    state: absent
    purge: true
"""

RETURN = r"""
group_id:
  description: The security group.
  returned: always
  type: str
  sample: sg-0123456789abcdef0
vpc_id:
  description: Its VPC.
  returned: always
  type: str
added:
  description: Rules added (in check mode, that would be), with their C(rule_id) once added.
  returned: always
  type: list
  elements: dict
  sample:
    - {protocol: udp, from_port: 123, to_port: 123, cidr_ip: 169.254.169.123/32, description: "datadog-privatelink:egress",
       rule_id: sgr-0a1b2c3d4e5f67890}
removed:
  description: Rules of the owner revoked (in check mode, that would be).
  returned: always
  type: list
  elements: dict
unchanged:
  description: Wanted rules the owner already has.
  returned: always
  type: list
  elements: dict
foreign:
  description: Wanted rules that already exist without the owner's tag; left alone.
  returned: always
  type: list
  elements: dict
rules:
  description: The owner's rules on the group afterwards (in check mode, as they would be).
  returned: always
  type: list
  elements: dict
allows_all:
  description:
    - True when the group also has a rule allowing all traffic to (or from) C(0.0.0.0/0) or C(::/0) in this direction,
      such as the default egress rule; the rules above then restrict nothing until that rule is removed.
  returned: always
  type: bool
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AwsCalls
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import Converging, run

PROTOCOLS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp",
             "icmpv6": "icmpv6", "58": "icmpv6", "all": "-1", "-1": "-1"}
PEERS = ("cidr_ip", "cidr_ipv6", "security_group_id", "prefix_list_id")


def normalize(rule, owner):
    """The rule as compared and returned, or a message saying what is wrong with it."""
    protocol = PROTOCOLS.get(str(rule["protocol"]).strip().lower(), str(rule["protocol"]).strip().lower())
    peers = [key for key in PEERS if rule.get(key)]
    if len(peers) != 1:
        return None, "each rule needs exactly one of %s (got %s)" % (", ".join(PEERS), ", ".join(peers) or "none")
    if protocol == "-1":
        from_port = to_port = -1
    else:
        from_port = rule.get("from_port")
        to_port = rule.get("to_port") if rule.get("to_port") is not None else from_port
        if protocol in ("tcp", "udp") and (from_port is None or not 0 <= from_port <= to_port <= 65535):
            return None, "%s rules need from_port (and to_port >= from_port) within 0-65535" % protocol
        if from_port is None:
            from_port = to_port = -1
    return {"protocol": protocol, "from_port": from_port, "to_port": to_port, peers[0]: rule[peers[0]],
            "description": rule.get("description") or owner}, None


def identity(rule):
    peer = next((key, rule[key]) for key in PEERS if rule.get(key))
    return (rule["protocol"], rule["from_port"], rule["to_port"], peer)


def from_aws(item):
    """A DescribeSecurityGroupRules item in this module's shape."""
    rule = {"protocol": PROTOCOLS.get(item["IpProtocol"], item["IpProtocol"]), "from_port": item.get("FromPort", -1),
            "to_port": item.get("ToPort", -1), "description": item.get("Description", ""), "rule_id": item["SecurityGroupRuleId"]}
    if item.get("CidrIpv4"):
        rule["cidr_ip"] = item["CidrIpv4"]
    elif item.get("CidrIpv6"):
        rule["cidr_ipv6"] = item["CidrIpv6"]
    elif item.get("PrefixListId"):
        rule["prefix_list_id"] = item["PrefixListId"]
    elif item.get("ReferencedGroupInfo", {}).get("GroupId"):
        rule["security_group_id"] = item["ReferencedGroupInfo"]["GroupId"]
    rule["tags"] = dict((tag["Key"], tag["Value"]) for tag in item.get("Tags", []))
    return rule


def permission(rule):
    """The IpPermissions entry of one rule."""
    entry = {"IpProtocol": rule["protocol"]}
    if rule["protocol"] != "-1":
        entry.update(FromPort=rule["from_port"], ToPort=rule["to_port"])
    description = rule["description"]
    if rule.get("cidr_ip"):
        entry["IpRanges"] = [{"CidrIp": rule["cidr_ip"], "Description": description}]
    elif rule.get("cidr_ipv6"):
        entry["Ipv6Ranges"] = [{"CidrIpv6": rule["cidr_ipv6"], "Description": description}]
    elif rule.get("prefix_list_id"):
        entry["PrefixListIds"] = [{"PrefixListId": rule["prefix_list_id"], "Description": description}]
    else:
        entry["UserIdGroupPairs"] = [{"GroupId": rule["security_group_id"], "Description": description}]
    return entry


def text(rule, direction):
    """One line per rule, for --diff."""
    ports = "all" if rule["protocol"] == "-1" else (
        "%d" % rule["from_port"] if rule["from_port"] == rule["to_port"] else "%d-%d" % (rule["from_port"], rule["to_port"]))
    peer = next(rule[key] for key in PEERS if rule.get(key))
    return "%s %s %s %s %s" % (direction, rule["protocol"], ports, "to" if direction == "egress" else "from", peer)


def public(rule):
    return dict((key, value) for key, value in rule.items() if key != "tags")


class Rules(Converging):
    """The rules one owner has on one group in one direction, added (present) or revoked (absent)."""

    def __init__(self, module):
        self.module = module
        params = module.params
        self.group_id = params["group_id"]
        self.direction = params["direction"]
        self.owner = params["owner"] or "datadog-privatelink:%s" % self.direction
        self.purge = params["purge"]
        self.wanted = self.wanted_rules()
        self.out = {}  # filled once the group is read; failures before that carry nothing
        self.diff = {"before": [], "after": []}  # lines (_runner)
        self.diff_header = "%s rules of %s owned by %s" % (self.direction, self.group_id, self.owner)
        self.aws = AwsCalls(module, self.result)  # failures carry the rules done before them
        self.client = self.aws.client("ec2")

    def wanted_rules(self):
        """The given rules normalized, duplicates dropped; a failure naming every invalid one."""
        wanted, problems = [], []
        for index, given in enumerate(self.module.params["rules"]):
            rule, problem = normalize(given, self.owner)
            if problem:
                problems.append("rules[%d]: %s" % (index, problem))
            elif identity(rule) not in [identity(w) for w in wanted]:
                wanted.append(rule)
        if problems:
            self.module.fail_json(msg="Invalid rules: %s." % "; ".join(problems))
        return wanted

    def read(self):
        """The group and its rules in this direction."""
        group_id = self.group_id
        answer, missing = self.aws.attempt(self.client, "describe_security_groups", "describe security group %s" % group_id,
                                           ("InvalidGroup.NotFound",), GroupIds=[group_id])
        if missing:
            self.module.fail_json(msg="Security group %s not found in %s; give the id of an existing group (sg-...)."
                                  % (group_id, self.module.region))
        items = self.aws.pages(self.client, "describe_security_group_rules", "SecurityGroupRules",
                               "describe the rules of security group %s" % group_id, Filters=[{"Name": "group-id", "Values": [group_id]}])
        return answer["SecurityGroups"][0], [from_aws(item) for item in items if item.get("IsEgress") == (self.direction == "egress")]

    def converge(self, present):
        group, existing = self.read()
        result, wanted, direction = self.out, self.wanted, self.direction
        owned = [rule for rule in existing if rule["tags"].get(catalog.RULE_OWNER_TAG_KEY) == self.owner]
        others = [rule for rule in existing if rule not in owned]
        owned_by_id = dict((identity(rule), rule) for rule in owned)
        others_by_id = dict((identity(rule), rule) for rule in others)
        wanted_ids = set(identity(rule) for rule in wanted)

        result.update(changed=False, group_id=self.group_id, vpc_id=group.get("VpcId", ""), added=[], removed=[], unchanged=[], foreign=[],
                      allows_all=any(rule["protocol"] == "-1" and (rule.get("cidr_ip") == "0.0.0.0/0" or rule.get("cidr_ipv6") == "::/0")
                                     for rule in existing))
        to_add, to_revoke = [], []
        if present:
            for rule in wanted:
                if identity(rule) in owned_by_id:
                    result["unchanged"].append(public(owned_by_id[identity(rule)]))
                elif identity(rule) in others_by_id:
                    result["foreign"].append(public(others_by_id[identity(rule)]))
                else:
                    to_add.append(rule)
            if self.purge:
                to_revoke = [rule for rule in owned if identity(rule) not in wanted_ids]
        else:
            to_revoke = [rule for rule in owned if self.purge or identity(rule) in wanted_ids]
            result["foreign"] = [public(others_by_id[identity(rule)]) for rule in wanted if identity(rule) in others_by_id]

        for rule in to_revoke:
            self.revoke(rule)
        for rule in to_add:
            self.add(rule)

        removed_ids = set(identity(rule) for rule in to_revoke)
        after = [public(rule) for rule in owned if identity(rule) not in removed_ids] + result["added"]
        result["rules"] = sorted(after, key=lambda rule: text(rule, direction))
        self.diff["before"] = [text(rule, direction) for rule in owned]
        self.diff["after"] = [text(rule, direction) for rule in result["rules"]]

    def revoke(self, rule):
        self.out["changed"] = True
        self.out["removed"].append(public(rule))
        if self.module.check_mode:
            return
        # A rule already gone is what was wanted.
        self.aws.call(self.client, "revoke_security_group_" + self.direction,
                      "revoke %s (%s); the rules done before it are in the result" % (text(rule, self.direction), rule["rule_id"]),
                      ignore=("InvalidSecurityGroupRuleId.NotFound",), GroupId=self.group_id, SecurityGroupRuleIds=[rule["rule_id"]])

    def add(self, rule):
        self.out["changed"] = True
        if self.module.check_mode:
            self.out["added"].append(rule)
            return
        tags = [{"Key": catalog.OWNER_TAG_KEY, "Value": catalog.OWNER_TAG_VALUE}, {"Key": catalog.RULE_OWNER_TAG_KEY, "Value": self.owner}]
        what = "add %s to %s; the rules done before it are in the result" % (text(rule, self.direction), self.group_id)
        answer, duplicate = self.aws.attempt(self.client, "authorize_security_group_" + self.direction, what,
                                             ("InvalidPermission.Duplicate",), GroupId=self.group_id, IpPermissions=[permission(rule)],
                                             TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": tags}])
        if duplicate:
            self.module.warn("%s appeared on %s while this ran, without the owner's tag; it is left alone."
                             % (text(rule, self.direction), self.group_id))
            self.out["foreign"].append(rule)
            return
        rule_id = next((r["SecurityGroupRuleId"] for r in answer.get("SecurityGroupRules", [])), "")
        self.out["added"].append(dict(rule, rule_id=rule_id))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            group_id=dict(type="str", required=True),
            direction=dict(type="str", choices=["egress", "ingress"], default="egress"),
            rules=dict(type="list", elements="dict", default=[], options=dict(
                protocol=dict(type="str", required=True),
                from_port=dict(type="int"),
                to_port=dict(type="int"),
                cidr_ip=dict(type="str"),
                cidr_ipv6=dict(type="str"),
                security_group_id=dict(type="str"),
                prefix_list_id=dict(type="str"),
                description=dict(type="str"),
            )),
            owner=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            purge=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run(module, Rules(module))


if __name__ == "__main__":
    main()
