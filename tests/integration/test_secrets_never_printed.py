"""Secrets planted in datadog.yaml files and in another account's credentials never reach the output.

Each run is `ansible-playbook -vvv --diff`: the most Ansible ever prints. A secret counts as
leaked when any 7 characters of it show in stdout, stderr or a registered result.
"""

import json

import yaml

from conftest import OTHER_ACCOUNT, Network, run_playbook
from test_peered_region import PLAYBOOK as PEERED, scenario, zones_of

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.tests.unit.plugins.module_utils.test_yaml_edit import (
    API_KEY, MASK_CASES, SECRETS, leaks)

VERBOSE = ("-vvv",)

BROKEN = {
    "unterminated-quote": 'api_key: "%s\nsite: datadoghq.com\n' % API_KEY,
    "tab-indent": "api_key:\t%s\nlogs_config:\n\tforce_use_http: true\n" % API_KEY,
    "bad-escape": 'api_key: "%s\\q"\n' % API_KEY,
    "duplicate": "api_key: %s\napi_key: %s\n" % (API_KEY, API_KEY),
    "alias": "k: &k %s\napi_key: *k\nlogs_config: *k\n" % API_KEY,
}

PLAY = """
- name: Agent files with secrets in every style
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Change the site of each datadog.yaml
      datadog_privatelink.aws.agent_config:
        path: "{{ item }}"
        settings:
          site: ap1.datadoghq.com
          logs_config.force_use_http: true
        backup: true
      loop: "{{ agent_files }}"
      register: edits

    - name: The agent role's one call per host on the same files (use_http added, so a diff is shown)
      datadog_privatelink.aws.agent_private_path:
        config_path: "{{ item }}"
        use_http: true
        agent_version: 7.52.1
        restart_when_intake_moves: false
      loop: "{{ agent_files }}"
      register: private_path

    - name: Send logs over HTTPS from the compose Agents
      datadog_privatelink.aws.agent_config:
        path: "{{ item }}"
        compose_service: datadog
        settings:
          DD_LOGS_CONFIG_FORCE_USE_HTTP: "true"
      loop: "{{ compose_files }}"
      register: compose_edits

    - name: Files that do not parse, or hold an alias on the way
      datadog_privatelink.aws.agent_config:
        path: "{{ item }}"
        settings:
          logs_config.force_use_http: true
      loop: "{{ broken_files }}"
      register: refusals
      ignore_errors: true

    - name: Show every result
      ansible.builtin.debug:
        var: item
      loop: "{{ edits.results + private_path.results + compose_edits.results + refusals.results }}"

    - name: Keep the results for the test
      ansible.builtin.copy:
        content: "{{ {'edits': edits, 'private_path': private_path, 'compose': compose_edits, 'refusals': refusals} | to_nice_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


def test_agent_config_at_vvv_with_diff_prints_no_secret(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    agent_files, compose_files, broken_files = [], [], []
    for name, text in sorted(MASK_CASES.items()):
        if name == "unparsable":
            continue
        path = files / ("%s.yaml" % name)
        path.write_text(text)
        (compose_files if name.startswith("compose") else agent_files).append(str(path))
    for name, text in sorted(BROKEN.items()):
        path = files / ("broken-%s.yaml" % name)
        path.write_text(text)
        broken_files.append(str(path))
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAY)
    results_file = tmp_path / "results.json"

    rc, output, recap = run_playbook(playbook, {
        "agent_files": agent_files, "compose_files": compose_files, "broken_files": broken_files,
        "results_file": str(results_file)}, diff=True, extra_args=VERBOSE)

    assert rc == 0, output
    assert recap["failed"] == 0 and recap["ignored"] == 1, output
    assert "********" in output and "ap1.datadoghq.com" in output  # the diffs were printed
    assert leaks(output, *SECRETS) == [], leaks(output, *SECRETS)
    results = results_file.read_text()
    assert leaks(results, *SECRETS) == []
    results = json.loads(results)
    assert [r["changed"] for r in results["edits"]["results"]] == [True] * len(agent_files)
    assert [r["changed"] for r in results["compose"]["results"]] == [True] * len(compose_files)
    assert [r["changed_keys"] for r in results["private_path"]["results"]] == [["logs_config.use_http"]] * len(agent_files)
    assert [r["failed"] for r in results["refusals"]["results"]] == [True] * len(broken_files)
    for result in results["refusals"]["results"]:
        assert "line " in result["msg"] or "alias" in result["msg"], result["msg"]
    for path in agent_files:
        with open(path) as handle:
            assert yaml.safe_load(handle)["site"] == "ap1.datadoghq.com"
    for path in broken_files:
        with open(path) as handle:
            assert handle.read() == BROKEN[path.rsplit("broken-", 1)[1][:-5]]


OTHER_SECRET_KEY = "Sx9Vq2Lm7Rt4Wz8Kp3Nd6Hb1Jf5Yc0Ga"
OTHER_SESSION_TOKEN = "Tk7Gh3Wn9Qc2Lp8Xv4Md1Rs6Zy0BfE5"


def test_peered_region_at_vvv_prints_no_credential_of_the_other_account(sandbox):
    keys = {"access_key": "AKIASBOX" + OTHER_ACCOUNT, "secret_key": OTHER_SECRET_KEY, "session_token": OTHER_SESSION_TOKEN}
    endpoint = Network(cidr="10.150.0.0/16")
    other = Network(region="eu-west-1", cidr="10.151.0.0/16", zones=("a",), account_keys=keys)
    other.other_account = True
    variables = scenario(endpoint, [other], endpoints_secretsmanager_endpoint=True)
    variables["peering_agent_vpcs"][0]["aws"] = keys  # agent_entry would give the shared test keys
    # Its Secrets Manager endpoint is made with those keys too (by a loop over the entries).
    variables["peering_agent_vpcs"][0]["subnet_ids"] = other.subnet_ids
    (default,) = other.client.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [other.vpc_id]},
                                                                {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]
    other.client.authorize_security_group_ingress(GroupId=default["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])

    rc, output, recap = run_playbook(PEERED, variables, diff=True, extra_args=VERBOSE)
    assert rc == 0, output
    assert leaks(output, OTHER_SECRET_KEY, OTHER_SESSION_TOKEN) == [], leaks(output, OTHER_SECRET_KEY, OTHER_SESSION_TOKEN)
    for vpcs in zones_of(endpoint).values():  # the other account's association happened, with those keys
        assert vpcs == {endpoint.vpc_id, other.vpc_id}
    assert [e["ServiceName"] for e in other.endpoints()] == [
        e["service_name"] for e in catalog.aws_service_entries(other.region, ["secretsmanager"])]
    assert "%s (eu-west-1, account %s)" % (other.vpc_id, OTHER_ACCOUNT) in output
