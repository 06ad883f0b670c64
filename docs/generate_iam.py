#!/usr/bin/env python
"""Write docs/iam/*.json: one least-privilege IAM policy per scenario and account side.

The ownership tag comes from plugins/module_utils/catalog.py, so the policies follow it.
Usage: python docs/generate_iam.py [--check]   (--check: exit 1 when a file is not current)
"""

import json
import os
import sys

from _generated import load_catalog, write_or_check  # noqa: E402 - docs/ is the script's own folder

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "iam")


def statement(sid, actions, resources="*", condition=None):
    entry = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
             "Resource": resources if isinstance(resources, str) else sorted(resources)}
    if condition:
        entry["Condition"] = condition
    return entry


def policies(catalog):
    owned = {"StringEquals": {"aws:ResourceTag/%s" % catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE}}
    tagged_on_create = {"StringEquals": {"aws:RequestTag/%s" % catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE}}
    # Reads: EC2 Describe* take no resource-level permission. sts:GetCallerIdentity needs none at all.
    endpoint_reads = ["ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                      "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcEndpointServices", "ec2:DescribeNetworkInterfaces"]
    # Peering, routes and the rules written for peered CIDRs; the private path of peered Agent VPCs.
    peering_reads = ["ec2:DescribeRouteTables", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSecurityGroupRules"]
    reads = statement("Read", endpoint_reads)
    reads_peered = statement("Read", endpoint_reads + peering_reads)
    endpoints = [
        statement("CreateOwnedEndpoints", ["ec2:CreateVpcEndpoint"],
                  "arn:aws:ec2:*:*:vpc-endpoint/*", tagged_on_create),
        statement("CreateEndpointsInVpc", ["ec2:CreateVpcEndpoint"],
                  ["arn:aws:ec2:*:*:vpc/*", "arn:aws:ec2:*:*:subnet/*", "arn:aws:ec2:*:*:security-group/*"]),
        # Endpoints someone else made are repaired too (subnets, groups, private DNS), never deleted.
        statement("RepairEndpoints", ["ec2:ModifyVpcEndpoint"],
                  ["arn:aws:ec2:*:*:vpc-endpoint/*", "arn:aws:ec2:*:*:subnet/*", "arn:aws:ec2:*:*:security-group/*"]),
        statement("DeleteOwnedEndpoints", ["ec2:DeleteVpcEndpoints"], "arn:aws:ec2:*:*:vpc-endpoint/*", owned),
        statement("SecurityGroupOfTheEndpoints", ["ec2:CreateSecurityGroup"],
                  ["arn:aws:ec2:*:*:security-group/*", "arn:aws:ec2:*:*:vpc/*"]),
        statement("RulesOnTheEndpointGroup", ["ec2:AuthorizeSecurityGroupIngress"], "arn:aws:ec2:*:*:security-group/*"),
        statement("DeleteOwnedSecurityGroup", ["ec2:DeleteSecurityGroup"], "arn:aws:ec2:*:*:security-group/*", owned),
        statement("TagWhatItCreates", ["ec2:CreateTags"], "arn:aws:ec2:*:*:*/*",
                  {"StringEquals": {"ec2:CreateAction": ["CreateVpcEndpoint", "CreateSecurityGroup",
                                                          "CreateVpcPeeringConnection"]}}),
        statement("RetagOwned", ["ec2:CreateTags", "ec2:DeleteTags"], "arn:aws:ec2:*:*:*/*", owned),
        # An endpoint made by hand is adopted: it gets the ownership tag, which marks it adopted, not created.
        statement("TagAdoptedEndpoints", ["ec2:CreateTags"], "arn:aws:ec2:*:*:vpc-endpoint/*", tagged_on_create),
    ]
    # Interface endpoints with private DNS make AWS associate a private zone with the VPC on the caller's behalf.
    private_dns = statement("EndpointPrivateDns", ["route53:AssociateVPCWithHostedZone"], "*")
    # Private zones on the endpoint VPC, read before the first endpoint and by the private-path check.
    zones_on_vpc = statement("ZonesOnTheVpc", ["route53:ListHostedZonesByVPC"], "*")
    # Cross-region PrivateLink: CreateVpcEndpoint with ServiceRegion also checks this action.
    multi_region = statement("CrossRegionPrivateLink", ["vpce:AllowMultiRegion"], "*")
    peering_endpoint = [
        # The private zones need the VPCs' DNS support and hostnames on; the modules turn them on when asked.
        statement("VpcDnsAttributes", ["ec2:ModifyVpcAttribute"], "arn:aws:ec2:*:*:vpc/*"),
        # security_group_rules keeps TCP 443 from the peered CIDRs on the endpoint group, and revokes only its own.
        statement("PeeredRulesOnTheEndpointGroup", [
            "ec2:RevokeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules", "ec2:UpdateSecurityGroupRuleDescriptionsIngress"],
            "arn:aws:ec2:*:*:security-group/*"),
        statement("RequestPeering", ["ec2:CreateVpcPeeringConnection"],
                  ["arn:aws:ec2:*:*:vpc/*", "arn:aws:ec2:*:*:vpc-peering-connection/*"]),
        statement("DeleteOwnedPeering", ["ec2:DeleteVpcPeeringConnection"],
                  "arn:aws:ec2:*:*:vpc-peering-connection/*", owned),
        statement("RoutesThroughPeering", ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"], "arn:aws:ec2:*:*:route-table/*"),
        # An Agent VPC of this same account (in another region) has its peering accepted with these credentials.
        statement("AcceptPeeringOfOwnAgentVpcs", ["ec2:AcceptVpcPeeringConnection"],
                  ["arn:aws:ec2:*:*:vpc-peering-connection/*", "arn:aws:ec2:*:*:vpc/*"]),
        # A connection made by hand is adopted: tagged so, never deleted (DeleteOwnedPeering needs the owner tag).
        statement("AdoptPeering", ["ec2:CreateTags"], "arn:aws:ec2:*:*:vpc-peering-connection/*",
                  {"StringEquals": {"aws:RequestTag/%s" % catalog.OWNERSHIP_TAG_KEY: catalog.OWNERSHIP_ADOPTED}}),
    ]
    zones_read = statement("ZonesRead", [
        "route53:ListHostedZones", "route53:ListHostedZonesByVPC", "route53:GetHostedZone",
        "route53:ListResourceRecordSets", "route53:ListVPCAssociationAuthorizations",
        "route53:ListTagsForResource", "route53:ListTagsForResources", "route53:GetChange"])
    zones_write = [
        statement("CreateZones", ["route53:CreateHostedZone", "route53:AssociateVPCWithHostedZone"], "*"),
        statement("ManageZones", [
            "route53:ChangeResourceRecordSets", "route53:ChangeTagsForResource", "route53:DeleteHostedZone",
            "route53:DisassociateVPCFromHostedZone", "route53:CreateVPCAssociationAuthorization",
            "route53:DeleteVPCAssociationAuthorization"], "arn:aws:route53:::hostedzone/*"),
        statement("AssociateAgentVpcs", ["route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone"],
                  "arn:aws:ec2:*:*:vpc/*"),
    ]
    agent_account = [
        statement("AcceptPeering", ["ec2:AcceptVpcPeeringConnection"],
                  ["arn:aws:ec2:*:*:vpc-peering-connection/*", "arn:aws:ec2:*:*:vpc/*"]),
        statement("DeleteOwnedPeering", ["ec2:DeleteVpcPeeringConnection"],
                  "arn:aws:ec2:*:*:vpc-peering-connection/*", owned),
        statement("RoutesThroughPeering", ["ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute"], "arn:aws:ec2:*:*:route-table/*"),
        # The accepter side sees none of the requester's tags: it gets its own, owner tag included.
        statement("TagAcceptedPeering", ["ec2:CreateTags"], "arn:aws:ec2:*:*:vpc-peering-connection/*", tagged_on_create),
        statement("ZoneAssociation", ["route53:AssociateVPCWithHostedZone", "route53:DisassociateVPCFromHostedZone",
                                      "route53:ListHostedZonesByVPC", "route53:GetHostedZone"], "*"),
    ]
    return {
        "same_region": [reads] + endpoints + [private_dns, zones_on_vpc],
        "cross_region": [reads] + endpoints + [private_dns, zones_on_vpc, multi_region],
        "peered_region_endpoint_account": [reads_peered] + endpoints + peering_endpoint + [zones_read] + zones_write,
        "peered_region_agent_account": [reads_peered] + agent_account,
    }


def render(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2) + "\n"


def main():
    files = {os.path.join(OUT, name + ".json"): render(statements) for name, statements in policies(load_catalog()).items()}
    return write_or_check(files, "generate_iam.py")


if __name__ == "__main__":
    sys.exit(main())
