"""The twin's decisions on a small hand-made snapshot: DNS as the Route 53 Resolver, nftables rules.

No root needed. The snapshot has the shape aws_state.Reader.snapshot returns: an endpoint VPC with
one Datadog endpoint (private DNS off) and a private zone, a peered Agent VPC, and a same-region VPC
whose endpoint has private DNS on.
"""

import copy
import subprocess
import sys

import pytest

from sandbox.datadog import catalog
from twin import model, paths
from twin.aws_state import TwinError

SITE = "datadoghq.com"
API = catalog.intake_hosts(SITE, ["api"])["api"]
METRICS = catalog.intake_hosts(SITE, ["metrics"])["metrics"]
VPCE_NAME = "vpce-1-abc.vpce-svc-x.us-east-1.vpce.amazonaws.com"


def vpc(vpc_id, cidr, region="us-east-1"):
    base = cidr.rsplit(".", 2)[0]
    return {"id": vpc_id, "key": "testing", "account": "123456789012", "region": region, "cidr": cidr, "name": vpc_id,
            "subnets": [{"id": "subnet-" + vpc_id, "cidr": base + ".1.0/24", "az": region + "a"}]}


@pytest.fixture
def snap():
    return {
        "vpcs": {"vpc-e": vpc("vpc-e", "10.40.0.0/16"), "vpc-a": vpc("vpc-a", "10.50.0.0/16", "eu-west-1"),
                 "vpc-s": vpc("vpc-s", "10.20.0.0/16")},
        "endpoints": {
            "vpce-1": {"id": "vpce-1", "vpc_id": "vpc-e", "region": "us-east-1", "service_name": "svc-api",
                       "state": "available", "service_region": "us-east-1", "private_dns": False,
                       "private_dns_name": API, "eni_ids": ["eni-1"], "dns_names": [VPCE_NAME], "groups": ["sg-e"]},
            "vpce-2": {"id": "vpce-2", "vpc_id": "vpc-s", "region": "us-east-1", "service_name": "svc-metrics",
                       "state": "available", "service_region": "us-east-1", "private_dns": True,
                       "private_dns_name": METRICS, "eni_ids": ["eni-2"], "dns_names": [], "groups": ["sg-s"]},
        },
        "enis": {"eni-1": {"vpc_id": "vpc-e", "subnet_id": "subnet-vpc-e", "address": "10.40.1.50", "groups": ["sg-e"]},
                 "eni-2": {"vpc_id": "vpc-s", "subnet_id": "subnet-vpc-s", "address": "10.20.1.60", "groups": ["sg-s"]}},
        "tables": {
            "rtb-e": {"vpc_id": "vpc-e", "main": True, "subnets": [], "routes": [
                {"dest": "10.40.0.0/16", "pcx": None, "gateway": "local", "state": "active"},
                {"dest": "10.50.0.0/16", "pcx": "pcx-1", "gateway": None, "state": "active"}]},
            "rtb-a": {"vpc_id": "vpc-a", "main": True, "subnets": [], "routes": [
                {"dest": "10.50.0.0/16", "pcx": None, "gateway": "local", "state": "active"},
                {"dest": "10.40.0.0/16", "pcx": "pcx-1", "gateway": None, "state": "active"}]},
            "rtb-s": {"vpc_id": "vpc-s", "main": True, "subnets": [], "routes": [
                {"dest": "10.20.0.0/16", "pcx": None, "gateway": "local", "state": "active"}]},
        },
        "groups": {
            "sg-e": {"vpc_id": "vpc-e", "name": "e", "agent_host": False, "egress": [],
                     "ingress": [{"protocol": "tcp", "from": 443, "to": 443, "cidrs": ["10.50.0.0/16"], "groups": []}]},
            "sg-s": {"vpc_id": "vpc-s", "name": "s", "agent_host": False, "egress": [],
                     "ingress": [{"protocol": "-1", "from": None, "to": None, "cidrs": [], "groups": ["sg-agents"]}]},
            "sg-agents": {"vpc_id": "vpc-s", "name": "agents", "agent_host": True, "ingress": [],
                          "egress": [{"protocol": "tcp", "from": 443, "to": 443, "cidrs": ["10.20.0.0/16"], "groups": []}]},
        },
        "peerings": {"pcx-1": {"id": "pcx-1", "status": "active", "vpcs": ["vpc-e", "vpc-a"]}},
        "zones": [{"id": "Z1", "name": API, "vpcs": ["vpc-e", "vpc-a"], "records": [
            {"name": API, "type": "A", "values": [], "alias": VPCE_NAME},
            {"name": "other." + API, "type": "CNAME", "values": [METRICS], "alias": None}]}],
        "public_zones": [],
    }


def test_a_private_zone_alias_gives_the_endpoint_addresses_in_every_associated_vpc(snap):
    for vpc_id in ("vpc-a", "vpc-e"):
        answer = model.resolve(snap, vpc_id, API + ".")
        assert (answer.rcode, answer.addresses) == ("NOERROR", ["10.40.1.50"])
    answer = model.resolve(snap, "vpc-s", API)  # not associated: the public answer
    assert answer.addresses == [paths.PUBLIC_ADDRESS]


def test_the_zone_is_authoritative_for_names_inside_it(snap):
    assert model.resolve(snap, "vpc-a", "nothing." + API).rcode == "NXDOMAIN"
    answer = model.resolve(snap, "vpc-a", "other." + API)  # CNAME, followed in the same VPC's view
    assert answer.cnames == [("other." + API, "CNAME", METRICS)] and answer.addresses == [paths.PUBLIC_ADDRESS]


def test_private_dns_answers_only_in_the_endpoints_vpc_and_only_while_enabled(snap):
    assert model.resolve(snap, "vpc-s", METRICS).addresses == ["10.20.1.60"]
    assert model.resolve(snap, "vpc-a", METRICS).addresses == [paths.PUBLIC_ADDRESS]
    snap["endpoints"]["vpce-2"]["private_dns"] = False
    assert model.resolve(snap, "vpc-s", METRICS).addresses == [paths.PUBLIC_ADDRESS]
    snap["endpoints"]["vpce-2"]["private_dns"] = True
    snap["endpoints"]["vpce-2"]["state"] = "deleted"
    assert model.resolve(snap, "vpc-s", METRICS).addresses == [paths.PUBLIC_ADDRESS]


def test_the_versioned_agent_host_is_a_public_cname_that_the_private_name_then_wins(snap):
    host = catalog.agent_metrics_host(SITE, "7.52.1")
    answer = model.resolve(snap, "vpc-s", host)
    assert answer.cnames == [(host, "CNAME", METRICS)] and answer.addresses == ["10.20.1.60"]
    assert model.resolve(snap, "vpc-a", host).addresses == [paths.PUBLIC_ADDRESS]


def test_endpoint_names_resolve_everywhere_and_unknown_names_do_not(snap):
    assert model.resolve(snap, "vpc-s", VPCE_NAME).addresses == ["10.40.1.50"]
    assert model.resolve(snap, "vpc-s", "example.invalid").rcode == "NXDOMAIN"
    snap["endpoints"]["vpce-2"]["private_dns_name"] = "*.wild." + SITE
    assert model.resolve(snap, "vpc-s", "a.wild." + SITE).addresses == ["10.20.1.60"]


def test_layout_refuses_overlapping_vpcs(snap):
    lay = model.layout(snap, ["vpc-e", "vpc-a"])
    assert lay["vpc-a"]["agent"] == "10.50.1.10" and lay["vpc-a"]["resolver"] == "10.50.0.2"
    assert lay["vpc-e"]["namespace"] == "ddpl-vpc-e" and "10.40.1.50" in lay["vpc-e"]["addresses"]
    snap["vpcs"]["vpc-a"]["cidr"] = "10.40.128.0/17"
    with pytest.raises(TwinError, match="overlap"):
        model.layout(snap, ["vpc-e", "vpc-a"])


def peered_pairs(snap):
    lay = model.layout(snap, ["vpc-e", "vpc-a", "vpc-s"])
    return model.firewall(snap, lay)[paths.FABRIC], lay


def test_peering_carries_traffic_only_while_active_and_routed_both_ways(snap):
    fabric, lay = peered_pairs(snap)
    assert "%s . 10.40.1.50" % lay["vpc-a"]["agent"] in fabric
    for change in ("status", "route-there", "route-back"):
        broken = copy.deepcopy(snap)
        if change == "status":
            broken["peerings"]["pcx-1"]["status"] = "rejected"
        elif change == "route-there":
            broken["tables"]["rtb-a"]["routes"].pop()
        else:
            broken["tables"]["rtb-e"]["routes"].pop()
        fabric, lay = peered_pairs(broken)
        assert "10.40.1.50" not in fabric, change


def test_endpoint_groups_admit_only_their_rules_and_agent_groups_limit_egress(snap):
    lay = model.layout(snap, ["vpc-e", "vpc-a", "vpc-s"])
    scripts = model.firewall(snap, lay)
    endpoint_vpc = scripts["ddpl-vpc-e"]
    assert "ip daddr 10.40.1.50 ip saddr { 10.50.0.0/16 } tcp dport 443 accept" in endpoint_vpc
    assert "ip daddr 10.40.1.50 drop" in endpoint_vpc
    same = scripts["ddpl-vpc-s"]
    # a rule naming a group admits its members: here the Agent host, in the tagged group
    assert "ip daddr 10.20.1.60 ip saddr { %s } accept" % lay["vpc-s"]["agent"] in same
    assert "ip saddr %s ip daddr { 10.20.0.0/16 } tcp dport 443 accept" % lay["vpc-s"]["agent"] in same
    assert "ip saddr %s drop" % lay["vpc-s"]["agent"] in same
    snap["groups"]["sg-e"]["ingress"] = []
    assert "10.50.0.0/16" not in model.firewall(snap, lay)["ddpl-vpc-e"]


def test_the_daemon_survives_clients_that_hang_up(tmp_path):
    """SIGPIPE is ignored in the daemon (a write to a closed connection is one error), whatever the CLI does."""
    probe = ("import signal, sys\n"
             "from twin import daemon, __main__ as cli\n"
             "class Probe:\n"
             "    def __init__(self, state_dir):\n"
             "        self.stopping = None\n"
             "    def run(self, lifetime):\n"
             "        return 0 if signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN else 3\n"
             "daemon.Twin = Probe\n"
             "sys.exit(cli.main(['--state-dir', sys.argv[1], 'daemon']))\n")
    ran = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=str(paths.ROOT), capture_output=True,
                         text=True, timeout=60, check=False)
    assert ran.returncode == 0, "the daemon would be killed by SIGPIPE: %s" % ran.stderr[-2000:]
