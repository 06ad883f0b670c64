"""Moto patches that make interface VPC endpoints behave like AWS's (see README.md).

Installed once per process by ``install()``. Everything here runs inside moto's request
handling, so errors are raised as moto's EC2ClientError and rendered in EC2's format.
"""

import fnmatch
import json
import random
import re
import string
import threading

from moto.ec2 import ec2_backends
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidParameter,
    InvalidSecurityGroupNotFoundError,
    InvalidNextToken,
    InvalidServiceName,
    InvalidVpcEndPointIdError,
)
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.models.vpcs import MAX_NUMBER_OF_ENDPOINT_SERVICES_RESULTS, VPCBackend, VPCEndPoint
from moto.ec2.responses.vpcs import VPCs
from moto.ec2.utils import add_tag_specification
from moto.core.responses import ActionResult

from sandbox import datadog
from sandbox.control import STATE

# Hosted zone ids of "<region>.vpce.amazonaws.com" (the alias target zone of an endpoint's
# DNS names); from external-dns's canonicalHostedZones table (provider/aws/aws.go).
VPCE_HOSTED_ZONE_IDS = {
    "af-south-1": "Z09302161J80N9A7UTP7U",
    "ap-east-1": "Z2LIHJ7PKBEMWN",
    "ap-northeast-1": "Z2E726K9Y6RL4W",
    "ap-northeast-2": "Z27UANNT0PRK1T",
    "ap-northeast-3": "Z376B5OMM2JZL2",
    "ap-south-1": "Z2KVTB3ZLFM7JR",
    "ap-southeast-1": "Z18LLCSTV4NVNL",
    "ap-southeast-2": "ZDK2GCRPAFKGO",
    "ca-central-1": "ZRCXCF510Y6P9",
    "eu-central-1": "Z273ZU8SZ5RJPC",
    "eu-north-1": "Z3OWWK6JFDEDGC",
    "eu-south-1": "Z2A5FDNRLY7KZG",
    "eu-west-1": "Z38GZ743OKFT7T",
    "eu-west-2": "Z7K1066E3PUKB",
    "eu-west-3": "Z1DWHTMFP0WECP",
    "me-south-1": "Z3B95P3VBGEQGY",
    "sa-east-1": "Z2LXUWEVLCVZIB",
    "us-east-1": "Z7HUB22UULQXV",
    "us-east-2": "ZC8PG0KIFKBRI",
    "us-west-1": "Z12I86A8N7VCZO",
    "us-west-2": "Z1YSA3EXCYUU9Z",
}

# States in which an endpoint no longer counts (for conflicts and "is there one already").
GONE_STATES = ("deleting", "deleted", "failed", "rejected", "expired")

# Creates are serialised: the server is threaded, and a ClientToken check must see earlier creates.
_CREATE_LOCK = threading.Lock()

_ORIGINAL_COLLECT = VPCBackend.__dict__["_collect_default_endpoint_services"].__func__


def vpce_hosted_zone_id(region):
    # Regions missing from the table get a stable, obviously-derived id.
    return VPCE_HOSTED_ZONE_IDS.get(region) or "Z" + "".join(c for c in region.upper() if c.isalnum())[:12] + "VPCE"


def _random_lower(length):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(length))


def _zones(region):
    return [zone for zone in RegionsAndZonesBackend.zones.get(region, [])]


# --- endpoint services -------------------------------------------------------------

def _collect_with_datadog(account_id, region):
    """moto's default AWS services of a region, plus Datadog's real ones."""
    return list(_ORIGINAL_COLLECT(account_id, region)) + datadog.service_details(region, _zones(region))


def services_in(account_id, own_region, service_region):
    """ServiceDetail dicts a caller in own_region can reach in service_region."""
    backend = ec2_backends[account_id][service_region]
    if service_region == own_region:
        services = backend._collect_default_endpoint_services(account_id, service_region)
        services = services + [config.to_dict() for config in backend.configurations.values()]
    else:
        # Cross-region PrivateLink: only services whose owner enabled it (Datadog's).
        services = [s for s in datadog.service_details(service_region, _zones(service_region)) if s.get("_cross_region")]
    return [dict(service, ServiceRegion=service_region) for service in services]


def find_service(account_id, own_region, service_region, service_name):
    for service in services_in(account_id, own_region, service_region):
        if service["ServiceName"] == service_name:
            return service
    raise InvalidServiceName(service_name)


_SERVICE_FILTERS = {
    "service-name": lambda s: [s["ServiceName"]],
    "service-type": lambda s: [t["ServiceType"] for t in s["ServiceType"]],
    "service-region": lambda s: [s["ServiceRegion"]],
    "owner": lambda s: [s.get("Owner", "")],
    "supported-ip-address-types": lambda s: s.get("SupportedIpAddressTypes", ["ipv4"]),
    "tag-key": lambda s: [t["Key"] for t in s.get("Tags", [])],
}


def _service_filter_values(service, name):
    if name.startswith("tag:"):
        return [t["Value"] for t in service.get("Tags", []) if t["Key"] == name[4:]]
    if name not in _SERVICE_FILTERS:
        raise EC2ClientError("InvalidParameterValue", "The filter '%s' is invalid" % name)
    return _SERVICE_FILTERS[name](service)


def _describe_vpc_endpoint_services(self):
    """Response method: adds ServiceRegions (cross-region) and ServiceRegion on every detail."""
    account_id, own_region = self.current_account, self.region
    regions = self._get_param("ServiceRegions", []) or [own_region]
    names = self._get_param("ServiceNames", [])
    services = []
    for region in regions:
        services.extend(services_in(account_id, own_region, region))
    known = {service["ServiceName"] for service in services}
    for name in names:
        if name not in known:
            raise InvalidServiceName(name)
    if names:
        services = [s for s in services if s["ServiceName"] in names]
    for name, wanted in self._filters_from_querystring().items():  # moto's own filter answers 500
        services = [
            s for s in services
            if any(fnmatch.fnmatchcase(str(v), p) for v in _service_filter_values(s, name) for p in wanted)
        ]
    services.sort(key=lambda s: s["ServiceName"])
    max_results = self._get_int_param("MaxResults")
    if not max_results or max_results > MAX_NUMBER_OF_ENDPOINT_SERVICES_RESULTS:
        max_results = MAX_NUMBER_OF_ENDPOINT_SERVICES_RESULTS
    # Opaque page token (moto's uses ServiceId, which repeats: s3 is Gateway and Interface).
    token = self._get_param("NextToken")
    start = 0
    if token:
        if not re.fullmatch(r"sandbox-page-\d+", token):
            raise InvalidNextToken(token)
        start = int(token.rsplit("-", 1)[1])
    page = services[start : start + max_results]
    following = "sandbox-page-%d" % (start + max_results) if len(services) > start + max_results else None
    return ActionResult(
        {"ServiceNames": [s["ServiceName"] for s in page], "ServiceDetails": page, "NextToken": following}
    )


# --- endpoint state: pending, then available / failed / rejected ------------------

def _get_state(self):
    base = self.__dict__.get("_sandbox_base_state", "available")
    ready_at = self.__dict__.get("_sandbox_ready_at")
    if base != "available" or ready_at is None:
        return base
    if STATE.now() < ready_at:
        return "pending"
    outcome = self.__dict__.get("_sandbox_outcome")
    return outcome["state"] if outcome else "available"


def _set_state(self, value):
    self.__dict__["_sandbox_base_state"] = value


def _get_last_error(self):
    outcome = self.__dict__.get("_sandbox_outcome")
    if outcome and self.state == outcome["state"]:
        return {"Code": outcome["code"], "Message": outcome["message"]}
    return None


def _alive(endpoint):
    return endpoint.state not in GONE_STATES


# --- DNS entries ----------------------------------------------------------------------

def _rebuild_dns_entries(backend, endpoint):
    """Regional entry, one per subnet AZ, then the private DNS name (as AWS orders them)."""
    if (endpoint.vpc_endpoint_type or "").lower() != "interface":
        return
    region = backend.region_name
    zone_id = vpce_hosted_zone_id(region)
    service_name = endpoint.service_name
    if ".vpce-svc-" in service_name:
        suffix = "%s.%s.vpce.amazonaws.com" % (service_name.rsplit(".", 1)[-1], region)
    else:  # com.amazonaws.<region>.<service> -> <service>.<region>.vpce.amazonaws.com
        service_part = service_name.split(".", 3)[-1]
        suffix = "%s.%s.vpce.amazonaws.com" % (service_part, region)
    base = "%s-%s" % (endpoint.id, endpoint.__dict__.setdefault("_sandbox_token", _random_lower(8)))
    entries = [{"DnsName": "%s.%s" % (base, suffix), "HostedZoneId": zone_id}]
    azs = []
    for subnet_id in endpoint.subnet_ids or []:
        az = backend.get_subnet(subnet_id).availability_zone
        if az not in azs:
            azs.append(az)
    entries += [{"DnsName": "%s-%s.%s" % (base, az, suffix), "HostedZoneId": zone_id} for az in azs]
    private_dns = getattr(endpoint, "_sandbox_private_dns_name", None)
    if endpoint.private_dns_enabled and private_dns:
        entries.append({"DnsName": private_dns, "HostedZoneId": endpoint._sandbox_private_zone_id})
    endpoint.dns_entries = entries


# --- checks AWS makes and moto does not ------------------------------------------------

def _truthy(value):
    return str(value).lower() == "true"


def _check_subnets(backend, vpc_id, subnet_ids, kept_subnet_ids=()):
    seen = {}
    for subnet_id in list(kept_subnet_ids) + list(subnet_ids):
        subnet = backend.get_subnet(subnet_id)  # InvalidSubnetID.NotFound
        if subnet.vpc_id != vpc_id:
            raise InvalidParameter("The subnet ID '%s' does not belong to the VPC '%s'." % (subnet_id, vpc_id))
        other = seen.get(subnet.availability_zone)
        if other and other != subnet_id:
            raise EC2ClientError(
                "DuplicateSubnetsInSameZone",
                "Found another VPC endpoint subnet in the availability zone of %s. VPC endpoint subnets "
                "should be in different availability zones supported by the VPC endpoint service." % subnet_id,
            )
        seen[subnet.availability_zone] = subnet_id


def _check_security_groups(backend, vpc_id, group_ids):
    for group_id in group_ids:
        group = backend.get_security_group_from_id(group_id)
        if group is None:
            raise InvalidSecurityGroupNotFoundError(group_id)
        if group.vpc_id != vpc_id:
            raise InvalidParameter(
                "The security group '%s' does not belong to the VPC '%s'." % (group_id, vpc_id)
            )


def _check_private_dns(backend, account_id, vpc_id, private_dns, exclude_id=None):
    """AWS refuses private DNS without VPC DNS attributes, or when the name is taken in the VPC."""
    vpc = backend.get_vpc(vpc_id)
    if not (_truthy(vpc.enable_dns_support) and _truthy(vpc.enable_dns_hostnames)):
        raise InvalidParameter(
            "Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC "
            "attributes set to true for %s" % vpc_id
        )
    conflict = any(
        other.vpc_id == vpc_id
        and other.id != exclude_id
        and _alive(other)
        and other.private_dns_enabled
        and getattr(other, "_sandbox_private_dns_name", None) == private_dns
        for other in backend.vpc_end_points.values()
    )
    if not conflict:
        from moto.route53.models import route53_backends

        for zone in route53_backends[account_id]["aws"].zones.values():
            if zone.private_zone and zone.name.rstrip(".") == private_dns and any(
                v.get("vpc_id") == vpc_id for v in zone.vpcs
            ):
                conflict = True
    if conflict:
        raise InvalidParameter(
            "private-dns-enabled cannot be set because there is already a conflicting DNS domain "
            "for %s in the VPC %s" % (private_dns, vpc_id)
        )


# --- ENIs: one per subnet, address inside the subnet --------------------------------

def _add_enis(backend, endpoint, subnet_ids):
    for subnet_id in subnet_ids:
        eni = backend.create_network_interface(
            subnet_id, None, group_ids=endpoint.security_group_ids,
            description="VPC Endpoint Interface %s" % endpoint.id,
        )
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True
        endpoint.network_interface_ids.append(eni.id)


def _remove_enis(backend, endpoint, subnet_ids):
    kept = []
    for eni_id in endpoint.network_interface_ids:
        eni = backend.enis.get(eni_id)
        if eni is not None and eni.subnet.id in subnet_ids:
            backend.enis.pop(eni_id, None)
        else:
            kept.append(eni_id)
    endpoint.network_interface_ids = kept


# --- CreateVpcEndpoint / ModifyVpcEndpoint / DeleteVpcEndpoints / Describe ------------

def _token_parameters(self):
    """The request's parameters that an idempotent retry must repeat (AWS compares them)."""
    return {
        "VpcId": self._get_param("VpcId"),
        "ServiceName": self._get_param("ServiceName"),
        "VpcEndpointType": self._get_param("VpcEndpointType") or "Gateway",
        "ServiceRegion": self._get_param("ServiceRegion") or self.region,
        "SubnetIds": sorted(self._get_param("SubnetIds", [])),
        "SecurityGroupIds": sorted(self._get_param("SecurityGroupIds", [])),
        "PrivateDnsEnabled": self._get_bool_param("PrivateDnsEnabled", if_none=None),
        "RouteTableIds": sorted(self._get_param("RouteTableIds", [])),
        "PolicyDocument": self._get_param("PolicyDocument"),
    }


def _create_vpc_endpoint(self):
    with _CREATE_LOCK:
        return _create_vpc_endpoint_locked(self)


def _create_vpc_endpoint_locked(self):
    backend, account_id, own_region = self.ec2_backend, self.current_account, self.region
    vpc_id = self._get_param("VpcId")
    service_name = self._get_param("ServiceName")
    endpoint_type = self._get_param("VpcEndpointType") or "Gateway"  # AWS's default
    service_region = self._get_param("ServiceRegion") or own_region
    subnet_ids = self._get_param("SubnetIds", [])
    group_ids = self._get_param("SecurityGroupIds", [])
    client_token = self._get_param("ClientToken")
    private_dns_enabled = self._get_bool_param("PrivateDnsEnabled", if_none=None)

    if client_token:  # idempotent retry: AWS returns the endpoint made by the first call
        for endpoint in backend.vpc_end_points.values():
            if endpoint.client_token == client_token:
                if getattr(endpoint, "_sandbox_token_parameters", None) != _token_parameters(self):
                    raise EC2ClientError(
                        "IdempotentParameterMismatch",
                        "The request uses the same client token as a previous, but non-identical request.",
                    )
                return ActionResult({"VpcEndpoint": endpoint, "ClientToken": client_token})

    backend.get_vpc(vpc_id)  # InvalidVpcID.NotFound
    service = find_service(account_id, own_region, service_region, service_name)
    service_types = [t["ServiceType"] for t in service["ServiceType"]]
    if endpoint_type not in service_types:
        raise InvalidParameter(
            "The Vpc Endpoint Service '%s' does not support endpoint type '%s'." % (service_name, endpoint_type)
        )
    interface = endpoint_type == "Interface"
    private_dns = service.get("PrivateDnsName") if interface else None
    if private_dns_enabled is None:
        private_dns_enabled = interface  # AWS: default true for interface endpoints
    if interface:
        _check_subnets(backend, vpc_id, subnet_ids)
        if not group_ids:  # AWS attaches the VPC's default security group
            default = backend.get_default_security_group(vpc_id)
            group_ids = [default.id] if default else []
        _check_security_groups(backend, vpc_id, group_ids)
        if private_dns_enabled and private_dns:
            _check_private_dns(backend, account_id, vpc_id, private_dns)

    endpoint = backend.create_vpc_endpoint(
        vpc_id=vpc_id,
        service_name=service_name,
        endpoint_type=endpoint_type,
        policy_document=self._get_param("PolicyDocument"),
        route_table_ids=self._get_param("RouteTableIds", []),
        subnet_ids=[] if interface else subnet_ids,  # our ENIs replace moto's (random IPs)
        client_token=client_token,
        security_group_ids=group_ids,
        tags=add_tag_specification(self._get_param("TagSpecifications", [])),
        private_dns_enabled=bool(private_dns_enabled) if interface else False,
    )
    endpoint.service_region = service_region
    endpoint.requester_managed = False
    endpoint._sandbox_token_parameters = _token_parameters(self)
    if interface:
        endpoint.subnet_ids = list(subnet_ids)
        endpoint.ip_address_type = "ipv4"
        endpoint.dns_options = {"DnsRecordIpType": "ipv4"}
        endpoint._sandbox_token = _random_lower(8)
        endpoint._sandbox_private_dns_name = private_dns
        endpoint._sandbox_private_zone_id = "Z0" + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(19))
        endpoint._sandbox_ready_at = STATE.now() + STATE.pending_seconds
        endpoint._sandbox_outcome = STATE.outcome_for(service_name)
        _add_enis(backend, endpoint, subnet_ids)
        _rebuild_dns_entries(backend, endpoint)
    result = {"VpcEndpoint": endpoint}
    if client_token:
        result["ClientToken"] = client_token
    return ActionResult(result)


def _modify_vpc_endpoint(self):
    backend, account_id = self.ec2_backend, self.current_account
    endpoint = backend.get_vpc_end_point(self._get_param("VpcEndpointId"))
    add_subnets = self._get_param("AddSubnetIds", [])
    remove_subnets = self._get_param("RemoveSubnetIds", [])
    add_groups = self._get_param("AddSecurityGroupIds", [])
    private_dns_enabled = self._get_bool_param("PrivateDnsEnabled", if_none=None)
    interface = (endpoint.vpc_endpoint_type or "").lower() == "interface"

    if interface:
        kept = [s for s in endpoint.subnet_ids or [] if s not in remove_subnets]
        _check_subnets(backend, endpoint.vpc_id, [s for s in add_subnets if s not in kept], kept)
        _check_security_groups(backend, endpoint.vpc_id, add_groups)
        private_dns = getattr(endpoint, "_sandbox_private_dns_name", None)
        if private_dns_enabled and not endpoint.private_dns_enabled and private_dns:
            _check_private_dns(backend, account_id, endpoint.vpc_id, private_dns, exclude_id=endpoint.id)

    policy = self._get_param("PolicyDocument")
    if _truthy(self._get_param("ResetPolicy")):
        policy = json.dumps(VPCEndPoint.DEFAULT_POLICY)
    # moto handles policy, route tables and security groups; subnets are ours (ENIs).
    endpoint.modify(
        policy,
        None if interface else add_subnets,
        None if interface else remove_subnets,
        self._get_param("AddRouteTableIds", []),
        self._get_param("RemoveRouteTableIds", []),
        add_groups,
        self._get_param("RemoveSecurityGroupIds", []),
    )
    if interface:
        if remove_subnets:
            _remove_enis(backend, endpoint, remove_subnets)
            endpoint.subnet_ids = [s for s in endpoint.subnet_ids if s not in remove_subnets]
        new = [s for s in add_subnets if s not in endpoint.subnet_ids]
        endpoint.subnet_ids.extend(new)
        _add_enis(backend, endpoint, new)
        if private_dns_enabled is not None:
            endpoint.private_dns_enabled = private_dns_enabled
        _rebuild_dns_entries(backend, endpoint)
    return ActionResult({"Return": True})


def _delete_vpc_endpoints(self):
    backend = self.ec2_backend
    unsuccessful = []
    found = []
    for endpoint_id in self._get_param("VpcEndpointIds", []):
        if endpoint_id in backend.vpc_end_points:
            found.append(endpoint_id)
        else:
            unsuccessful.append(
                {
                    "ResourceId": endpoint_id,
                    "Error": {
                        "Code": "InvalidVpcEndpoint.NotFound",
                        "Message": "The VpcEndpoint Id '%s' does not exist" % endpoint_id,
                    },
                }
            )
    backend.delete_vpc_endpoints(vpce_ids=found)
    return ActionResult({"Unsuccessful": unsuccessful})


_FILTERS = {
    "vpc-endpoint-id": lambda e: [e.id],
    "vpc-id": lambda e: [e.vpc_id],
    "service-name": lambda e: [e.service_name],
    "service-region": lambda e: [getattr(e, "service_region", None) or e.ec2_backend.region_name],
    "vpc-endpoint-state": lambda e: [e.state],
    "vpc-endpoint-type": lambda e: [e.vpc_endpoint_type or "Gateway"],
    "subnet-id": lambda e: list(e.subnet_ids or []),
    "ip-address-type": lambda e: [getattr(e, "ip_address_type", None) or "ipv4"],
    "tag-key": lambda e: [tag["key"] for tag in e.get_tags()],
    "tag-value": lambda e: [tag["value"] for tag in e.get_tags()],
}


def _filter_values(endpoint, name):
    """The endpoint's values for a DescribeVpcEndpoints filter."""
    if name.startswith("tag:"):
        return [tag["value"] for tag in endpoint.get_tags() if tag["key"] == name[4:]]
    return _FILTERS[name](endpoint)


def _describe_vpc_endpoints_backend(self, vpc_end_point_ids, filters=None):
    """Same as moto, with every documented filter (moto answers 500 to several)."""
    endpoints = list(self.vpc_end_points.values())
    if vpc_end_point_ids:
        missing = [i for i in vpc_end_point_ids if i not in self.vpc_end_points]
        if missing:
            raise InvalidVpcEndPointIdError(missing[0])
        endpoints = [e for e in endpoints if e.id in vpc_end_point_ids]
    for name, wanted in (filters or {}).items():
        if name not in _FILTERS and not name.startswith("tag:"):
            raise EC2ClientError("InvalidParameterValue", "The filter '%s' is invalid" % name)
        endpoints = [
            e for e in endpoints
            if any(fnmatch.fnmatchcase(str(v), pattern) for v in _filter_values(e, name) for pattern in wanted)
        ]
    return endpoints


def install():
    """Patch moto's classes in this process (idempotent)."""
    if getattr(VPCBackend, "_sandbox_installed", False):
        return
    VPCBackend._collect_default_endpoint_services = staticmethod(_collect_with_datadog)
    VPCBackend.describe_vpc_endpoints = _describe_vpc_endpoints_backend
    VPCEndPoint.state = property(_get_state, _set_state)
    VPCEndPoint.last_error = property(_get_last_error)
    VPCs.describe_vpc_endpoint_services = _describe_vpc_endpoint_services
    VPCs.create_vpc_endpoint = _create_vpc_endpoint
    VPCs.modify_vpc_endpoint = _modify_vpc_endpoint
    VPCs.delete_vpc_endpoints = _delete_vpc_endpoints
    VPCBackend._sandbox_installed = True
