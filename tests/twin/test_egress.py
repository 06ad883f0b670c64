"""The egress role on the wire: with an Agent host's egress limited to what the role sets, every private
intake is still reached and a destination outside PrivateLink is not (Datadog's Network traffic guide)."""

import json
import os
import subprocess
import sys

from sandbox.datadog import catalog
from tests.twin.conftest import COLLECTIONS, ROOT, STATE_DIR

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "egress_role.yml"
TCP_PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
    print("connected")
except OSError as error:
    print(type(error).__name__)
"""


def run_role(variables):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_FORCE_COLOR="0",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    process = subprocess.run(["ansible-playbook", str(PLAYBOOK), "-e", json.dumps(variables)], capture_output=True,
                             text=True, env=env, cwd=str(ROOT), timeout=300, check=False)
    assert process.returncode == 0, process.stdout[-4000:]
    return process.stdout


def test_egress_role_keeps_the_private_path_and_closes_the_public_one(twin_scenario):
    vpc_id = twin_scenario.same_region_vpc
    ec2 = twin_scenario.ec2()
    group_id = ec2.create_security_group(
        GroupName="agents-locked-down", Description="Agent hosts", VpcId=vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [
            {"Key": "datadog-privatelink:twin-agent-host", "Value": "true"}]}])["GroupId"]
    logs_host, port = catalog.logs_tcp_destination(twin_scenario.site)  # logs over TCP: no PrivateLink service
    probe = [sys.executable, "-c", TCP_PROBE, logs_host, str(port)]
    try:
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        out = run_role({"egress_region": "us-east-1", "egress_security_group_ids": [group_id],
                        "egress_endpoint_vpc_id": vpc_id})
        assert "changed=" in out
        twin_scenario.sync()
        results, records = twin_scenario.send(vpc_id)
        assert all(r["ok"] for r in results.values()), results
        assert records and {r["side"] for r in records} == {"private"}
        assert twin_scenario.api.run_in(vpc_id, probe, state_dir=STATE_DIR).stdout.strip() in ("timeout", "TimeoutError")
    finally:
        ec2.delete_security_group(GroupId=group_id)
        twin_scenario.sync()
    # without the locked-down group the public destination answers again: the probe can fail
    assert twin_scenario.api.run_in(vpc_id, probe, state_dir=STATE_DIR).stdout.strip() == "connected"
