"""Pure logic of vpc_endpoints: matching, drift, tags, security group rules, DNS entries."""

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog
from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _endpoint_plan as plan

OWNER = [{"Key": catalog.OWNER_TAG_KEY, "Value": catalog.OWNER_TAG_VALUE}]
ADOPTED = OWNER + [{"Key": catalog.OWNERSHIP_TAG_KEY, "Value": catalog.OWNERSHIP_ADOPTED}]
CREATED = OWNER + [{"Key": catalog.OWNERSHIP_TAG_KEY, "Value": catalog.OWNERSHIP_CREATED}]
NAME = "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaaaaaaaaaaaaaa"


def endpoint(endpoint_id, state="available", name=NAME, tags=None, region=None, created="2026-01-01", **extra):
    data = {"VpcEndpointId": endpoint_id, "State": state, "ServiceName": name, "Tags": tags or [],
            "VpcEndpointType": "Interface", "CreationTimestamp": created}
    if region:
        data["ServiceRegion"] = region
    data.update(extra)
    return data


@pytest.mark.parametrize("state", ["deleted", "Deleting", "failed", "rejected", "expired"])
def test_gone_endpoints_are_never_matched(state):
    matched, extras = plan.match_endpoints([NAME], [endpoint("vpce-1", state=state)], None, "us-east-1")
    assert matched == {NAME: None} and extras == []


def test_owned_endpoint_wins_over_a_foreign_one_and_the_other_is_reported():
    foreign = endpoint("vpce-foreign", created="2025-01-01")
    ours = endpoint("vpce-ours", tags=OWNER, state="pending", created="2026-01-01")
    matched, extras = plan.match_endpoints([NAME], [foreign, ours], None, "us-east-1")
    assert matched[NAME]["VpcEndpointId"] == "vpce-ours"
    assert [e["VpcEndpointId"] for e in extras] == ["vpce-foreign"]


def test_the_oldest_of_our_duplicates_is_kept():
    endpoints = [endpoint("vpce-b", tags=CREATED, state="pending", created="2025"), endpoint("vpce-c", tags=OWNER, created="2026"),
                 endpoint("vpce-a", tags=CREATED, state="pending", created="2024")]
    matched, extras = plan.match_endpoints([NAME], endpoints, None, "us-east-1")
    assert matched[NAME]["VpcEndpointId"] == "vpce-a"
    assert sorted(e["VpcEndpointId"] for e in extras) == ["vpce-b", "vpce-c"]


def test_ownership_created_adopted_or_none():
    assert plan.ownership(endpoint("vpce-1", tags=OWNER)) == "created"  # tagged by a release before the ownership tag
    assert plan.ownership(endpoint("vpce-1", tags=CREATED)) == "created"
    assert plan.ownership(endpoint("vpce-1", tags=ADOPTED)) == "adopted"
    assert plan.ownership(endpoint("vpce-1")) is None
    assert plan.is_owned(endpoint("vpce-1", tags=ADOPTED)) is False
    adopted, foreign = endpoint("vpce-adopted", tags=ADOPTED, created="2026"), endpoint("vpce-foreign", created="2020")
    assert plan.match_endpoints([NAME], [foreign, adopted], None, "us-east-1")[0][NAME] is adopted


def test_generation_and_client_token_follow_the_last_endpoint_that_ended():
    assert plan.generation([], NAME, None, "us-east-1") == "0"
    history = [endpoint("vpce-old", state="deleted", created="2024"), endpoint("vpce-new", state="failed", created="2025"),
               endpoint("vpce-live", created="2026"), endpoint("vpce-other", state="failed", name=NAME[:-1] + "b")]
    assert plan.generation(history, NAME, None, "us-east-1") == "vpce-new"
    token = plan.client_token("vpc-1", NAME, None, "0")
    assert token == plan.client_token("vpc-1", NAME, None, "0") and len(token) <= 64
    assert len({token, plan.client_token("vpc-2", NAME, None, "0"), plan.client_token("vpc-1", NAME, "us-east-1", "0"),
                plan.client_token("vpc-1", NAME, None, "vpce-new")}) == 4


def test_ended_endpoints_are_the_failed_and_rejected_ones():
    endpoints = [endpoint("vpce-1", state="failed"), endpoint("vpce-2", state="rejected"), endpoint("vpce-3", state="deleted"),
                 endpoint("vpce-4")]
    assert [e["VpcEndpointId"] for e in plan.ended_endpoints([NAME], endpoints, None, "us-east-1")] == ["vpce-1", "vpce-2"]


@pytest.mark.parametrize("ready_at", [0.5, 1, 3, 10, 30, 60, 180, 600])
def test_poll_schedule_returns_within_2_s_or_10_percent_of_the_last_endpoint(ready_at):
    waited, polls = 0.0, 0
    while waited < ready_at:
        waited += plan.poll_delay(waited)
        polls += 1
    assert waited - ready_at <= max(2.0, 0.1 * ready_at, 0.5)
    assert polls <= {10: 6, 60: 23, 180: 34}.get(ready_at, 70)


def test_cross_region_matches_only_endpoints_reaching_that_region():
    same = endpoint("vpce-same")  # no ServiceRegion: the module's region
    cross = endpoint("vpce-cross", region="us-east-1")
    matched, dummy = plan.match_endpoints([NAME], [same, cross], "us-east-1", "eu-west-1")
    assert matched[NAME]["VpcEndpointId"] == "vpce-cross"
    matched, dummy = plan.match_endpoints([NAME], [cross], None, "eu-west-1")
    assert matched[NAME] is None


def test_gateway_endpoints_are_ignored():
    gateway = endpoint("vpce-gw", VpcEndpointType="Gateway")
    assert plan.match_endpoints([NAME], [gateway], None, "us-east-1")[0][NAME] is None


def test_modification_adds_and_removes_exactly_the_difference():
    current = endpoint("vpce-1", SubnetIds=["subnet-a", "subnet-b"], Groups=[{"GroupId": "sg-1"}], PrivateDnsEnabled=False)
    changes = plan.modification(current, ["subnet-b", "subnet-c"], ["sg-2"], True, purge_subnets=True, purge_security_groups=True)
    assert changes == {
        "AddSubnetIds": ["subnet-c"], "RemoveSubnetIds": ["subnet-a"],
        "AddSecurityGroupIds": ["sg-2"], "RemoveSecurityGroupIds": ["sg-1"], "PrivateDnsEnabled": True,
    }
    predicted = plan.apply_modification(current, changes)
    assert plan.modification(predicted, ["subnet-b", "subnet-c"], ["sg-2"], True, True, True) == {}


def test_without_purge_what_the_user_put_stays_and_what_is_asked_is_added():
    current = endpoint("vpce-1", SubnetIds=["subnet-a", "subnet-b"], Groups=[{"GroupId": "sg-user"}], PrivateDnsEnabled=True)
    zones = {"subnet-a": "az1", "subnet-b": "az2", "subnet-c": "az3", "subnet-d": "az1"}
    changes = plan.modification(current, ["subnet-c", "subnet-d"], ["sg-ours"], True, subnet_zones=zones)
    assert changes == {"AddSubnetIds": ["subnet-c"], "AddSecurityGroupIds": ["sg-ours"]}  # subnet-d: az1 is subnet-a's
    assert plan.zone_conflicts(current, ["subnet-c", "subnet-d"], zones) == {"subnet-d": "subnet-a"}
    predicted = plan.apply_modification(current, changes)
    assert plan.modification(predicted, ["subnet-c", "subnet-d"], ["sg-ours"], True, subnet_zones=zones) == {}
    purged = plan.modification(current, ["subnet-c", "subnet-d"], ["sg-ours"], True, True, True, zones)
    assert purged["AddSubnetIds"] == ["subnet-c", "subnet-d"] and purged["RemoveSubnetIds"] == ["subnet-a", "subnet-b"]


def test_no_modification_when_in_line_and_groups_left_alone_when_not_given():
    current = endpoint("vpce-1", SubnetIds=["subnet-a"], Groups=[{"GroupId": "sg-1"}], PrivateDnsEnabled=True)
    assert plan.modification(current, ["subnet-a"], ["sg-1"], True) == {}
    assert plan.modification(current, ["subnet-a"], None, True) == {}


@pytest.mark.parametrize(
    "permission, admits",
    [
        ({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}, True),
        ({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": "sg-1"}]}, True),
        ({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, True),
        ({"IpProtocol": "6", "FromPort": 400, "ToPort": 500, "PrefixListIds": [{"PrefixListId": "pl-1"}]}, True),
        ({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}, False),
        ({"IpProtocol": "udp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}, False),
        ({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}, False),  # no source at all
    ],
)
def test_https_ingress_rules(permission, admits):
    assert plan.rule_admits_https(permission) is admits
    assert plan.group_admits_https({"IpPermissions": [permission]}) is admits


def test_desired_tags_carry_ownership_and_a_name_unless_given():
    tags = plan.desired_tags({"team": "sre"}, ["logs_agent", "logs_user"], "ap2", "dd-")
    assert tags == {"team": "sre", catalog.OWNER_TAG_KEY: catalog.OWNER_TAG_VALUE,
                    catalog.OWNERSHIP_TAG_KEY: catalog.OWNERSHIP_CREATED,
                    catalog.SERVICE_TAG_KEY: "logs_agent,logs_user", catalog.SITE_TAG_KEY: "ap2",
                    "Name": "dd-logs_agent-logs_user"}
    adopted = plan.desired_tags({}, ["api"], "us1", "dd-", catalog.OWNERSHIP_ADOPTED)
    assert "Name" not in adopted and adopted[catalog.OWNERSHIP_TAG_KEY] == catalog.OWNERSHIP_ADOPTED
    assert plan.desired_tags({"Name": "mine"}, ["api"], "us1", "dd-")["Name"] == "mine"
    assert "Name" not in plan.desired_tags({}, ["api"], "us1", "")


def test_regional_dns_entry_is_the_one_without_an_availability_zone():
    entries = [
        {"DnsName": "api.datadoghq.com", "HostedZoneId": "ZPRIVATE"},
        {"DnsName": "vpce-0abc-1x2y3z4w-us-east-1a.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com", "HostedZoneId": "Z7HUB22UULQXV"},
        {"DnsName": "vpce-0abc-1x2y3z4w.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com", "HostedZoneId": "Z7HUB22UULQXV"},
    ]
    regional = plan.regional_dns_entry({"DnsEntries": entries})
    assert regional["DnsName"] == "vpce-0abc-1x2y3z4w.vpce-svc-0aaa.us-east-1.vpce.amazonaws.com"
    assert plan.regional_dns_entry({"DnsEntries": []}) is None


def test_summary_of_a_missing_endpoint_keeps_the_shape():
    entry = catalog.service_entries("us1", ["api"])[0]
    empty = plan.summary(None, entry)
    full = plan.summary(endpoint("vpce-1", tags=OWNER, SubnetIds=["subnet-b", "subnet-a"]), entry,
                        {"PrivateDnsName": "api.datadoghq.com"})
    assert set(empty) == set(full)
    assert empty["vpc_endpoint_id"] is None and full["vpc_endpoint_id"] == "vpce-1"
    assert full["owned"] is True and full["subnet_ids"] == ["subnet-a", "subnet-b"]


def test_wait_progress_and_failure_reason():
    endpoints = [endpoint("vpce-1"), endpoint("vpce-2", state="pending"),
                 endpoint("vpce-3", state="failed", LastError={"Code": "Quota", "Message": "too many"})]
    assert plan.wait_progress(endpoints) == (["vpce-1"], ["vpce-2"], ["vpce-3"])
    assert plan.failure_reason(endpoints[2]) == "Quota: too many"
    assert plan.failure_reason(endpoint("vpce-4", state="rejected")) == "state rejected"


def simulate(created, provisioning):
    """Polls of the module's loop for endpoints created at the given times; returns (polls, overshoot)."""
    ready_at = [c + p for c, p in zip(created, provisioning)]
    start, now, polls, pending = created[-1], created[-1], 0, list(range(len(created)))
    delay = plan.next_poll(0, [c - now for c in created], [])
    while pending:
        now += delay
        polls += 1
        still = [i for i in pending if ready_at[i] > now]
        newly = [created[i] - now for i in pending if i not in still]
        pending = still
        delay = plan.next_poll(now - start, [created[i] - now for i in pending], newly)
    return polls, now - max(ready_at)


def test_a_batch_with_one_provisioning_time_is_seen_within_one_interval_in_few_polls():
    created = [i * 0.5 for i in range(10)]  # ten creates, 0.5 s apart, as in the sandbox benchmark
    polls, overshoot = simulate(created, [10.0] * 10)
    assert polls <= 4 and 0 <= overshoot <= 2.0


@pytest.mark.parametrize("apart", [0.15, 0.3, 0.5, 1.0])  # the sandbox answers in 0.15 s or more, AWS in about 0.5 s
def test_ten_endpoints_of_10_s_take_3_polls(apart):
    created = [i * apart for i in range(10)]
    polls, overshoot = simulate(created, [10.0] * 10)
    assert polls <= 3 and 0 <= overshoot <= 2.0


@pytest.mark.parametrize("minutes", [1, 2, 3])
def test_aws_provisioning_times_are_seen_within_10_percent(minutes):
    created = [i * 0.6 for i in range(10)]  # AWS answers CreateVpcEndpoint in about half a second
    polls, overshoot = simulate(created, [60.0 * minutes] * 10)
    assert overshoot <= max(2.0, 6.0 * minutes) and polls <= 12 * minutes


@pytest.mark.parametrize("spread", [0, 5, 20, 60])
def test_varied_provisioning_times_are_never_seen_more_than_3_intervals_late(spread):
    created = [i * 0.3 for i in range(10)]
    provisioning = [60 + spread * ((i * 7) % 10) / 10.0 for i in range(10)]  # AWS: about a minute, varying
    polls, overshoot = simulate(created, provisioning)
    last = max(c + p for c, p in zip(created, provisioning)) - created[-1]
    assert overshoot <= 3 * max(plan.MIN_POLL, plan.POLL_FRACTION * last) and polls <= 30


def test_private_zone_conflicts_are_zones_named_for_a_published_host_not_aws_managed_ones():
    entries = catalog.service_entries("us1", ["api", "metrics"])
    api, metrics = (e["private_dns_name"] for e in entries)
    summaries = [
        {"HostedZoneId": "Z1", "Name": api.upper() + ".", "Owner": {"OwningAccount": "123456789012"}},
        {"HostedZoneId": "Z2", "Name": metrics, "Owner": {"OwningService": "vpce.amazonaws.com"}},
        {"HostedZoneId": "Z3", "Name": "datadoghq.com.", "Owner": {"OwningAccount": "123456789012"}},
        {"HostedZoneId": "Z4", "Name": "internal.example.", "Owner": {"OwningAccount": "123456789012"}},
    ]
    assert [(zone["HostedZoneId"], keys) for zone, keys in plan.private_zone_conflicts(summaries, entries)] == [("Z1", ["api"])]
