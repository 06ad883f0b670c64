# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The two VPC DNS attributes that private DNS and private hosted zones both need.

Private to this collection; used by vpc_endpoints, private_zones and private_zone_association.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

# (DescribeVpcAttribute name, answer key and ModifyVpcAttribute argument)
DNS_ATTRIBUTES = (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames"))


class VpcNotFound(Exception):
    pass


def attributes_off(client, vpc_id):
    """The DNS attributes that are off on a VPC; raises VpcNotFound."""
    off = []
    for attribute, key in DNS_ATTRIBUTES:
        try:
            answer = client.describe_vpc_attribute(aws_retry=True, VpcId=vpc_id, Attribute=attribute)
        except is_boto3_error_code("InvalidVpcID.NotFound"):
            raise VpcNotFound(vpc_id)
        if not answer.get(key, {}).get("Value"):
            off.append(attribute)
    return off


def turn_on(client, vpc_id, attribute):
    key = dict(DNS_ATTRIBUTES)[attribute]
    client.modify_vpc_attribute(aws_retry=True, VpcId=vpc_id, **{key: {"Value": True}})


def refusal(vpc_id, off, where="", switch="enable_vpc_dns=true"):
    return ("%s is off on %s%s: private DNS and private hosted zones need enableDnsSupport and enableDnsHostnames. "
            "Turn them on (amazon.aws.ec2_vpc_net dns_support and dns_hostnames), or set %s."
            % (" and ".join(off), vpc_id, " (%s)" % where if where else "", switch))
