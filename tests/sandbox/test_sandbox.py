"""The AWS sandbox behaves like AWS where the collection depends on it (see sandbox/README.md)."""

import concurrent.futures
import json
import os
import re
import signal
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.datadog import catalog
from sandbox.server import access_key_for, read_env_file, start_sandbox
from sandbox.vpc_endpoints import VPCE_HOSTED_ZONE_IDS

US1_API = catalog.service_name("us-east-1", catalog.SITES["us1"]["service_ids"]["api"])
# The api service's private DNS name as AWS shows it (its anchor).
US1_API_DNS = catalog.service_entries("us1", ["api"])[0]["zone_name"]
US1_TRACES = catalog.service_name("us-east-1", catalog.SITES["us1"]["service_ids"]["traces"])
UNKNOWN = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def make_vpc(ec2, cidr="10.0.0.0/16", azs=None, dns=True):
    """A VPC with one /24 subnet per AZ suffix (default: the region's first two); returns (vpc id, subnet ids)."""
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    if dns:
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    region = ec2.meta.region_name
    if azs is None:
        azs = [z["ZoneName"][len(region):] for z in ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    base = ".".join(cidr.split(".")[:2])  # 10.0.0.0/16 -> 10.0
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="%s.%d.0/24" % (base, i),
                          AvailabilityZone=region + az)["Subnet"]["SubnetId"]
        for i, az in enumerate(azs, start=1)
    ]
    return vpc_id, subnets


def create_endpoint(ec2, vpc_id, subnets, service=US1_API, **kwargs):
    return ec2.create_vpc_endpoint(
        VpcId=vpc_id, VpcEndpointType="Interface", ServiceName=service, SubnetIds=subnets, **kwargs
    )["VpcEndpoint"]


def describe(ec2, endpoint_id):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]


# --- 1. starting and stopping -----------------------------------------------------------

def test_subprocess_writes_env_file_and_stops_on_sigterm():
    # start_sandbox(subprocess=True) runs `python sandbox/server.py --port 0 --env-file ...`.
    sb = start_sandbox(port=0, pending_seconds=0, subprocess=True)
    try:
        values = read_env_file(sb.env_file)
        assert sorted(values) == ["AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_SECRET_ACCESS_KEY", "SANDBOX_PID"]
        assert values["AWS_ENDPOINT_URL"] == sb.url and sb.url.startswith("http://127.0.0.1:")
        assert int(values["SANDBOX_PID"]) == sb.process.pid != os.getpid()
        with urllib.request.urlopen(values["AWS_ENDPOINT_URL"] + "/_sandbox/health") as response:
            assert response.status == 200
        os.kill(sb.process.pid, signal.SIGTERM)
        assert sb.process.wait(timeout=10) == 0
    finally:
        sb.stop()
    assert not sb.healthy()


# --- 2. Datadog's endpoint services -----------------------------------------------------

def test_every_datadog_service_is_published_with_its_private_dns_name(aws):
    anchored = 0
    for site in catalog.SITES:
        expected = {}
        for entry in catalog.service_entries(site, [catalog.ALL]):
            # AWS shows the anchor as the service's private DNS name; a direct service shows its one name
            expected.setdefault(entry["service_name"], entry["anchor"] or entry["names"][0])
            for name in entry["superseded_service_names"]:
                expected.setdefault(name, entry["private_dns_name"])
            anchored += bool(entry["anchor"])
        region = catalog.SITES[site]["region"]
        ec2 = aws("ec2", region)
        details = ec2.describe_vpc_endpoint_services(ServiceNames=sorted(expected))["ServiceDetails"]
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
        assert {d["ServiceName"]: d["PrivateDnsName"] for d in details} == expected
        assert len(details) == len(expected)
        for detail in details:
            assert detail["ServiceType"] == [{"ServiceType": "Interface"}]
            assert detail["AvailabilityZones"] == zones
            assert detail["AcceptanceRequired"] is False and detail["ManagesVpcEndpoints"] is False
            assert detail["Owner"] == "111122223333"
            assert detail["PrivateDnsNameVerificationState"] == "verified"
            assert detail["PrivateDnsNames"] == [{"PrivateDnsName": detail["PrivateDnsName"]}]
            assert detail["SupportedIpAddressTypes"] == ["ipv4"]
            assert detail["ServiceRegion"] == region
    assert anchored  # the anchors are published, not the customer-facing names
    # ap2's two log intakes share one service (the gold anchor).
    ap2 = catalog.SITES["ap2"]["service_ids"]
    assert ap2["logs_agent"] == ap2["logs_user"]


def test_private_dns_of_an_anchored_service_is_its_anchor(aws):
    """An endpoint with private DNS on an anchored service answers for the anchor (the names CNAME to it)."""
    ec2 = aws("ec2", "ap-southeast-2")
    entry = catalog.service_entries("ap2", ["api"])[0]
    vpc_id, subnets = make_vpc(ec2)
    endpoint = create_endpoint(ec2, vpc_id, subnets, service=entry["service_name"], PrivateDnsEnabled=True)
    names = [d["DnsName"] for d in endpoint["DnsEntries"]]
    assert entry["anchor"] in names and entry["private_dns_name"] not in names


def test_unknown_service_name_is_refused(aws):
    ec2 = aws("ec2")
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_vpc_endpoint_services(ServiceNames=[UNKNOWN])
    assert error_code(excinfo) == "InvalidServiceName"
    vpc_id, subnets = make_vpc(ec2)
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, subnets, service=UNKNOWN)
    assert error_code(excinfo) == "InvalidServiceName"
    # A Datadog name from another region, without ServiceRegion, does not exist here.
    euw1 = aws("ec2", "eu-west-1")
    vpc_id, subnets = make_vpc(euw1)
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(euw1, vpc_id, subnets)
    assert error_code(excinfo) == "InvalidServiceName"
    with pytest.raises(ClientError) as excinfo:
        euw1.describe_vpc_endpoint_services(ServiceNames=[US1_API])
    assert error_code(excinfo) == "InvalidServiceName"


def test_aws_services_still_listed_and_gateway_type_refused_for_datadog(aws):
    ec2 = aws("ec2")
    names = ec2.describe_vpc_endpoint_services()["ServiceNames"]
    assert "com.amazonaws.us-east-1.secretsmanager" in names and US1_API in names
    vpc_id, _ = make_vpc(ec2)
    with pytest.raises(ClientError) as excinfo:
        ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=US1_API)  # VpcEndpointType defaults to Gateway
    assert error_code(excinfo) == "InvalidParameter"


def test_service_filters_and_pages(aws):
    ec2 = aws("ec2")
    datadog = ec2.describe_vpc_endpoint_services(Filters=[{"Name": "owner", "Values": ["111122223333"]}])
    us1 = catalog.SITES["us1"]
    published = {i for _c, i, _p in us1["endpoint_services"]} | {i for ids in us1["superseded_ids"].values() for i in ids}
    assert len(datadog["ServiceNames"]) == len(published)  # us1: every service and the superseded names
    by_name = ec2.describe_vpc_endpoint_services(Filters=[{"Name": "service-name", "Values": [US1_API]}])
    assert by_name["ServiceNames"] == [US1_API]
    everything = ec2.describe_vpc_endpoint_services()["ServiceNames"]
    pages = ec2.get_paginator("describe_vpc_endpoint_services").paginate(PaginationConfig={"PageSize": 60})
    assert [name for page in pages for name in page["ServiceNames"]] == everything


# --- 3. cross region ----------------------------------------------------------------------

def test_service_regions_lists_the_other_regions_services(aws):
    euw1 = aws("ec2", "eu-west-1")
    answer = euw1.describe_vpc_endpoint_services(ServiceNames=[US1_API, US1_TRACES], ServiceRegions=["us-east-1"])
    assert answer["ServiceNames"] == sorted([US1_API, US1_TRACES])
    assert {d["ServiceRegion"] for d in answer["ServiceDetails"]} == {"us-east-1"}
    assert answer["ServiceDetails"][0]["PrivateDnsName"] == US1_API_DNS
    # Own region services carry their own region.
    own = euw1.describe_vpc_endpoint_services(ServiceNames=["com.amazonaws.eu-west-1.s3"])["ServiceDetails"]
    assert {d["ServiceRegion"] for d in own} == {"eu-west-1"}


def test_cross_region_endpoint_records_service_region(aws):
    euw1 = aws("ec2", "eu-west-1")
    vpc_id, subnets = make_vpc(euw1)
    endpoint = create_endpoint(euw1, vpc_id, subnets, ServiceRegion="us-east-1")
    assert endpoint["ServiceRegion"] == "us-east-1"
    assert describe(euw1, endpoint["VpcEndpointId"])["ServiceRegion"] == "us-east-1"
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(euw1, vpc_id, subnets, service=UNKNOWN, ServiceRegion="us-east-1")
    assert error_code(excinfo) == "InvalidServiceName"
    use1 = aws("ec2", "us-east-1")
    vpc_id, subnets = make_vpc(use1)
    assert create_endpoint(use1, vpc_id, subnets)["ServiceRegion"] == "us-east-1"


# --- 4. realistic endpoints -----------------------------------------------------------

def test_pending_then_available_after_the_delay(sandbox, aws):
    sandbox.set_pending_seconds(1)
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    endpoint = create_endpoint(ec2, vpc_id, subnets)
    assert endpoint["State"] == "pending"
    assert describe(ec2, endpoint["VpcEndpointId"])["State"] == "pending"
    time.sleep(1.1)
    assert describe(ec2, endpoint["VpcEndpointId"])["State"] == "available"
    sandbox.set_pending_seconds(0)
    assert create_endpoint(ec2, vpc_id, subnets, service=US1_TRACES)["State"] == "available"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "eu-west-2", "ap-northeast-1", "ap-southeast-2"])
def test_dns_entries_shape_and_hosted_zone(aws, region):
    ec2 = aws("ec2", region)
    vpc_id, subnets = make_vpc(ec2)
    kwargs = {} if region == "us-east-1" else {"ServiceRegion": "us-east-1"}
    endpoint = create_endpoint(ec2, vpc_id, subnets, **kwargs)
    entries = endpoint["DnsEntries"]
    zone_id = VPCE_HOSTED_ZONE_IDS[region]
    assert [e["HostedZoneId"] for e in entries[:3]] == [zone_id] * 3
    regional, zonal_a, zonal_b, private = [e["DnsName"] for e in entries]
    az_a, az_b = [ec2.describe_subnets(SubnetIds=[s])["Subnets"][0]["AvailabilityZone"] for s in subnets]

    pattern = r"^%s-[a-z0-9]{8}%%s\.vpce-svc-07895350fd0109264\.%s\.vpce\.amazonaws\.com$" % (
        endpoint["VpcEndpointId"], region)
    assert re.match(pattern % "", regional)
    assert re.match(pattern % ("-" + az_a), zonal_a)
    assert re.match(pattern % ("-" + az_b), zonal_b)
    assert private == US1_API_DNS and entries[3]["HostedZoneId"].startswith("Z")
    # Interfaces sit inside their subnets.
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=endpoint["NetworkInterfaceIds"])["NetworkInterfaces"]
    assert sorted(e["SubnetId"] for e in enis) == sorted(subnets)
    assert all(e["PrivateIpAddress"].startswith("10.0.") for e in enis)


def test_private_dns_needs_vpc_dns_attributes_and_a_free_name(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2, dns=False)
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, subnets, PrivateDnsEnabled=True)
    assert error_code(excinfo) == "InvalidParameter"
    create_endpoint(ec2, vpc_id, subnets, PrivateDnsEnabled=False)  # fine without DNS attributes
    vpc_id, subnets = make_vpc(ec2, cidr="10.9.0.0/16")
    create_endpoint(ec2, vpc_id, subnets)  # PrivateDnsEnabled defaults to true
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, subnets, PrivateDnsEnabled=True)
    assert error_code(excinfo) == "InvalidParameter"
    assert "conflicting DNS domain for %s" % US1_API_DNS in str(excinfo.value)


def test_subnets_must_be_in_the_vpc_and_in_distinct_azs(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2, azs=("a", "a"))
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, subnets)
    assert error_code(excinfo) == "DuplicateSubnetsInSameZone"
    _, other_subnets = make_vpc(ec2, cidr="10.8.0.0/16", azs=("c",))
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, other_subnets)
    assert error_code(excinfo) == "InvalidParameter"


def test_modify_private_dns_subnets_and_security_groups(aws):
    ec2 = aws("ec2")
    vpc_id, (subnet_a, subnet_b, subnet_c) = make_vpc(ec2, azs=("a", "b", "c"))
    sg = ec2.create_security_group(GroupName="dd", Description="443", VpcId=vpc_id)["GroupId"]
    endpoint = create_endpoint(ec2, vpc_id, [subnet_a, subnet_b], PrivateDnsEnabled=False)
    endpoint_id = endpoint["VpcEndpointId"]
    assert endpoint["Groups"][0]["GroupName"] == "default"  # AWS attaches the VPC default group
    assert US1_API_DNS not in [e["DnsName"] for e in endpoint["DnsEntries"]]

    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=True, AddSubnetIds=[subnet_c],
                            RemoveSubnetIds=[subnet_a], AddSecurityGroupIds=[sg],
                            RemoveSecurityGroupIds=[endpoint["Groups"][0]["GroupId"]])
    after = describe(ec2, endpoint_id)
    assert after["PrivateDnsEnabled"] is True
    assert after["DnsEntries"][-1]["DnsName"] == US1_API_DNS
    assert sorted(after["SubnetIds"]) == sorted([subnet_b, subnet_c])
    assert [g["GroupId"] for g in after["Groups"]] == [sg]
    assert len(after["NetworkInterfaceIds"]) == 2
    zonal = [e["DnsName"] for e in after["DnsEntries"] if "-us-east-1" in e["DnsName"]]
    assert sorted(name.split(".")[0][-10:] for name in zonal) == ["us-east-1b", "us-east-1c"]

    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, PrivateDnsEnabled=False)
    assert describe(ec2, endpoint_id)["PrivateDnsEnabled"] is False


def test_describe_filters(aws):
    ec2 = aws("ec2", "eu-west-1")
    vpc_id, (subnet_a, subnet_b) = make_vpc(ec2)
    cross = create_endpoint(ec2, vpc_id, [subnet_a], ServiceRegion="us-east-1",
                            TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "k", "Value": "v"}]}])
    local = ec2.create_vpc_endpoint(VpcId=vpc_id, VpcEndpointType="Interface", SubnetIds=[subnet_b],
                                    ServiceName="com.amazonaws.eu-west-1.secretsmanager")["VpcEndpoint"]

    def ids(*filters):
        answer = ec2.describe_vpc_endpoints(Filters=[{"Name": n, "Values": v} for n, v in filters])
        return sorted(e["VpcEndpointId"] for e in answer["VpcEndpoints"])

    assert ids(("vpc-endpoint-id", [cross["VpcEndpointId"]])) == [cross["VpcEndpointId"]]
    assert ids(("subnet-id", [subnet_b])) == [local["VpcEndpointId"]]
    assert ids(("service-region", ["us-east-1"])) == [cross["VpcEndpointId"]]
    assert ids(("service-region", ["eu-west-1"])) == [local["VpcEndpointId"]]
    assert ids(("vpc-id", [vpc_id]), ("vpc-endpoint-state", ["available"])) == sorted(
        [cross["VpcEndpointId"], local["VpcEndpointId"]])
    assert ids(("service-name", [US1_API]), ("tag:k", ["v"])) == [cross["VpcEndpointId"]]
    with pytest.raises(ClientError) as excinfo:
        ids(("no-such-filter", ["x"]))
    assert error_code(excinfo) == "InvalidParameterValue"


def test_deleted_endpoints_stay_listed_as_deleted(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    endpoint_id = create_endpoint(ec2, vpc_id, subnets)["VpcEndpointId"]
    answer = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint_id, "vpce-0123456789abcdef0"])
    assert [u["ResourceId"] for u in answer["Unsuccessful"]] == ["vpce-0123456789abcdef0"]
    assert describe(ec2, endpoint_id)["State"] == "deleted"
    # Its private DNS name is free again.
    create_endpoint(ec2, vpc_id, subnets)


def test_client_token_makes_create_idempotent(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    first = create_endpoint(ec2, vpc_id, subnets, ClientToken="token-1")
    again = create_endpoint(ec2, vpc_id, subnets, ClientToken="token-1")
    assert first["VpcEndpointId"] == again["VpcEndpointId"]


def test_client_token_with_other_parameters_is_refused_as_aws_does(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    create_endpoint(ec2, vpc_id, subnets, ClientToken="token-2")
    with pytest.raises(ClientError) as error:
        create_endpoint(ec2, vpc_id, subnets[:1], ClientToken="token-2")
    assert error.value.response["Error"]["Code"] == "IdempotentParameterMismatch"


def test_client_token_holds_under_concurrent_creates(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    clients = [aws("ec2") for _ in range(4)]  # boto3 makes clients unsafely across threads, calls safely
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lambda c: create_endpoint(c, vpc_id, subnets, ClientToken="token-3")["VpcEndpointId"], clients))
    assert len(set(ids)) == 1
    live = [e for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]]
    assert len(live) == 1


# --- 5. call counting -----------------------------------------------------------------

def test_calls_are_counted_per_operation(sandbox, aws):
    ec2, r53 = aws("ec2"), aws("route53")
    vpc_id, subnets = make_vpc(ec2)  # DescribeAvailabilityZones, CreateVpc, ModifyVpcAttribute, 2 x CreateSubnet
    create_endpoint(ec2, vpc_id, subnets)
    zone = r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="x",
                                  VPC={"VPCRegion": "us-east-1", "VPCId": vpc_id},
                                  HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": US1_API_DNS, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "10.0.1.5"}]}}]})
    r53.list_resource_record_sets(HostedZoneId=zone)
    r53.get_hosted_zone(Id=zone)
    r53.list_hosted_zones_by_vpc(VPCId=vpc_id, VPCRegion="us-east-1")
    calls = sandbox.calls()
    assert calls["calls"] == {
        "ec2:DescribeAvailabilityZones": 1, "ec2:CreateVpc": 1, "ec2:ModifyVpcAttribute": 1, "ec2:CreateSubnet": 2, "ec2:CreateVpcEndpoint": 1,
        "route53:CreateHostedZone": 1, "route53:ChangeResourceRecordSets": 1,
        "route53:ListResourceRecordSets": 1, "route53:GetHostedZone": 1, "route53:ListHostedZonesByVPC": 1,
    }
    assert calls["total"] == 11
    sandbox.reset_calls()
    assert sandbox.calls() == {"calls": {}, "total": 0}


def test_generation_moves_on_writes_only_and_the_twins_reads_are_not_counted(sandbox, aws):
    ec2 = aws("ec2")
    start = sandbox.generation()
    ec2.describe_vpcs()
    assert sandbox.generation() == start
    vpc_id = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    after_create = sandbox.generation()
    assert after_create > start
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]  # the change is visible at the new number
    sandbox.reset_calls()
    sandbox.add_fault("DescribeVpcs", "RequestLimitExceeded", count=1)
    twin = boto3.client("ec2", region_name="us-east-1", endpoint_url=sandbox.url, aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=Config(user_agent_extra="ddpl-twin"))
    assert twin.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]  # neither counted nor faulted
    assert sandbox.calls() == {"calls": {}, "total": 0}
    assert sandbox.generation() == after_create
    sandbox.reset()
    assert sandbox.generation() > after_create


def test_regions_lists_the_regions_in_use_without_creating_any(sandbox, aws):
    aws("ec2", "eu-west-1").describe_vpcs()
    used = sandbox._call("GET", "/_sandbox/regions")["regions"]
    assert "eu-west-1" in used["123456789012"]
    assert "sa-east-1" not in used["123456789012"]
    assert "sa-east-1" not in sandbox._call("GET", "/_sandbox/regions")["regions"]["123456789012"]


# --- 6. fault injection -------------------------------------------------------------------

def test_throttling_is_injected_then_cleared(sandbox, aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    sandbox.add_fault("CreateVpcEndpoint", "RequestLimitExceeded", count=2)
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            create_endpoint(ec2, vpc_id, subnets)
        assert error_code(excinfo) == "RequestLimitExceeded"
        assert excinfo.value.response["Error"]["Message"] == "Request limit exceeded."
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert create_endpoint(ec2, vpc_id, subnets)["State"] == "available"
    # botocore's standard retry mode rides out the same fault.
    sandbox.add_fault("DescribeVpcEndpoints", "RequestLimitExceeded", count=1)
    assert aws("ec2", attempts=2).describe_vpc_endpoints()["VpcEndpoints"]
    assert sandbox.calls()["calls"]["ec2:DescribeVpcEndpoints"] == 2


def test_route53_throttling_uses_route53_error_format(sandbox, aws):
    sandbox.add_fault("ListHostedZones", "Throttling", count=1)
    r53 = aws("route53")
    with pytest.raises(ClientError) as excinfo:
        r53.list_hosted_zones()
    assert error_code(excinfo) == "Throttling"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    r53.list_hosted_zones()


@pytest.mark.parametrize("outcome", ["failed", "rejected"])
def test_endpoint_outcome_failed_or_rejected_with_last_error(sandbox, aws, outcome):
    sandbox.set_pending_seconds(0.5)
    sandbox.set_endpoint_outcome(US1_API, outcome, message="Datadog says no")
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    endpoint = create_endpoint(ec2, vpc_id, subnets)
    assert endpoint["State"] == "pending" and "LastError" not in endpoint
    time.sleep(0.6)
    after = describe(ec2, endpoint["VpcEndpointId"])
    assert after["State"] == outcome
    assert after["LastError"]["Message"] == "Datadog says no" and after["LastError"]["Code"]
    # Other services are unaffected.
    assert create_endpoint(ec2, vpc_id, subnets, service=US1_TRACES)["State"] == "pending"


def test_reset_clears_moto_and_sandbox_state(sandbox, aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    create_endpoint(ec2, vpc_id, subnets)
    sandbox.add_fault("DescribeVpcs", count=5)
    sandbox.set_endpoint_outcome(US1_API, "failed")
    sandbox.reset()
    assert sandbox.calls()["total"] == 0
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []
    assert [v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]] == [True]  # no fault left
    assert ec2.describe_vpc_endpoint_services(ServiceNames=[US1_API])["ServiceNames"] == [US1_API]
    vpc_id, subnets = make_vpc(ec2)
    assert create_endpoint(ec2, vpc_id, subnets)["State"] == "available"  # outcome cleared
    # moto's own reset URL resets the sandbox too.
    urllib.request.urlopen(urllib.request.Request(sandbox.url + "/moto-api/reset", data=b"", method="POST"))
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []


# --- 7. Route53 cross-account association -------------------------------------------------

def test_route53_cross_account_association_needs_authorization(aws):
    zone_account = aws("route53")  # "testing" -> moto's default account 123456789012
    vpc_account_ec2 = aws("ec2", "eu-west-1", access_key=access_key_for("222222222222"))
    vpc_account_r53 = aws("route53", access_key=access_key_for("222222222222"))
    own_vpc, _ = make_vpc(aws("ec2"))
    other_vpc, _ = make_vpc(vpc_account_ec2, cidr="10.2.0.0/16")
    zone_id = zone_account.create_hosted_zone(
        Name=US1_API_DNS, CallerReference="cross", HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": own_vpc})["HostedZone"]["Id"].split("/")[-1]
    other = {"VPCRegion": "eu-west-1", "VPCId": other_vpc}

    with pytest.raises(ClientError) as excinfo:
        vpc_account_r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=other)
    assert error_code(excinfo) == "NotAuthorizedException"
    with pytest.raises(ClientError) as excinfo:  # the zone's owner cannot attach someone else's VPC
        zone_account.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=other)
    assert error_code(excinfo) == "NotAuthorizedException"
    with pytest.raises(ClientError) as excinfo:  # only the zone's owner can authorize
        vpc_account_r53.create_vpc_association_authorization(HostedZoneId=zone_id, VPC=other)
    assert error_code(excinfo) == "NoSuchHostedZone"

    answer = zone_account.create_vpc_association_authorization(HostedZoneId=zone_id, VPC=other)
    assert answer["HostedZoneId"] == zone_id and answer["VPC"] == other
    assert zone_account.list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"] == [other]
    change = vpc_account_r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC=other)["ChangeInfo"]
    assert change["Status"] == "INSYNC"
    vpcs = zone_account.get_hosted_zone(Id=zone_id)["VPCs"]
    assert sorted(v["VPCId"] for v in vpcs) == sorted([own_vpc, other_vpc])

    zone_account.delete_vpc_association_authorization(HostedZoneId=zone_id, VPC=other)
    assert zone_account.list_vpc_association_authorizations(HostedZoneId=zone_id)["VPCs"] == []
    with pytest.raises(ClientError) as excinfo:
        zone_account.delete_vpc_association_authorization(HostedZoneId=zone_id, VPC=other)
    assert error_code(excinfo) == "VPCAssociationAuthorizationNotFound"
    vpc_account_r53.disassociate_vpc_from_hosted_zone(HostedZoneId=zone_id, VPC=other)
    assert [v["VPCId"] for v in zone_account.get_hosted_zone(Id=zone_id)["VPCs"]] == [own_vpc]


def test_route53_same_account_association_checks_the_vpc_exists(aws):
    r53 = aws("route53")
    vpc_a, _ = make_vpc(aws("ec2"))
    vpc_b, _ = make_vpc(aws("ec2", "eu-west-1"), cidr="10.3.0.0/16")
    zone_id = r53.create_hosted_zone(
        Name="trace.agent.datadoghq.com", CallerReference="same", HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})["HostedZone"]["Id"]
    r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id, VPC={"VPCRegion": "eu-west-1", "VPCId": vpc_b})
    with pytest.raises(ClientError) as excinfo:
        r53.associate_vpc_with_hosted_zone(HostedZoneId=zone_id,
                                           VPC={"VPCRegion": "eu-west-1", "VPCId": "vpc-0123456789abcdef0"})
    assert error_code(excinfo) == "InvalidVPCId"


def test_private_hosted_zone_blocks_private_dns_on_the_same_vpc(aws):
    ec2 = aws("ec2")
    vpc_id, subnets = make_vpc(ec2)
    aws("route53").create_hosted_zone(Name=US1_API_DNS, CallerReference="phz",
                                      HostedZoneConfig={"PrivateZone": True},
                                      VPC={"VPCRegion": "us-east-1", "VPCId": vpc_id})
    with pytest.raises(ClientError) as excinfo:
        create_endpoint(ec2, vpc_id, subnets, PrivateDnsEnabled=True)
    assert "conflicting DNS domain" in str(excinfo.value)
    create_endpoint(ec2, vpc_id, subnets, PrivateDnsEnabled=False)  # peered scenario: DNS by private zones



def test_route53_refuses_a_repeated_caller_reference_even_after_deletion(aws):
    r53 = aws("route53")
    vpc_a, _ = make_vpc(aws("ec2"))
    vpc_b, _ = make_vpc(aws("ec2"), cidr="10.4.0.0/16")
    zone_id = r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="once", HostedZoneConfig={"PrivateZone": True},
                                     VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})["HostedZone"]["Id"]
    with pytest.raises(ClientError) as excinfo:  # another name and VPC: the reference alone is refused
        r53.create_hosted_zone(Name="trace.agent.datadoghq.com", CallerReference="once",
                               HostedZoneConfig={"PrivateZone": True}, VPC={"VPCRegion": "us-east-1", "VPCId": vpc_b})
    assert error_code(excinfo) == "HostedZoneAlreadyExists"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    r53.delete_hosted_zone(Id=zone_id)
    with pytest.raises(ClientError) as excinfo:
        r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="once", HostedZoneConfig={"PrivateZone": True},
                               VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})
    assert error_code(excinfo) == "HostedZoneAlreadyExists"
    # Another account has its own references.
    other_vpc, _ = make_vpc(aws("ec2", access_key=access_key_for("222222222222")), cidr="10.5.0.0/16")
    aws("route53", access_key=access_key_for("222222222222")).create_hosted_zone(
        Name=US1_API_DNS, CallerReference="once", HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": other_vpc})


def test_route53_refuses_two_private_zones_of_one_name_on_one_vpc(aws):
    r53 = aws("route53")
    vpc_a, _ = make_vpc(aws("ec2"))
    vpc_b, _ = make_vpc(aws("ec2", "eu-west-1"), cidr="10.3.0.0/16")
    private = {"PrivateZone": True}
    first = r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="first", HostedZoneConfig=private,
                                   VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})["HostedZone"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        r53.create_hosted_zone(Name=US1_API_DNS.upper() + ".", CallerReference="second", HostedZoneConfig=private,
                               VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})
    assert error_code(excinfo) == "ConflictingDomainExists"
    # The same name on another VPC is allowed, but that VPC then cannot join the first zone.
    second = r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="second", HostedZoneConfig=private,
                                    VPC={"VPCRegion": "eu-west-1", "VPCId": vpc_b})["HostedZone"]["Id"]
    with pytest.raises(ClientError) as excinfo:
        r53.associate_vpc_with_hosted_zone(HostedZoneId=first, VPC={"VPCRegion": "eu-west-1", "VPCId": vpc_b})
    assert error_code(excinfo) == "ConflictingDomainExists" and second.split("/")[-1] in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:  # already associated with this very zone
        r53.associate_vpc_with_hosted_zone(HostedZoneId=first, VPC={"VPCRegion": "us-east-1", "VPCId": vpc_a})
    assert error_code(excinfo) == "ConflictingDomainExists"
    assert [v["VPCId"] for v in r53.get_hosted_zone(Id=first)["VPCs"]] == [vpc_a]
    r53.create_hosted_zone(Name=US1_API_DNS, CallerReference="public", HostedZoneConfig={"PrivateZone": False})


def test_route53_racing_creates_of_one_zone_leave_one(aws):
    from concurrent.futures import ThreadPoolExecutor

    vpc_id, _ = make_vpc(aws("ec2"))
    clients = [aws("route53") for _ in range(6)]

    def create(index):
        try:
            clients[index].create_hosted_zone(Name="metrics.agent.datadoghq.com", CallerReference="race-%d" % (index % 2),
                                              HostedZoneConfig={"PrivateZone": True},
                                              VPC={"VPCRegion": "us-east-1", "VPCId": vpc_id})
            return "created"
        except ClientError as error:
            return error.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(create, range(6)))
    assert outcomes.count("created") == 1
    assert set(outcomes) - {"created"} <= {"HostedZoneAlreadyExists", "ConflictingDomainExists"}
    listed = clients[0].list_hosted_zones_by_vpc(VPCId=vpc_id, VPCRegion="us-east-1")["HostedZoneSummaries"]
    assert [z["Name"] for z in listed] == ["metrics.agent.datadoghq.com."]

def test_sts_assume_role_gives_the_roles_account(aws):
    creds = aws("sts").assume_role(RoleArn="arn:aws:iam::333333333333:role/peer", RoleSessionName="sandbox-test")["Credentials"]
    import boto3

    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=aws("sts").meta.endpoint_url,
                       aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    assert ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["OwnerId"] == "333333333333"
    assert aws("ec2", access_key=access_key_for("444444444444")).create_vpc(
        CidrBlock="10.6.0.0/16")["Vpc"]["OwnerId"] == "444444444444"


# ---- IAM authorization (opt-in) -----------------------------------------------------------

OWNER = {"Key": catalog.OWNER_TAG_KEY, "Value": catalog.OWNER_TAG_VALUE}


def iam_user(aws, statements, name="limited"):
    iam = aws("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.client("ec2", region_name="us-east-1", endpoint_url=aws("ec2").meta.endpoint_url,
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]), key


def refused_action(call):
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response["Error"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error["Code"], re.search(r"not authorized to perform: (\S+)", error["Message"]).group(1)


def test_iam_is_enforced_only_when_turned_on_and_never_for_root_keys(sandbox, aws):
    ec2, _key = iam_user(aws, [{"Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*"}])
    assert ec2.create_vpc(CidrBlock="10.0.0.0/16")  # off (the default): anything goes
    sandbox.set_enforce_iam(True)
    try:
        assert ec2.describe_vpcs()["Vpcs"]
        assert refused_action(lambda: ec2.create_vpc(CidrBlock="10.1.0.0/16")) == ("UnauthorizedOperation", "ec2:CreateVpc")
        assert aws("ec2").create_vpc(CidrBlock="10.2.0.0/16")  # root
        assert [d["action"] for d in sandbox.iam_decisions() if not d["allowed"]] == ["ec2:CreateVpc"]
    finally:
        sandbox.set_enforce_iam(False)


def test_iam_conditions_and_the_actions_aws_checks_alongside(sandbox, aws):
    vpc = aws("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = aws("ec2").create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        aws("ec2").modify_vpc_attribute(VpcId=vpc, **{attribute: {"Value": True}})
    ec2, _key = iam_user(aws, [
        {"Effect": "Allow", "Action": ["ec2:CreateVpcEndpoint", "ec2:CreateSecurityGroup"], "Resource": "*"},
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}},
        {"Effect": "Allow", "Action": "ec2:DeleteSecurityGroup", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/" + OWNER["Key"]: OWNER["Value"]}}},
    ])
    sandbox.set_enforce_iam(True)
    try:
        tagged = [{"ResourceType": "security-group", "Tags": [OWNER]}]
        ours = ec2.create_security_group(GroupName="ours", Description="d", VpcId=vpc, TagSpecifications=tagged)["GroupId"]
        theirs = aws("ec2").create_security_group(GroupName="theirs", Description="d", VpcId=vpc)["GroupId"]
        assert refused_action(lambda: ec2.delete_security_group(GroupId=theirs))[1] == "ec2:DeleteSecurityGroup"
        ec2.delete_security_group(GroupId=ours)
        endpoint = {"VpcId": vpc, "ServiceName": US1_API, "VpcEndpointType": "Interface", "SubnetIds": [subnet]}
        # Tags at creation need ec2:CreateTags for that action; private DNS needs the Route53 association.
        assert refused_action(lambda: ec2.create_vpc_endpoint(PrivateDnsEnabled=False, TagSpecifications=[
            {"ResourceType": "vpc-endpoint", "Tags": [OWNER]}], **endpoint))[1] == "ec2:CreateTags"
        assert refused_action(lambda: ec2.create_vpc_endpoint(PrivateDnsEnabled=True, **endpoint))[1] == \
            "route53:AssociateVPCWithHostedZone"
        assert ec2.create_vpc_endpoint(PrivateDnsEnabled=False, **endpoint)["VpcEndpoint"]["VpcEndpointId"]
    finally:
        sandbox.set_enforce_iam(False)


def test_iam_cross_region_endpoints_need_allow_multi_region(sandbox, aws):
    ec2_root = aws("ec2", "eu-west-1")
    vpc = ec2_root.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2_root.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="eu-west-1a")["Subnet"]["SubnetId"]
    ec2, key = iam_user(aws, [{"Effect": "Allow", "Action": "ec2:CreateVpcEndpoint", "Resource": "*"}])
    ec2 = boto3.client("ec2", region_name="eu-west-1", endpoint_url=ec2.meta.endpoint_url,
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    sandbox.set_enforce_iam(True)
    try:
        assert refused_action(lambda: ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=US1_API, ServiceRegion="us-east-1", VpcEndpointType="Interface", SubnetIds=[subnet],
            PrivateDnsEnabled=False)) == ("UnauthorizedOperation", "vpce:AllowMultiRegion")
        route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=ec2.meta.endpoint_url,
                               aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        assert refused_action(route53.list_hosted_zones) == ("AccessDenied", "route53:ListHostedZones")
        sts = boto3.client("sts", region_name="us-east-1", endpoint_url=ec2.meta.endpoint_url,
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        assert sts.get_caller_identity()["Arn"].endswith(":user/limited")  # AWS needs no permission for it
    finally:
        sandbox.set_enforce_iam(False)
