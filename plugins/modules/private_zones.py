#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: private_zones
short_description: Route53 private hosted zones that point Datadog's host names at PrivateLink endpoints
version_added: 0.1.0
description:
  - The DNS half of the peered-region scenario of Datadog's PrivateLink guide. For a site and
    its services, ensures in one call one Route53 private hosted zone per endpoint service, attached
    to the endpoint VPC, holding an C(A) alias record of the zone's own name to the
    endpoint's regional DNS entry (with that entry's own hosted zone id).
  - One zone per endpoint service, named after the private DNS name
    C(DescribeVpcEndpointServices) reports for it - its anchor (such as
    C(orchid.intake.ap2.datadoghq.com)) where it has one, else its one direct name (such as
    C(metrics.agent.datadoghq.com)). Every customer-facing name of an anchor (C(api.ap2.datadoghq.com),
    C(synthetics.ap2.datadoghq.com), ...) is a public CNAME to it, so that one zone makes them all
    resolve privately in every VPC it is associated with. See C(docs/catalog.md).
  - Zones that earlier releases of this collection created for customer-facing names served
    by an anchor (such as C(api.ap2.datadoghq.com)) would hide that CNAME; once the anchor's
    zone is in place they are deleted in the same run (RV(migrated_zones), shown by C(--diff)).
    Such zones made by hand are left alone, with a warning.
  - Associates every zone with extra VPCs (O(vpcs)), in any region. VPCs of other accounts
    get a VPC association authorization instead; that account then associates them with
    M(datadog_privatelink.aws.private_zone_association), and the next run of this module
    deletes the authorizations that were used.
  - Checks C(enableDnsSupport) and C(enableDnsHostnames) on every VPC of this account it
    attaches; refuses, or turns them on with O(enable_vpc_dns=true).
  - Existing zones are looked for only on the VPCs of the run (C(ListHostedZonesByVPC) on the
    endpoint VPC, on each Agent VPC of this account and on those of other accounts given with
    O(vpcs[].aws)), never account-wide, so a zone of the same name on an unrelated VPC is left
    alone. A zone is read (C(GetHostedZone)) only when its tags and those lists leave its
    ownership or an association that matters unknown.
  - A private zone of one of these names made by hand and associated with the endpoint VPC or
    with an Agent VPC of this account is adopted, never duplicated - its other records stay, its
    C(A) record of the zone's own name is set to the alias (shown by C(--diff)), and it is
    tagged C(datadog-privatelink:ownership=adopted). O(state=absent) deletes only the zones this
    collection created; from an adopted zone it removes only the associations and tags it added.
  - Zones are created with a CallerReference computed from the zone name and the endpoint VPC
    (and a generation past the references of deleted zones), so two runs at once make one zone.
    A second zone this collection created for a name (left by an older race) is deleted; a
    zone of another account, of an AWS service (an endpoint with private DNS) or of another
    endpoint VPC's run on a VPC of this run is refused with what to change, before any write.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  verify:
    description:
      - Ask C(DescribeVpcEndpointServices) for the private DNS name of each service. With
        V(false) the zones are named after the catalog alone.
    type: bool
    default: true
  vpc_id:
    description:
      - The endpoint VPC, in the module's region (Datadog's region). Every zone is attached
        to it.
    type: str
    required: true
  endpoints:
    description:
      - The C(endpoints) return value of M(datadog_privatelink.aws.vpc_endpoints). When
        omitted, the endpoints are looked up in O(vpc_id).
    type: dict
  vpcs:
    description:
      - Other VPCs (the Agents' VPCs) to associate with every zone.
    type: list
    elements: dict
    default: []
    suboptions:
      vpc_id:
        description: The VPC id.
        type: str
        required: true
      region:
        description: The VPC's region.
        type: str
        required: true
      account_id:
        description:
          - The AWS account that owns the VPC, when it is not the zones' account. Such VPCs
            get an association authorization; the other account associates them
            (M(datadog_privatelink.aws.private_zone_association)), or this module does with O(vpcs[].aws).
        type: str
      aws:
        description:
          - AWS options of that VPC's account (a VPC of another account). With them this module
            checks the VPC's DNS attributes and lists its private zones (a conflicting zone is refused
            before any write, as for this account's VPCs), then associates it itself - the
            authorization lasts only for that call. The account needs C(ec2:DescribeVpcAttribute),
            C(route53:ListHostedZonesByVPC) (with C(ec2:DescribeVpcs)) and
            C(route53:AssociateVPCWithHostedZone); see C(docs/iam.md).
          - Never returned, and kept out of logs.
        type: dict
        suboptions:
          profile:
            description: Named profile of that account.
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
            description: URL of the AWS API to use instead of AWS's.
            type: str
  purge_vpcs:
    description:
      - Disassociate VPCs that this module associated (or authorized) and that are no longer
        in O(vpcs). VPCs associated by anyone else are left alone.
    type: bool
    default: false
  enable_vpc_dns:
    description:
      - Turn on C(enableDnsSupport) and C(enableDnsHostnames) on the VPCs of this account
        that the zones are attached to, instead of refusing.
    type: bool
    default: false
  tags:
    description: Tags added to the zones, beside the ownership tags.
    type: dict
    default: {}
  state:
    description:
      - V(present) ensures the zones, records and associations; V(absent) deletes the zones
        this collection created (their alias record and authorizations first) and lets go of
        adopted ones (see RV(kept_zones)).
    type: str
    choices: [present, absent]
    default: present
  validate_only:
    description:
      - Do every refusal of O(state) and the reads they need, and no write; C(changed) stays
        V(false) and the result says what a real run would do (RV(would_change)). Endpoints that do
        not exist yet are allowed (their alias targets are unknown, so their records are not read),
        so a playbook can run this before its first change, to stop on a conflicting zone before
        making endpoints and peering.
      - Check mode (C(--check)) does the same reads and refusals, and reports C(changed).
    type: bool
    default: false
extends_documentation_fragment:
  - datadog_privatelink.aws.datadog.attributes
  - datadog_privatelink.aws.datadog
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Zones carry the tags C(datadog-privatelink:ownership) (V(created) or V(adopted)),
    C(datadog-privatelink:service), C(datadog-privatelink:site), C(datadog-privatelink:endpoint-vpc),
    one C(datadog-privatelink:vpc:<vpc-id>) tag per VPC this module associated or authorized, and,
    on the zones it created only, C(datadog-privatelink:managed-by).
  - Zones created by earlier versions (owner tag, no ownership tag) are taken as created.
  - Besides the Route53 and EC2 permissions of what it changes, it needs
    C(route53:ListHostedZonesByVPC) (which also needs C(ec2:DescribeVpcs)) and, when a zone of
    another account is found or O(vpcs[].account_id) is set, C(sts:GetCallerIdentity).
  - Route53 never takes a CallerReference twice, even after the zone is deleted; after many
    deletions of one zone name (more than 50), creating it again is refused with what to do.
  - Route53 applies one change batch per zone; records of different zones cannot share one.
seealso:
  - module: datadog_privatelink.aws.vpc_endpoints
  - module: datadog_privatelink.aws.private_zone_association
"""

EXAMPLES = r"""
- name: Endpoints without private DNS in Datadog's region
  datadog_privatelink.aws.vpc_endpoints:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    subnet_ids: [subnet-0aaa1111bbbb22223]
    security_group_ids: [sg-0123456789abcdef0]
    private_dns_enabled: false
  register: datadog_endpoints

- name: One zone per host name, associated with the Agent VPCs of two regions
  datadog_privatelink.aws.private_zones:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    endpoints: "{{ datadog_endpoints.endpoints }}"
    vpcs:
      - {vpc_id: vpc-0fedcba9876543210, region: eu-west-1}
      - {vpc_id: vpc-0123abcd4567ef890, region: ap-northeast-1}
    purge_vpcs: true

- name: An Agent VPC of another account - authorize it here...
  datadog_privatelink.aws.private_zones:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    vpcs:
      - {vpc_id: vpc-0aaaabbbbccccdddd, region: eu-west-1, account_id: "222222222222"}
  register: datadog_zones

- name: ...associate it with that account's credentials...
  datadog_privatelink.aws.private_zone_association:
    profile: agents-account
    zone_ids: "{{ datadog_zones.zones | dict2items | map(attribute='value.zone_id') | list }}"
    vpc_id: vpc-0aaaabbbbccccdddd
    vpc_region: eu-west-1

- name: Before the first change of a play, stop on zones that would conflict (no write)
  datadog_privatelink.aws.private_zones:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    vpcs:
      - {vpc_id: vpc-0fedcba9876543210, region: eu-west-1}
    validate_only: true

- name: ...and run the zones again to delete the used authorizations
  datadog_privatelink.aws.private_zones:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    vpcs:
      - {vpc_id: vpc-0aaaabbbbccccdddd, region: eu-west-1, account_id: "222222222222"}

- name: Or authorize and associate it in one call, with its account's credentials
  datadog_privatelink.aws.private_zones:
    region: us-east-1
    site: us1
    vpc_id: vpc-0a1b2c3d4e5f67890
    vpcs:
      - vpc_id: vpc-0aaaabbbbccccdddd
        region: eu-west-1
        account_id: "222222222222"
        aws: {profile: agents-account}
"""

RETURN = r"""
zones:
  description: Per zone name, the zone and what it holds.
  returned: always
  type: dict
  contains:
    name:
      description: The zone name - the service's anchor, or its direct host name.
      type: str
      sample: orchid.intake.datadoghq.com
    zone_id:
      description: The hosted zone id; null when it does not exist (yet, in check mode).
      type: str
      sample: Z0123456789ABCDEFGHIJ
    service_keys:
      description: The service keys this name serves.
      type: list
      elements: str
    alias_target:
      description: The endpoint's regional DNS entry the A record aliases.
      type: dict
      sample: {dns_name: vpce-0abc-1x2y3z4w.vpce-svc-07895350fd0109264.us-east-1.vpce.amazonaws.com, hosted_zone_id: Z7HUB22UULQXV}
    vpc_endpoint_id:
      description: The endpoint the record points at.
      type: str
    vpcs:
      description:
        - VPCs associated with the zone - those of this run, and every other one when the zone
          was read (see the notes on C(GetHostedZone)).
      type: list
      elements: dict
    pending_authorizations:
      description: VPCs of other accounts authorized but not yet associated.
      type: list
      elements: dict
    ownership:
      description: V(created) by this collection, or V(adopted) (made by hand, never deleted by it).
      type: str
      sample: created
services:
  description: Per service key, the zone names that serve it.
  returned: always
  type: dict
  sample: {api: [orchid.intake.datadoghq.com]}
created_zones:
  description: Names of the zones created.
  returned: always
  type: list
  elements: str
deleted_zones:
  description: Names of the zones deleted.
  returned: always
  type: list
  elements: str
adopted:
  description: Ids of the zones made by hand that this run adopted (tagged, alias record set, associated).
  returned: always
  type: list
  elements: str
  sample: [Z0123456789ABCDEFGHIJ]
duplicates:
  description:
    - Second zones of one name found on the VPCs of this run that this collection had created,
      as {zone, zone_id, vpcs, kept_zone_id}. They are deleted (the kept zone takes over their VPCs).
  returned: always
  type: list
  elements: dict
migrated_zones:
  description:
    - Zones this collection created before for a customer-facing name that its anchor's zone now
      covers, deleted by this run (after the anchor's zone is in place), as {zone, zone_id, replaced_by}.
  returned: always
  type: list
  elements: dict
  sample: [{zone: api.ap2.datadoghq.com, zone_id: Z0123456789ABCDEFGHIJ, replaced_by: orchid.intake.ap2.datadoghq.com}]
kept_zones:
  description:
    - With O(state=absent) (or when retiring an earlier release's zone), the zones left in
      place, as {zone, zone_id, ownership, reason} -
      adopted zones (only the associations and tags this collection added are removed) and
      created zones holding records this collection did not write.
  returned: always
  type: list
  elements: dict
records_changed:
  description: Names of the zones whose alias record was created or updated.
  returned: always
  type: list
  elements: str
would_change:
  description:
    - With O(validate_only), whether a real run with the same options would change anything. V(true)
      as long as an endpoint does not exist yet (its zone's record cannot be planned).
    - A play that validated first can skip its real run when this is V(false) and the endpoints did not
      change since (the peered_region playbook does).
  returned: with O(validate_only)
  type: bool
  sample: false
associated:
  description: Associations made, as {zone, vpc_id, region}.
  returned: always
  type: list
  elements: dict
disassociated:
  description: Associations removed, as {zone, vpc_id, region}.
  returned: always
  type: list
  elements: dict
authorized:
  description: Association authorizations created for VPCs of other accounts, as {zone, vpc_id, region}.
  returned: always
  type: list
  elements: dict
deauthorized:
  description: Association authorizations deleted (used, or no longer wanted), as {zone, vpc_id, region}.
  returned: always
  type: list
  elements: dict
vpc_dns_enabled:
  description: VPC DNS attributes turned on, as {vpc_id, region, attribute}.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.datadog_privatelink.aws.plugins.module_utils._aws_calls import AWS_OPTIONS_SPEC, AwsCalls, given
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import run
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._site_args import site_argument_spec
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_plan as endpoint_plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _vpc_dns as vpc_dns
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _zone_plan as plan
from ansible_collections.datadog_privatelink.aws.plugins.module_utils._endpoint_services import describe_services


class PrivateZones:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        # validate_only: every read and refusal of a real run, no write.
        self.dry = module.check_mode or self.params["validate_only"]
        self.changed = False
        self.zones = {}
        self.out = dict((key, []) for key in ("created_zones", "deleted_zones", "records_changed", "associated",
                                              "disassociated", "authorized", "deauthorized", "vpc_dns_enabled",
                                              "adopted", "duplicates", "kept_zones", "migrated_zones"))
        self.diff = {"before": [], "after": []}  # lines (_runner)
        self.entries = []
        self.acting_for = None  # the VPC of another account whose `aws` options the current call uses
        self.aws = AwsCalls(module, self.result, self.credentials_hint)
        self.route53 = self.aws.client("route53")
        self.account = None
        try:
            self.site = catalog.site_facts(self.params["site"])
            self.entries = catalog.service_entries(self.params["site"], self.params["services"], self.params["service_names"])
        except catalog.CatalogError as error:
            module.fail_json(msg=str(error))
        if module.region != self.site["region"]:
            module.fail_json(msg="Private zones point at endpoints in Datadog's region: run this module in %s (the %s site's "
                             "region), not %s." % (self.site["region"], self.site["key"], module.region))
        self.endpoint_vpc = {"vpc_id": self.params["vpc_id"], "region": module.region}
        # The `aws` options of the VPCs of other accounts, by (vpc_id, region): never copied into a result.
        self.vpc_aws = dict((plan.vpc_key(v), given(v.get("aws"))) for v in self.params["vpcs"] if given(v.get("aws")))

    def credentials_hint(self, error):
        problem = plan.credentials_problem(error)
        if not problem:
            return None
        if self.acting_for:
            vpc = self.acting_for
            return "%s. Give %s (%s) in vpcs working aws options of its account" % (problem, vpc["vpc_id"], vpc["region"])
        return ("%s. Give this task the credentials of the account that owns %s and the zones (access_key and secret_key, "
                "session_token, profile, or the AWS_* environment variables)." % (problem, self.params["vpc_id"]))

    def clients(self, service, vpc):
        """The client for a VPC: its account's `aws` options when given, else the module's."""
        return self.aws.client(service, vpc["region"] if service == "ec2" else None, self.vpc_aws.get(plan.vpc_key(vpc)))

    # ---- reads -------------------------------------------------------------------------
    def service_details(self):
        if not self.params["verify"]:
            return {}
        names = list(catalog.group_by_service_name(self.entries))
        details, missing = self.aws.run("describe the Datadog endpoint services", describe_services,
                                        self.aws.client("ec2"), names)
        if missing:
            self.module.warn("Not found by DescribeVpcEndpointServices, zones named after the catalog: %s" % ", ".join(missing))
        return details

    def endpoint_targets(self):
        """{service key: {vpc_endpoint_id, regional_dns_entry}} from the input or the VPC."""
        given_endpoints = self.params["endpoints"]
        targets = {}
        if given_endpoints:
            for entry in self.entries:
                found = given_endpoints.get(entry["key"]) or {}
                if found.get("vpc_endpoint_id") and found.get("regional_dns_entry"):
                    targets[entry["key"]] = found
        else:
            existing = self.aws.token_pages(self.aws.client("ec2"), "describe_vpc_endpoints", "VpcEndpoints",
                                            "describe the endpoints of %s" % self.params["vpc_id"], Filters=[
                                                {"Name": "vpc-id", "Values": [self.params["vpc_id"]]},
                                                {"Name": "vpc-endpoint-type", "Values": ["Interface"]}])
            groups = catalog.group_by_service_name(self.entries)
            matched, _extras = endpoint_plan.match_endpoints(list(groups), existing, None, self.module.region)
            for name, endpoint in matched.items():
                regional = endpoint_plan.regional_dns_entry(endpoint) if endpoint else None
                for key in groups[name]:
                    if endpoint and regional:
                        targets[key] = {"vpc_endpoint_id": endpoint["VpcEndpointId"],
                                        "regional_dns_entry": {"dns_name": regional["DnsName"], "hosted_zone_id": regional["HostedZoneId"]}}
        missing = [e["key"] for e in self.entries if e["key"] not in targets]
        if missing and self.dry:
            # A check or validation run of a whole scenario comes before the endpoints exist: predict the zones.
            if not self.params["validate_only"]:  # validation before the endpoints is what it is for: no noise
                self.module.warn("No endpoint yet for %s in %s (check mode): their alias targets are unknown."
                                 % (", ".join(missing), self.params["vpc_id"]))
            for key in missing:
                targets[key] = {"vpc_endpoint_id": None, "regional_dns_entry": {"dns_name": "(endpoint to be created)",
                                                                                "hosted_zone_id": None}}
        elif missing:
            self.module.fail_json(msg="No interface endpoint for %s in %s. Create them first with "
                                  "datadog_privatelink.aws.vpc_endpoints (private_dns_enabled: false)."
                                  % (", ".join(missing), self.params["vpc_id"]))
        return targets

    def vpc_zone_summaries(self, vpc):
        """ListHostedZonesByVPC of one VPC of this run (every account's private zones on it), with its account's credentials."""
        self.acting_for = vpc if plan.vpc_key(vpc) in self.vpc_aws else None
        summaries = self.aws.token_pages(self.clients("route53", vpc), "list_hosted_zones_by_vpc", "HostedZoneSummaries",
                                         "list the private zones of %s (%s)" % (vpc["vpc_id"], vpc["region"]),
                                         ignore=("InvalidVPCId",), VPCId=vpc["vpc_id"], VPCRegion=vpc["region"])
        self.acting_for = None
        return summaries or []  # a VPC deleted since (absent after the Agent VPC went) holds no zone

    def existing_zones(self, names, vpcs, unlisted_wanted=(), full=False):
        """{name: [zone]} for the private zones of these names associated with these VPCs of the run.

        Each zone: {zone_id, name, owner_account (None: this account), owner_service, run_vpcs,
        and for this account's zones vpcs, tags, caller_reference, ownership}. GetHostedZone is
        asked only when the tags and the listed VPCs leave the zone's ownership or associations
        unknown (zone_plan.zone_read_needed), or with full.
        """
        found = {}
        for vpc in vpcs:
            for summary in self.vpc_zone_summaries(vpc):
                name = plan.bare(summary["Name"])
                if name not in names:
                    continue
                owner = summary.get("Owner") or {}
                zone_id = summary["HostedZoneId"].split("/")[-1]
                zone = found.setdefault(zone_id, {"zone_id": zone_id, "name": name, "owner_account": owner.get("OwningAccount"),
                                                  "owner_service": owner.get("OwningService"), "run_vpcs": []})
                zone["run_vpcs"].append(dict(vpc))
        if any(z["owner_account"] for z in found.values()):
            account = self.own_account()
            for zone in found.values():
                if zone["owner_account"] == account:
                    zone["owner_account"] = None
        own = [z for z in found.values() if not (z["owner_account"] or z["owner_service"])]
        what = "read the private zones of %s" % ", ".join(sorted(z["zone_id"] for z in own))
        tags = {}
        ids = sorted(z["zone_id"] for z in own)
        for start in range(0, len(ids), 10):  # ListTagsForResources takes ten zones a call
            answer = self.aws.call(self.route53, "list_tags_for_resources", what, ResourceType="hostedzone",
                                   ResourceIds=ids[start:start + 10])
            for tag_set in answer.get("ResourceTagSets", []):
                tags[tag_set["ResourceId"]] = dict((t["Key"], t["Value"]) for t in tag_set.get("Tags", []))
        listed = set(plan.vpc_key(v) for v in vpcs)
        per_name = {}
        for zone in own:
            per_name[zone["name"]] = per_name.get(zone["name"], 0) + 1
        for zone in own:
            zone["tags"] = tags.get(zone["zone_id"], {})
            if full or per_name[zone["name"]] > 1 or plan.zone_read_needed(zone["tags"], self.params["vpc_id"], listed,
                                                                           unlisted_wanted):
                answer = self.aws.call(self.route53, "get_hosted_zone", what, Id=zone["zone_id"])
                zone["vpcs"] = plan.zone_vpcs(answer)
                zone["caller_reference"] = answer["HostedZone"].get("CallerReference")
            else:  # its own tags say it is ours and every association that matters was listed
                zone["vpcs"] = list(zone["run_vpcs"])
                zone["caller_reference"] = None
            zone["ownership"] = plan.ownership(zone["tags"], zone["caller_reference"], zone["name"], self.params["vpc_id"])
        by_name = {}
        for zone in found.values():
            zone.setdefault("vpcs", list(zone["run_vpcs"]))
            zone.setdefault("ownership", None)
            by_name.setdefault(zone["name"], []).append(zone)
        return by_name

    def zone_records(self, zone_id, name=None):
        """The record sets of a zone: all of them, or only the A record set of `name` (one small read)."""
        what = "read hosted zone %s" % zone_id
        if name is None:
            return self.aws.pages(self.route53, "list_resource_record_sets", "ResourceRecordSets", what, HostedZoneId=zone_id)
        page = self.aws.call(self.route53, "list_resource_record_sets", what, HostedZoneId=zone_id, StartRecordName=name,
                             StartRecordType="A", MaxItems="1")
        return [r for r in page.get("ResourceRecordSets", []) if plan.fqdn(r["Name"]) == plan.fqdn(name) and r["Type"] == "A"]

    def zone_authorizations(self, zone_id, tags, vpcs, foreign_vpcs=()):
        """The association authorizations of a zone, listed only when one can matter.

        That is, when a VPC of another account is wanted that this module does not associate
        itself (its authorization is deleted once used) or that is not associated yet, or when a
        VPC this collection tagged is not associated (it may still be authorized).
        """
        associated = set(plan.vpc_key(v) for v in vpcs)
        if not (any(plan.vpc_key(v) not in self.vpc_aws or plan.vpc_key(v) not in associated for v in foreign_vpcs)
                or any((vpc_id, region) not in associated for vpc_id, region in plan.associated_by_us(tags).items())):
            return []
        found = self.aws.token_pages(self.route53, "list_vpc_association_authorizations", "VPCs",
                                     "read hosted zone %s" % zone_id, HostedZoneId=zone_id)
        return [{"vpc_id": v["VPCId"], "region": v["VPCRegion"]} for v in found]

    def check_vpc_dns(self, vpcs):
        """Refuse (or list to turn on) the DNS attributes that are off; returns [(vpc, attribute)]."""
        to_turn_on = []
        for vpc in vpcs:
            self.acting_for = vpc if plan.vpc_key(vpc) in self.vpc_aws else None
            try:
                off = self.aws.run("read the DNS attributes of %s" % vpc["vpc_id"], vpc_dns.attributes_off,
                                   self.clients("ec2", vpc), vpc["vpc_id"])
            except vpc_dns.VpcNotFound:
                self.module.fail_json(msg="VPC %s not found in %s. %s" % (
                    vpc["vpc_id"], vpc["region"], "Check the aws options given for it: they must be of the account that "
                    "owns it." if self.acting_for else "VPCs of another account need account_id."), **self.result())
            self.acting_for = None
            if off and not self.params["enable_vpc_dns"]:
                self.module.fail_json(msg=vpc_dns.refusal(vpc["vpc_id"], off, vpc["region"]), **self.result())
            to_turn_on.extend((vpc, attribute) for attribute in off)
        return to_turn_on

    def turn_on_vpc_dns(self, to_turn_on):
        for vpc, attribute in to_turn_on:
            self.changed = True
            self.out["vpc_dns_enabled"].append({"vpc_id": vpc["vpc_id"], "region": vpc["region"], "attribute": attribute})
            if not self.dry:
                self.acting_for = vpc if plan.vpc_key(vpc) in self.vpc_aws else None
                self.aws.run("turn on %s of %s" % (attribute, vpc["vpc_id"]), vpc_dns.turn_on, self.clients("ec2", vpc),
                             vpc["vpc_id"], attribute)
                self.acting_for = None

    def own_account(self):
        if self.account is None:
            self.account = self.aws.call(self.aws.client("sts"), "get_caller_identity", "read the caller's account")["Account"]
        return self.account

    def split_vpcs(self):
        """(VPCs of this account, VPCs of other accounts) among O(vpcs), as {vpc_id, region}."""
        account = self.own_account() if any(v.get("account_id") for v in self.params["vpcs"]) else None
        local_vpcs = [{"vpc_id": v["vpc_id"], "region": v["region"]} for v in self.params["vpcs"]
                      if not v.get("account_id") or v["account_id"] == account]
        foreign_vpcs = [{"vpc_id": v["vpc_id"], "region": v["region"]} for v in self.params["vpcs"]
                        if v.get("account_id") and v["account_id"] != account]
        return local_vpcs, foreign_vpcs

    # ---- present -----------------------------------------------------------------------
    def present(self):
        by_zone = plan.zone_names(self.entries, self.service_details())
        legacy = plan.legacy_zone_names(self.entries, by_zone)
        targets = self.endpoint_targets()
        local_vpcs, foreign_vpcs = self.split_vpcs()
        # Other accounts' VPCs with their own credentials are checked and listed like this account's.
        readable = [v for v in foreign_vpcs if plan.vpc_key(v) in self.vpc_aws]
        dns_to_turn_on = self.check_vpc_dns([self.endpoint_vpc] + local_vpcs + readable)
        unlisted = [v for v in foreign_vpcs if plan.vpc_key(v) not in self.vpc_aws]
        existing = self.existing_zones(set(by_zone) | set(legacy), [self.endpoint_vpc] + local_vpcs + readable, unlisted)
        # Every refusal comes before the first write.
        chosen = {}
        for name in sorted(by_zone):
            keep, duplicates, refusal = plan.choose_zone(name, existing.get(name, []), self.endpoint_vpc)
            if refusal:
                self.module.fail_json(msg=refusal, **self.result())
            chosen[name] = (keep, duplicates)
        self.turn_on_vpc_dns(dns_to_turn_on)
        for name in sorted(by_zone):
            keys = by_zone[name]
            keep, duplicates = chosen[name]
            for duplicate in duplicates:
                self.delete_duplicate(name, duplicate, keep)
            self.ensure_zone(name, keys, targets[keys[0]], keep, local_vpcs, foreign_vpcs)
        # Only once the anchors' zones answer: the old zones of customer-facing names go.
        for name in sorted(legacy):
            self.retire_legacy(name, legacy[name], existing.get(name, []), by_zone)

    def retire_legacy(self, name, keys, zones, by_zone):
        """Delete the zones this collection made for a name its anchor's zone now covers; warn of others."""
        replaced_by = ", ".join(sorted(n for n, served in by_zone.items() if set(keys) & set(served)))
        for zone in sorted(zones, key=lambda z: z["zone_id"]):
            if zone["ownership"] == plan.CREATED:
                if self.delete_created(name, zone):
                    self.out["migrated_zones"].append({"zone": name, "zone_id": zone["zone_id"], "replaced_by": replaced_by})
            else:
                self.module.warn(
                    "The private zone %s (%s), not created by this collection for this endpoint VPC, answers for %s in %s: "
                    "it hides Datadog's public CNAME of %s to %s. Unless it points at the right endpoint, delete it (or "
                    "disassociate those VPCs) so that the zone %s answers." % (
                        name, zone["zone_id"], name, ", ".join(v["vpc_id"] for v in zone["run_vpcs"]), name, replaced_by,
                        replaced_by))

    def delete_duplicate(self, name, zone, keep):
        """Delete a second zone of a name that this collection created; the kept zone takes over its VPCs."""
        records = self.zone_records(zone["zone_id"])
        ours = [r for r in records if plan.fqdn(r["Name"]) == plan.fqdn(name) and r["Type"] == "A" and r.get("AliasTarget")]
        others = [r for r in records if r["Type"] not in ("SOA", "NS") and r not in ours]
        if others:
            self.module.fail_json(
                msg="Two private zones %s serve the VPCs of this run: %s (kept) and %s, which this collection created but "
                "which holds records it did not write (%s). Move those records to %s or delete them, then run again."
                % (name, keep["zone_id"], zone["zone_id"], ", ".join("%s %s" % (r["Name"], r["Type"]) for r in others),
                   keep["zone_id"]), **self.result())
        self.changed = True
        self.out["duplicates"].append({"zone": name, "zone_id": zone["zone_id"], "vpcs": sorted(zone["vpcs"], key=plan.vpc_key),
                                       "kept_zone_id": keep["zone_id"]})
        self.module.warn("A second private zone %s (%s) made by this collection served %s: deleted, zone %s takes over."
                         % (name, zone["zone_id"], ", ".join(v["vpc_id"] for v in zone["vpcs"]), keep["zone_id"]))
        if not self.dry:
            self.delete_zone(name, zone["zone_id"], ours)

    def delete_zone(self, name, zone_id, alias_records):
        what = "delete the private hosted zone %s (%s)" % (name, zone_id)
        if alias_records:
            _answer, gone = self.aws.attempt(self.route53, "change_resource_record_sets", what, ("NoSuchHostedZone",),
                                             HostedZoneId=zone_id, ChangeBatch={
                                                 "Changes": [{"Action": "DELETE", "ResourceRecordSet": r} for r in alias_records]})
            if gone:
                return  # another run deleted it first
        self.aws.call(self.route53, "delete_hosted_zone", what, ("NoSuchHostedZone",), Id=zone_id)

    def ensure_zone(self, name, keys, target, found, local_vpcs, foreign_vpcs):
        record = plan.alias_record(name, target["regional_dns_entry"])
        if found is None:
            found = self.create_zone(name, keys)
        existed = not found.get("new")  # a racing run's zone, found after Route53 refused ours, existed too
        zone_id, tags, vpcs = found["zone_id"], found.get("tags", {}), found.get("vpcs", [])
        ownership = found.get("ownership") or plan.ADOPTED
        if found.get("new"):
            current, authorizations = None, []
        else:
            # validate_only reads the record only when its endpoint exists (before the endpoints, its target is unknown).
            current = None if self.record_unknown(target) else next(iter(self.zone_records(zone_id, name)), None)
            authorizations = self.zone_authorizations(zone_id, tags, vpcs, foreign_vpcs)
        if existed and found.get("ownership") is None:
            self.changed = True
            self.out["adopted"].append(zone_id)
        before = {"zone_id": zone_id, "ownership": found.get("ownership"), "vpcs": sorted(plan.vpc_key(v) for v in vpcs),
                  "record": plan.record_view(current),
                  "authorizations": sorted(plan.vpc_key(v) for v in authorizations)} if existed else None

        if not self.record_unknown(target) and not plan.record_matches(current, record):
            self.changed = True
            self.out["records_changed"].append(name)
            if not self.dry:
                self.aws.call(self.route53, "change_resource_record_sets", "write the alias record of %s" % name,
                              HostedZoneId=zone_id, ChangeBatch={
                                  "Comment": "Datadog PrivateLink: %s" % ",".join(keys),
                                  "Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})

        tagged = plan.associated_by_us(tags)
        to_associate, to_disassociate = plan.association_plan(
            vpcs, local_vpcs, self.endpoint_vpc, tagged, self.params["purge_vpcs"])
        associated_now = set(plan.vpc_key(v) for v in vpcs)
        pending = []
        joined = []
        authorized_keys = set(plan.vpc_key(a) for a in authorizations)
        # VPCs of other accounts: authorize until associated, then drop the used authorization; with their
        # aws options, this module associates them itself, between the two.
        for vpc in foreign_vpcs:
            authorized = plan.vpc_key(vpc) in authorized_keys
            if plan.vpc_key(vpc) in associated_now:
                if authorized:
                    self.authorization(zone_id, name, vpc, create=False)
            elif plan.vpc_key(vpc) in self.vpc_aws:
                if not authorized:
                    self.authorization(zone_id, name, vpc, create=True)
                self.associate_foreign(zone_id, name, vpc)
                self.authorization(zone_id, name, vpc, create=False)
                joined.append(vpc)
            else:
                pending.append(vpc)
                if not authorized:
                    self.authorization(zone_id, name, vpc, create=True)
        if self.params["purge_vpcs"]:
            wanted_foreign = set(plan.vpc_key(v) for v in foreign_vpcs)
            for auth in authorizations:
                if plan.vpc_key(auth) not in wanted_foreign and tagged.get(auth["vpc_id"]) == auth["region"]:
                    self.authorization(zone_id, name, auth, create=False)
            to_disassociate = [v for v in to_disassociate if plan.vpc_key(v) not in wanted_foreign]

        for vpc in to_associate:
            self.associate(zone_id, name, vpc)
        for vpc in to_disassociate:
            self.associate(zone_id, name, vpc, join=False)

        wanted_tags = plan.zone_tags(keys, self.site["key"], self.params["vpc_id"], ownership)
        wanted_tags.update(self.params["tags"] or {})
        # An adopted zone's own associations are the user's: tag only those this collection makes.
        marked = local_vpcs + foreign_vpcs if ownership == plan.CREATED else to_associate + pending + joined
        for vpc in marked:
            wanted_tags[plan.ASSOCIATED_VPC_TAG_PREFIX + vpc["vpc_id"]] = vpc["region"]
        remove_tags = [plan.ASSOCIATED_VPC_TAG_PREFIX + v["vpc_id"] for v in to_disassociate]
        if self.params["purge_vpcs"]:
            keep = set(v["vpc_id"] for v in local_vpcs + foreign_vpcs + [self.endpoint_vpc])
            remove_tags = sorted(set(remove_tags) | set(plan.ASSOCIATED_VPC_TAG_PREFIX + v for v in tagged if v not in keep))
        self.retag(zone_id, name, tags, wanted_tags, remove_tags)

        gone = set(plan.vpc_key(d) for d in to_disassociate)
        final_vpcs = [v for v in vpcs if plan.vpc_key(v) not in gone] + to_associate + joined
        self.zones[name] = {
            "name": name, "zone_id": zone_id, "service_keys": keys, "vpc_endpoint_id": target["vpc_endpoint_id"],
            "alias_target": dict(target["regional_dns_entry"]), "ownership": ownership,
            "vpcs": sorted(final_vpcs, key=plan.vpc_key), "pending_authorizations": pending,
        }
        self.diff["before"].extend(plan.diff_lines(name, before))
        self.diff["after"].extend(plan.diff_lines(name, {
            "zone_id": zone_id, "ownership": ownership, "vpcs": sorted(plan.vpc_key(v) for v in final_vpcs),
            "record": plan.record_view(current if self.record_unknown(target) else record),
            "authorizations": sorted(plan.vpc_key(v) for v in pending)}))

    def record_unknown(self, target):
        """validate_only before the endpoint exists: its alias record cannot be planned (and no refusal needs it)."""
        return self.params["validate_only"] and target["vpc_endpoint_id"] is None

    def create_zone(self, name, keys):
        """Create the zone with a CallerReference every run computes alike; a zone a racing run made is used instead."""
        self.changed = True
        self.out["created_zones"].append(name)
        if self.dry:
            return {"zone_id": None, "tags": {}, "vpcs": [dict(self.endpoint_vpc)], "ownership": plan.CREATED, "new": True}
        for generation in range(plan.MAX_GENERATIONS):
            answer, code = self.aws.attempt(
                self.route53, "create_hosted_zone",
                "create the private hosted zone %s; zones created before it are in the result" % name,
                ("HostedZoneAlreadyExists", "ConflictingDomainExists"),
                Name=name, CallerReference=plan.caller_reference(name, self.params["vpc_id"], generation),
                VPC={"VPCRegion": self.endpoint_vpc["region"], "VPCId": self.endpoint_vpc["vpc_id"]},
                HostedZoneConfig={"Comment": "Datadog PrivateLink (%s) - datadog_privatelink.aws" % ",".join(keys), "PrivateZone": True})
            if code is None:
                return {"zone_id": answer["HostedZone"]["Id"].split("/")[-1], "tags": {}, "vpcs": [dict(self.endpoint_vpc)],
                        "ownership": plan.CREATED, "new": True}
            # Another run made the zone a moment ago, or a deleted zone of ours used this reference.
            keep, _duplicates, refusal = plan.choose_zone(
                name, self.existing_zones(set([name]), [self.endpoint_vpc], full=True).get(name, []), self.endpoint_vpc)
            if refusal:
                self.module.fail_json(msg=refusal, **self.result())
            if keep is not None:
                self.out["created_zones"].remove(name)
                return keep
            if code == "ConflictingDomainExists":
                self.module.fail_json(msg="Route53 refused a second private zone %s on %s, yet lists none there: run again."
                                      % (name, self.params["vpc_id"]), **self.result())
        self.module.fail_json(
            msg="Could not create the private hosted zone %s: Route53 already took the CallerReferences of %d earlier zones of "
            "that name for %s (they were deleted). Create the zone by hand on %s; the next run adopts it."
            % (name, plan.MAX_GENERATIONS, self.params["vpc_id"], self.params["vpc_id"]), **self.result())

    def associate(self, zone_id, name, vpc, join=True):
        """Associate (join) or disassociate a VPC of this account with a zone."""
        self.changed = True
        self.out["associated" if join else "disassociated"].append({"zone": name, "vpc_id": vpc["vpc_id"], "region": vpc["region"]})
        if self.dry:
            return
        verb = "associate %s (%s) with" if join else "disassociate %s (%s) from"
        _answer, code = self.aws.attempt(
            self.route53, "associate_vpc_with_hosted_zone" if join else "disassociate_vpc_from_hosted_zone",
            (verb + " %s (%s)") % (vpc["vpc_id"], vpc["region"], name, zone_id),
            ("ConflictingDomainExists",) if join else ("VPCAssociationNotFound",),
            HostedZoneId=zone_id, VPC={"VPCRegion": vpc["region"], "VPCId": vpc["vpc_id"]})
        if code is None:
            return
        # A racing run may have made this very (dis)association.
        answer = self.aws.call(self.route53, "get_hosted_zone", "read hosted zone %s" % zone_id, Id=zone_id)
        if (plan.vpc_key(vpc) in set(plan.vpc_key(v) for v in plan.zone_vpcs(answer))) == join:
            return
        self.module.fail_json(msg="Could not %s %s (%s): Route53 answered %s." % (
            (verb % (vpc["vpc_id"], vpc["region"])), name, zone_id, code), **self.result())

    def associate_foreign(self, zone_id, name, vpc):
        """Associate a VPC of another account with its own credentials (the zone's authorization is in place)."""
        self.changed = True
        self.out["associated"].append({"zone": name, "vpc_id": vpc["vpc_id"], "region": vpc["region"]})
        if self.dry or zone_id is None:
            return
        self.acting_for = vpc
        _answer, code = self.aws.attempt(self.clients("route53", vpc), "associate_vpc_with_hosted_zone",
                                         "associate %s (%s) with %s (%s)" % (vpc["vpc_id"], vpc["region"], name, zone_id),
                                         ("ConflictingDomainExists",), HostedZoneId=zone_id,
                                         VPC={"VPCRegion": vpc["region"], "VPCId": vpc["vpc_id"]})
        if code is not None:
            now = [plan.bare(s["Name"]) + " (" + s["HostedZoneId"].split("/")[-1] + ")" for s in self.vpc_zone_summaries(vpc)]
            if not any(z.endswith("(%s)" % zone_id) for z in now):
                self.module.fail_json(msg="VPC %s (%s) is already associated with another private zone %s, and a VPC resolves "
                                      "a name through one zone only. Its zones: %s. Disassociate the one that is not Datadog's "
                                      "(or delete it), then run again." % (vpc["vpc_id"], vpc["region"], name,
                                                                           ", ".join(sorted(now)) or "none listed"),
                                      **self.result())
        self.acting_for = None

    def authorization(self, zone_id, name, vpc, create):
        self.changed = True
        self.out["authorized" if create else "deauthorized"].append({"zone": name, "vpc_id": vpc["vpc_id"], "region": vpc["region"]})
        if self.dry or zone_id is None:
            return
        self.aws.call(self.route53, "create_vpc_association_authorization" if create else "delete_vpc_association_authorization",
                      "%s the association of %s with %s" % ("authorize" if create else "deauthorize", vpc["vpc_id"], name),
                      () if create else ("VPCAssociationAuthorizationNotFound",),  # a racing run deleted it first
                      HostedZoneId=zone_id, VPC={"VPCRegion": vpc["region"], "VPCId": vpc["vpc_id"]})

    def retag(self, zone_id, name, current, wanted, remove):
        to_set = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
        to_remove = [k for k in remove if k in current and k not in wanted]
        if not (to_set or to_remove):
            return
        self.changed = True
        if self.dry or zone_id is None:
            return
        kwargs = {}
        if to_set:
            kwargs["AddTags"] = [{"Key": k, "Value": v} for k, v in sorted(to_set.items())]
        if to_remove:
            kwargs["RemoveTagKeys"] = to_remove
        self.aws.call(self.route53, "change_tags_for_resource", "tag %s" % name, ResourceType="hostedzone", ResourceId=zone_id,
                      **kwargs)

    # ---- absent ------------------------------------------------------------------------
    def absent(self):
        by_zone = plan.zone_names(self.entries, self.service_details())
        legacy = plan.legacy_zone_names(self.entries, by_zone)  # an earlier release's zones go too
        local_vpcs, _foreign_vpcs = self.split_vpcs()
        existing = self.existing_zones(set(by_zone) | set(legacy), [self.endpoint_vpc] + local_vpcs, full=True)
        for name in sorted(existing):
            for zone in sorted(existing[name], key=lambda z: z["zone_id"]):
                if zone["ownership"] == plan.CREATED:
                    self.delete_created(name, zone)
                elif zone["ownership"] == plan.ADOPTED:
                    self.release_adopted(name, zone)
                # Zones made by hand, of other accounts or of another endpoint VPC's run are not ours to touch.

    def delete_created(self, name, zone):
        zone_id = zone["zone_id"]
        records = self.zone_records(zone_id)
        authorizations = self.zone_authorizations(zone_id, zone["tags"], zone["vpcs"])
        ours = [r for r in records if plan.fqdn(r["Name"]) == plan.fqdn(name) and r["Type"] == "A" and r.get("AliasTarget")]
        others = [r for r in records if r["Type"] not in ("SOA", "NS") and r not in ours]
        before = plan.diff_lines(name, {"zone_id": zone_id, "ownership": plan.CREATED,
                                        "vpcs": sorted(plan.vpc_key(v) for v in zone["vpcs"])})
        self.diff["before"].extend(before)
        if others:
            reason = "holds records this collection did not write (%s)" % ", ".join("%s %s" % (r["Name"], r["Type"]) for r in others)
            self.module.warn("Zone %s (%s) %s: left in place. Delete those records, then run again to delete it." % (name, zone_id, reason))
            self.out["kept_zones"].append({"zone": name, "zone_id": zone_id, "ownership": plan.CREATED, "reason": reason})
            self.diff["after"].extend(before)
            return False
        self.changed = True
        self.out["deleted_zones"].append(name)
        for auth in authorizations:
            self.authorization(zone_id, name, auth, create=False)
        if not self.dry:
            self.delete_zone(name, zone_id, ours)
        return True

    def release_adopted(self, name, zone):
        """Let go of an adopted zone: remove the associations and tags this collection added, keep the zone and its records."""
        zone_id, tags, vpcs = zone["zone_id"], zone["tags"], zone["vpcs"]
        tagged = plan.associated_by_us(tags)
        authorizations = self.zone_authorizations(zone_id, tags, vpcs)
        remaining = [v for v in vpcs if tagged.get(v["vpc_id"]) != v["region"]]
        ours = [v for v in vpcs if tagged.get(v["vpc_id"]) == v["region"]]
        left = []
        if not remaining and ours:
            left = [ours.pop()]  # Route53 keeps at least one VPC on a private zone
            remaining = left
        for vpc in ours:
            self.associate(zone_id, name, vpc, join=False)
        for auth in authorizations:
            if tagged.get(auth["vpc_id"]) == auth["region"]:
                self.authorization(zone_id, name, auth, create=False)
        self.retag(zone_id, name, tags, {}, plan.collection_tag_keys(tags))
        reason = "adopted (made by hand): the zone and its records stay"
        if ours:
            reason += "; removed the associations this collection made (%s)" % ", ".join(v["vpc_id"] for v in ours)
        if left:
            reason += "; %s stays associated, as a private zone needs one VPC" % left[0]["vpc_id"]
        self.out["kept_zones"].append({"zone": name, "zone_id": zone_id, "ownership": plan.ADOPTED, "reason": reason})
        self.diff["before"].extend(plan.diff_lines(name, {"zone_id": zone_id, "ownership": plan.ADOPTED,
                                                          "vpcs": sorted(plan.vpc_key(v) for v in vpcs)}))
        self.diff["after"].extend(plan.diff_lines(name, {"zone_id": zone_id, "ownership": None,
                                                         "vpcs": sorted(plan.vpc_key(v) for v in remaining)}))

    def result(self):
        services = dict((e["key"], sorted(n for n, z in self.zones.items() if e["key"] in z["service_keys"])) for e in self.entries)
        # validate_only never changes anything; its result still says what a run would do.
        result = dict(changed=self.changed and not self.params["validate_only"], zones=self.zones, services=services,
                      site=getattr(self, "site", None))
        if self.params["validate_only"]:
            # What a real run would do is known only where every endpoint exists (their alias records are read then).
            result["would_change"] = self.changed or any(z["vpc_endpoint_id"] is None for z in self.zones.values())
        result.update(self.out)
        return result


def main():
    module = AnsibleAWSModule(
        argument_spec=site_argument_spec(
            verify=dict(type="bool", default=True),
            vpc_id=dict(type="str", required=True),
            endpoints=dict(type="dict"),
            vpcs=dict(type="list", elements="dict", default=[], options=dict(
                vpc_id=dict(type="str", required=True),
                region=dict(type="str", required=True),
                account_id=dict(type="str"),
                aws=dict(type="dict", options=AWS_OPTIONS_SPEC),
            )),
            purge_vpcs=dict(type="bool", default=False),
            enable_vpc_dns=dict(type="bool", default=False),
            tags=dict(type="dict", default={}),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            validate_only=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    run(module, PrivateZones(module))


if __name__ == "__main__":
    main()
