# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The security group of the Datadog endpoints: found or made by name, TCP 443 from the Agents.

Private to this collection (vpc_endpoints' security_group option). Datadog's PrivateLink guide
asks for a group admitting TCP 443 from the Agents on every endpoint
(https://docs.datadoghq.com/agent/guide/private-link/). The planning here is pure; EndpointGroup
makes the calls through the module's AwsCalls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import time

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._peering_plan import associated_blocks

DEFAULT_NAME = "datadog-privatelink-endpoints"
DEFAULT_DESCRIPTION = "Datadog PrivateLink endpoints - TCP 443 from the Agents"
# The description of the rules it adds (the same as releases that used amazon.aws.ec2_security_group).
RULE_DESCRIPTION = "Datadog Agents to PrivateLink endpoints"
GROUP_ID_PATTERN = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$")

# The option's spec, beside vpc_endpoints' documentation of it.
OPTIONS_SPEC = dict(
    name=dict(type="str", default=DEFAULT_NAME),
    description=dict(type="str", default=DEFAULT_DESCRIPTION),
    https_ingress_cidrs=dict(type="list", elements="str", default=[]),
    https_ingress_security_group_ids=dict(type="list", elements="str", default=[]),
)


def problems(options):
    """What is wrong with the option, before any call: a list of sentences saying what to change."""
    found = []
    if not (options.get("name") or "").strip():
        found.append("security_group.name is empty: name the group (default %s)." % DEFAULT_NAME)
    elif options["name"] == "default":
        found.append("security_group.name=default is the VPC's default group, which cannot be created or deleted: "
                     "give another name, or list the default group in security_group_ids.")
    for cidr in options.get("https_ingress_cidrs") or []:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            found.append("security_group.https_ingress_cidrs holds %r, not a CIDR block (such as 10.0.0.0/16)." % cidr)
    for group_id in options.get("https_ingress_security_group_ids") or []:
        if not GROUP_ID_PATTERN.match(group_id or ""):
            found.append("security_group.https_ingress_security_group_ids holds %r, not a security group id (sg-...)." % group_id)
    return found


def source_key(source):
    """'cidr' (IPv4), 'cidr6' or 'group' for one ingress source."""
    if source.startswith("sg-"):
        return "group"
    return "cidr6" if ":" in source else "cidr"


def admitted_sources(group):
    """Every source the group lets TCP 443 in from (a rule that covers port 443 counts)."""
    sources = set()
    for permission in (group or {}).get("IpPermissions") or []:
        if not plan.rule_admits_https(permission):
            continue
        sources.update(r.get("CidrIp") for r in permission.get("IpRanges") or [])
        sources.update(r.get("CidrIpv6") for r in permission.get("Ipv6Ranges") or [])
        sources.update(p.get("GroupId") for p in permission.get("UserIdGroupPairs") or [])
    sources.discard(None)
    return sources


def missing_sources(group, wanted):
    """The wanted sources the group does not admit on TCP 443 yet, in the order given."""
    admitted = admitted_sources(group)
    return [source for source in wanted if source not in admitted]


def permission(source):
    """One IpPermissions entry: TCP 443 from one source."""
    entry = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    kind = source_key(source)
    if kind == "group":
        entry["UserIdGroupPairs"] = [{"GroupId": source, "Description": RULE_DESCRIPTION}]
    elif kind == "cidr6":
        entry["Ipv6Ranges"] = [{"CidrIpv6": source, "Description": RULE_DESCRIPTION}]
    else:
        entry["IpRanges"] = [{"CidrIp": source, "Description": RULE_DESCRIPTION}]
    return entry


def wanted_tags(user_tags, name=None):
    """Tags of a group this collection makes (or made): the user's, the ownership tags, and at creation a Name."""
    tags = dict(user_tags or {})
    tags[catalog.OWNER_TAG_KEY] = catalog.OWNER_TAG_VALUE
    tags[catalog.OWNERSHIP_TAG_KEY] = catalog.OWNERSHIP_CREATED
    if name:
        tags.setdefault("Name", name)
    return tags


def view(group, name, sources):
    """What --diff shows of the group."""
    if group is None:
        return None
    return {"group_name": name, "group_id": group.get("GroupId"), "https_ingress": sorted(sources), "tags": plan.tags_of(group)}


class EndpointGroup:
    """One module run's work on the endpoints' group.

    aws: the module's AwsCalls; client: its ec2 client; options: the security_group option.
    """

    def __init__(self, module, aws, client, options):
        self.module = module
        self.aws = aws
        self.client = client
        self.options = options
        self.name = options["name"]
        self.vpc_id = module.params["vpc_id"]
        self.group = None  # as AWS describes it (or as predicted in check mode)
        self.created = False
        self.added = []
        self.retagged = False
        self.deleted = False
        self.in_use_by = []
        self.sources = []

    @property
    def group_id(self):
        return (self.group or {}).get("GroupId")

    def ours(self):
        return self.group is not None and plan.ownership(self.group) == catalog.OWNERSHIP_CREATED

    def find(self):
        """The group of that name in the VPC, or None."""
        groups = self.aws.call(self.client, "describe_security_groups", "look for security group %s in %s" % (self.name, self.vpc_id),
                               Filters=[{"Name": "vpc-id", "Values": [self.vpc_id]},
                                        {"Name": "group-name", "Values": [self.name]}])["SecurityGroups"]
        self.group = groups[0] if groups else None
        return self.group

    def wanted_sources(self):
        """The sources to admit: those given, or else the VPC's associated CIDR blocks."""
        given = list(self.options["https_ingress_cidrs"] or []) + list(self.options["https_ingress_security_group_ids"] or [])
        if given:
            return list(dict.fromkeys(given))
        vpcs = self.aws.call(self.client, "describe_vpcs", "read the CIDR blocks of %s" % self.vpc_id, VpcIds=[self.vpc_id])["Vpcs"]
        return associated_blocks(vpcs[0]) if vpcs else []

    # ---- present -----------------------------------------------------------------------------
    def read(self, tags):
        """Find the group and the sources it must admit (reads only); whether apply(tags) would change anything."""
        self.find()
        self.sources = self.wanted_sources()
        if self.group is None or missing_sources(self.group, self.sources):
            return True
        return self.ours() and bool(self.tags_to_set(tags))

    def apply(self, tags):
        """Create the group or fix its tags (ours only), admit TCP 443 from every wanted source; (before, after) for --diff."""
        before = view(self.group, self.name, admitted_sources(self.group) & set(self.sources))
        if self.group is None:
            self.create(tags)
        elif self.ours():
            self.retag(tags)  # a group of that name made by hand keeps its tags: it is used, never claimed
        missing = missing_sources(self.group, self.sources)
        if missing:
            self.authorize(missing)
        return before, view(self.group, self.name, self.sources)

    def create(self, tags):
        self.created = True
        tag_list = ansible_dict_to_boto3_tag_list(wanted_tags(tags, self.name))
        made = {"GroupId": None, "GroupName": self.name, "VpcId": self.vpc_id, "IpPermissions": [], "Tags": tag_list}
        if self.module.check_mode:
            self.group = made  # predicted: no id yet
            return
        for attempt in range(3):
            answer, duplicate = self.aws.attempt(
                self.client, "create_security_group", "create security group %s in %s" % (self.name, self.vpc_id),
                ("InvalidGroup.Duplicate",), GroupName=self.name, Description=self.options["description"], VpcId=self.vpc_id,
                TagSpecifications=[{"ResourceType": "security-group", "Tags": tag_list}])
            if not duplicate:
                self.group = dict(made, GroupId=answer["GroupId"])
                return
            # Another run made it at the same moment: use that one (AWS may list it a moment later).
            if self.find() is not None:
                self.created = False
                return
            time.sleep(1 + attempt)
        self.module.fail_json(msg="AWS says security group %s exists in %s, but it cannot be found; rerun." % (self.name, self.vpc_id),
                              **self.aws.partial())

    def tags_to_set(self, tags):
        return compare_aws_tags(plan.tags_of(self.group), wanted_tags(tags), purge_tags=False)[0]

    def retag(self, tags):
        to_set = self.tags_to_set(tags)
        if not to_set:
            return
        current = plan.tags_of(self.group)
        self.retagged = True
        if not self.module.check_mode:
            self.aws.call(self.client, "create_tags", "tag security group %s" % self.group_id, Resources=[self.group_id],
                          Tags=ansible_dict_to_boto3_tag_list(to_set))
        current.update(to_set)
        self.group = dict(self.group, Tags=ansible_dict_to_boto3_tag_list(current))

    def authorize(self, missing):
        """All missing rules in one call; after a concurrent run's duplicate, one by one (a rule already there is fine)."""
        self.added.extend(missing)
        if not self.module.check_mode and self.group_id:
            what = "admit TCP 443 from %s on %s" % (", ".join(missing), self.group_id)
            _answer, duplicate = self.aws.attempt(self.client, "authorize_security_group_ingress", what,
                                                  ("InvalidPermission.Duplicate",), GroupId=self.group_id,
                                                  IpPermissions=[permission(s) for s in missing])
            if duplicate:
                for source in missing:
                    self.aws.call(self.client, "authorize_security_group_ingress", "admit TCP 443 from %s on %s" % (source, self.group_id),
                                  ignore=("InvalidPermission.Duplicate",), GroupId=self.group_id, IpPermissions=[permission(source)])
        permissions = list(self.group.get("IpPermissions") or []) + [permission(s) for s in missing]
        self.group = dict(self.group, IpPermissions=permissions)

    @property
    def changed(self):
        return self.created or self.retagged or bool(self.added) or self.deleted

    # ---- absent ------------------------------------------------------------------------------
    def doomed(self):
        """The group's id when this collection made it (the caller detaches it, then calls delete), else None."""
        self.find()
        return self.group_id if self.ours() else None

    def delete(self, deadline, releasing=()):
        """Delete our group once the network interfaces of the deleted endpoints (releasing) let it go.

        AWS answers DependencyViolation while any interface holds the group: those of the endpoints just
        deleted go within minutes, so they are waited for; any other one is named at once.
        """
        self.deleted = True
        if self.module.check_mode:
            return
        delay = 2.0
        while True:
            _answer, code = self.aws.attempt(self.client, "delete_security_group", "delete security group %s" % self.group_id,
                                             ("DependencyViolation", "InvalidGroup.NotFound"), GroupId=self.group_id)
            if code != "DependencyViolation":
                return
            holders = self.aws.call(self.client, "describe_network_interfaces", "find what uses security group %s" % self.group_id,
                                    Filters=[{"Name": "group-id", "Values": [self.group_id]}])["NetworkInterfaces"]
            others = [i for i in holders if i["NetworkInterfaceId"] not in releasing]
            if others or time.time() + delay > deadline:
                self.deleted = False
                self.module.fail_json(
                    msg="Security group %s (created by this collection) is still in use: %s. Detach it from them, then rerun; "
                    "the endpoints listed in deleted are gone." % (self.group_id, "; ".join(
                        "%s (%s)" % (i["NetworkInterfaceId"], i.get("Description") or i.get("InterfaceType") or "network interface")
                        for i in others) or "the interfaces of the deleted endpoints did not let it go in time"),
                    **self.aws.partial())
            time.sleep(delay)
            delay = min(delay * 2, 15.0)

    def keep(self, users):
        """Our group stays while endpoints this collection does not delete use it."""
        self.module.warn("Security group %s (created by this collection) is kept: %s, not created by this collection, still "
                         "use it. Detach it from them, then rerun to delete it." % (self.group_id, ", ".join(users)))
        self.in_use_by = list(users)

    def result(self):
        """The group as the module returns it."""
        if self.group is None:
            return None
        return {
            "group_id": self.group_id,
            "group_name": self.name,
            "vpc_id": self.vpc_id,
            "ownership": plan.ownership(self.group) or "found",
            "created": self.created,
            "deleted": self.deleted,
            "in_use_by": list(self.in_use_by),
            "https_ingress": sorted(self.sources),
            "https_ingress_added": list(self.added),
        }
