"""Read what the twin needs from the AWS sandbox, with boto3, as one JSON-able snapshot.

Every read carries the user-agent mark ``ddpl-twin``: the sandbox neither counts nor faults
it, so tests that assert call counts are not disturbed by a twin running beside them.
"""

import ipaddress
import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

from sandbox.control import UNCOUNTED_USER_AGENT
from sandbox.datadog import catalog

_CONFIG = Config(user_agent_extra=UNCOUNTED_USER_AGENT, retries={"mode": "standard", "total_max_attempts": 3},
                 connect_timeout=5, read_timeout=20, max_pool_connections=16)
LIVE_ENDPOINT_STATES = ("available", "pendingacceptance", "pending")
AGENT_HOST_TAG = "datadog-privatelink:twin-agent-host"
WORKERS = 8


def datadog_service_names():
    names = set()
    for site in catalog.SITES:
        for entry in catalog.service_entries(site):
            names.add(entry["service_name"])
            names.update(entry["superseded_service_names"])
    return names


def datadog_domains():
    """The DNS suffixes Datadog's sites own (from the catalog), longest first."""
    return sorted({facts["dd_site"] for facts in catalog.SITES.values()}, key=len, reverse=True)


def is_datadog_name(name):
    name = name.rstrip(".").lower()
    return any(name == d or name.endswith("." + d) for d in datadog_domains())


class Reader:
    """boto3 clients per (access key, region) on the sandbox's URL."""

    def __init__(self, endpoint_url, account_keys, secret="testing"):
        self.endpoint_url = endpoint_url
        self.keys = list(dict.fromkeys(account_keys))
        self.secret = secret
        self._clients = {}
        self._enis = {}
        self._session = boto3.session.Session()
        self._lock = threading.Lock()

    def client(self, service, key, region="us-east-1"):
        ident = (service, key, region)
        with self._lock:  # one session loads each service model once; creating clients is not thread-safe
            if ident not in self._clients:
                self._clients[ident] = self._session.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, aws_access_key_id=key,
                    aws_secret_access_key=self.secret, config=_CONFIG)
            return self._clients[ident]

    def generation(self):
        with urllib.request.urlopen(self.endpoint_url + "/_sandbox/generation", timeout=5) as answer:
            return json.loads(answer.read())["generation"]

    def regions(self):
        """Regions some call has touched (the sandbox knows, and asking it creates none)."""
        try:
            with urllib.request.urlopen(self.endpoint_url + "/_sandbox/regions", timeout=5) as answer:
                used = json.loads(answer.read())["regions"]
            return sorted({region for regions in used.values() for region in regions})
        except OSError:  # an older sandbox: every region (slower, moto builds each on first use)
            found = self.client("ec2", self.keys[0]).describe_regions()["Regions"]
            return sorted(r["RegionName"] for r in found)

    # --- discovery (at `twin up`): which regions hold the scenario --------------------
    def discover(self, wanted_vpcs=()):
        """(regions, vpc ids) of the scenario: Datadog endpoints, Datadog private zones, their peers."""
        regions = self.regions()
        datadog_names = datadog_service_names()
        pairs = [(key, region) for key in self.keys for region in regions]

        def scan(pair):
            key, region = pair
            ec2 = self.client("ec2", key, region)
            endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-endpoint-type", "Values": ["Interface"]}])
            vpcs = {e["VpcId"] for e in endpoints["VpcEndpoints"]
                    if e["ServiceName"] in datadog_names and e["State"].lower() in LIVE_ENDPOINT_STATES}
            mine = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
            return key, region, vpcs, mine

        with ThreadPoolExecutor(WORKERS) as pool:
            scanned = list(pool.map(scan, pairs))
        owner = {}  # vpc id -> (key, region)
        scenario = set()
        for key, region, vpcs, mine in scanned:
            for vpc_id in mine:
                owner.setdefault(vpc_id, (key, region))
            scenario |= vpcs
        for zone in self.private_zones():
            if is_datadog_name(zone["name"]):
                scenario.update(v["VPCId"] for v in zone["vpcs"])
        for vpc_id in wanted_vpcs:
            if vpc_id not in owner:
                raise TwinError("VPC %s is not in the sandbox under any account given (--account-key)." % vpc_id)
            scenario.add(vpc_id)
        peer_regions = {owner[v][1] for v in scenario if v in owner}
        peers = set()
        for key in self.keys:
            for region in sorted(peer_regions):
                for pcx in self.client("ec2", key, region).describe_vpc_peering_connections()["VpcPeeringConnections"]:
                    ends = {pcx["RequesterVpcInfo"]["VpcId"], pcx["AccepterVpcInfo"]["VpcId"]}
                    if ends & scenario and pcx["Status"]["Code"] in ("active", "pending-acceptance", "provisioning"):
                        peers |= ends
        scenario |= peers
        missing = sorted(v for v in scenario if v not in owner)
        if missing:
            raise TwinError("the scenario holds VPC(s) %s of an account whose access key was not given: add "
                            "--account-key AKIASBOX<account id> for each account." % ", ".join(missing))
        return sorted({owner[v][1] for v in scenario}), sorted(scenario)

    def private_zones(self, with_records=False):
        """Private hosted zones of every account: {id, name, account key, vpcs[, records]}."""
        zones = []
        for key in self.keys:
            r53 = self.client("route53", key)
            for page in r53.get_paginator("list_hosted_zones").paginate():
                for zone in page["HostedZones"]:
                    zones.append({"id": zone["Id"].split("/")[-1], "name": zone["Name"].rstrip(".").lower(), "key": key,
                                  "private": zone.get("Config", {}).get("PrivateZone", False)})

        def detail(zone):
            r53 = self.client("route53", zone["key"])
            zone["vpcs"] = r53.get_hosted_zone(Id=zone["id"]).get("VPCs", []) if zone["private"] else []
            if with_records:
                zone["records"] = [_record(r) for page in r53.get_paginator("list_resource_record_sets").paginate(
                    HostedZoneId=zone["id"]) for r in page["ResourceRecordSets"]]
            return zone

        with ThreadPoolExecutor(WORKERS) as pool:
            return list(pool.map(detail, zones))

    # --- a full snapshot (at every generation) ----------------------------------------
    def snapshot(self, regions, vpc_ids, agent_groups=None, check_groups=False):
        """Everything the twin computes DNS and reachability from, for these VPCs."""
        vpc_ids = set(vpc_ids)
        pairs = [(key, region) for key in self.keys for region in regions]

        def read(pair):
            key, region = pair
            ec2 = self.client("ec2", key, region)
            vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] in vpc_ids]
            if not vpcs:
                return key, region, None
            ids = [v["VpcId"] for v in vpcs]
            vpc_filter = [{"Name": "vpc-id", "Values": ids}]
            return key, region, {
                "vpcs": vpcs,
                "subnets": ec2.describe_subnets(Filters=vpc_filter)["Subnets"],
                "tables": ec2.describe_route_tables(Filters=vpc_filter)["RouteTables"],
                "endpoints": ec2.describe_vpc_endpoints(Filters=vpc_filter)["VpcEndpoints"],
                "groups": ec2.describe_security_groups(Filters=vpc_filter)["SecurityGroups"],
                "peerings": ec2.describe_vpc_peering_connections()["VpcPeeringConnections"],
            }

        with ThreadPoolExecutor(WORKERS) as pool:
            results = list(pool.map(read, pairs))
            zones_future = pool.submit(self.private_zones, True)
            zones = zones_future.result()

        snap = {"vpcs": {}, "endpoints": {}, "tables": {}, "groups": {}, "enis": {}, "peerings": {}, "zones": [],
                "public_zones": []}
        services_wanted = {}  # (key, region) -> {service name: service region}
        for key, region, found in results:
            if not found:
                continue
            for vpc in found["vpcs"]:
                subnets = sorted((s for s in found["subnets"] if s["VpcId"] == vpc["VpcId"]),
                                 key=lambda s: ipaddress.ip_network(s["CidrBlock"]))
                snap["vpcs"][vpc["VpcId"]] = {
                    "id": vpc["VpcId"], "key": key, "account": vpc.get("OwnerId"), "region": region,
                    "cidr": vpc["CidrBlock"], "name": _tag(vpc, "Name"),
                    "subnets": [{"id": s["SubnetId"], "cidr": s["CidrBlock"], "az": s["AvailabilityZone"]} for s in subnets],
                }
            for table in found["tables"]:
                snap["tables"][table["RouteTableId"]] = {
                    "vpc_id": table["VpcId"],
                    "main": any(a.get("Main") for a in table.get("Associations", [])),
                    "subnets": [a["SubnetId"] for a in table.get("Associations", []) if a.get("SubnetId")],
                    "routes": [{"dest": r["DestinationCidrBlock"], "pcx": r.get("VpcPeeringConnectionId"),
                                "gateway": r.get("GatewayId"), "state": r.get("State", "active")}
                               for r in table.get("Routes", []) if r.get("DestinationCidrBlock")],
                }
            for group in found["groups"]:
                snap["groups"][group["GroupId"]] = {
                    "vpc_id": group["VpcId"], "name": group.get("GroupName"),
                    "agent_host": _tag(group, AGENT_HOST_TAG) == "true",
                    "ingress": [_rule(p) for p in group.get("IpPermissions", [])],
                    "egress": [_rule(p) for p in group.get("IpPermissionsEgress", [])],
                }
            self._read_enis(key, region, [i for e in found["endpoints"] for i in e.get("NetworkInterfaceIds", [])])
            for endpoint in found["endpoints"]:
                if endpoint.get("VpcEndpointType") != "Interface":
                    continue
                for eni_id in endpoint.get("NetworkInterfaceIds", []):
                    if eni_id in self._enis:  # an endpoint's interfaces are in the endpoint's groups
                        snap["enis"][eni_id] = dict(self._enis[eni_id], groups=[g["GroupId"] for g in endpoint.get("Groups", [])])
                snap["endpoints"][endpoint["VpcEndpointId"]] = {
                    "id": endpoint["VpcEndpointId"], "vpc_id": endpoint["VpcId"], "region": region,
                    "service_name": endpoint["ServiceName"], "state": endpoint["State"].lower(),
                    "service_region": endpoint.get("ServiceRegion") or region,
                    "private_dns": bool(endpoint.get("PrivateDnsEnabled")),
                    "eni_ids": list(endpoint.get("NetworkInterfaceIds", [])),
                    "dns_names": [d["DnsName"].lower() for d in endpoint.get("DnsEntries", [])
                                  if d["DnsName"].lower().endswith(".vpce.amazonaws.com")],
                    "groups": [g["GroupId"] for g in endpoint.get("Groups", [])],
                }
                services_wanted.setdefault((key, region), {})[endpoint["ServiceName"]] = (
                    endpoint.get("ServiceRegion") or region)
            for pcx in found["peerings"]:
                snap["peerings"][pcx["VpcPeeringConnectionId"]] = {
                    "id": pcx["VpcPeeringConnectionId"], "status": pcx["Status"]["Code"],
                    "vpcs": [pcx["RequesterVpcInfo"]["VpcId"], pcx["AccepterVpcInfo"]["VpcId"]],
                }
        private_dns_names = {}
        for (key, region), wanted in services_wanted.items():
            private_dns_names.update(self._private_dns_names(key, region, wanted))
        for endpoint in snap["endpoints"].values():
            endpoint["private_dns_name"] = private_dns_names.get(endpoint["service_name"])
        for zone in zones:
            if zone["private"]:
                snap["zones"].append({"id": zone["id"], "name": zone["name"], "records": zone["records"],
                                      "vpcs": sorted({v["VPCId"] for v in zone["vpcs"]})})
            else:
                snap["public_zones"].append({"id": zone["id"], "name": zone["name"], "records": zone["records"]})
        for vpc_id, group_id in (agent_groups or {}).items():
            if check_groups and snap["groups"].get(group_id, {}).get("vpc_id") != vpc_id:
                raise TwinError("--agent-security-group %s=%s: no such security group in that VPC." % (vpc_id, group_id))
        return snap

    def _read_enis(self, key, region, eni_ids):
        """Cache each ENI's subnet and address (they never change for an ENI id): read only new ones."""
        missing = sorted(i for i in set(eni_ids) if i not in self._enis)
        if not missing:
            return
        ec2 = self.client("ec2", key, region)
        for eni in ec2.describe_network_interfaces(NetworkInterfaceIds=missing)["NetworkInterfaces"]:
            self._enis[eni["NetworkInterfaceId"]] = {"vpc_id": eni["VpcId"], "subnet_id": eni["SubnetId"],
                                                     "address": eni["PrivateIpAddress"]}

    def _private_dns_names(self, key, region, wanted):
        """{service name: private DNS name} from DescribeVpcEndpointServices, across regions."""
        ec2 = self.client("ec2", key, region)
        foreign = sorted({r for r in wanted.values() if r != region})
        kwargs = {"ServiceRegions": foreign + [region]} if foreign else {}
        try:
            details = ec2.describe_vpc_endpoint_services(ServiceNames=sorted(wanted), **kwargs)["ServiceDetails"]
        except Exception:  # noqa: BLE001 - one unknown name fails the call: ask one by one
            details = []
            for name in sorted(wanted):
                try:
                    details += ec2.describe_vpc_endpoint_services(ServiceNames=[name], **kwargs)["ServiceDetails"]
                except Exception:  # noqa: BLE001 - a service that no longer exists has no private name
                    continue
        return {d["ServiceName"]: d["PrivateDnsName"].lower().rstrip(".") for d in details
                if d["ServiceName"] in wanted and d.get("PrivateDnsName")}


class TwinError(RuntimeError):
    """A state the twin cannot model; the message says what to change."""


def _tag(resource, key):
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == key), None)


def _rule(permission):
    return {
        "protocol": str(permission.get("IpProtocol", "-1")),
        "from": permission.get("FromPort"), "to": permission.get("ToPort"),
        "cidrs": [r["CidrIp"] for r in permission.get("IpRanges", [])],
        "groups": [g["GroupId"] for g in permission.get("UserIdGroupPairs", [])],
    }


def _record(record):
    alias = record.get("AliasTarget")
    return {
        "name": record["Name"].rstrip(".").lower().replace("\\052", "*"), "type": record["Type"],
        "values": [r["Value"].rstrip(".") for r in record.get("ResourceRecords", [])],
        "alias": alias["DNSName"].rstrip(".").lower() if alias else None,
    }
