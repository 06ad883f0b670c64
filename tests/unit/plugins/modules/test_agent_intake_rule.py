"""The restart rule of agent_intake_addresses and agent_private_path (module_utils/_agent_intake), without I/O."""

from ansible_collections.datadog_privatelink.aws.plugins.module_utils._agent_intake import _hex_address, decide

PRIVATE = {"api.datadoghq.com": ["10.40.1.17"], "trace.agent.datadoghq.com": ["10.40.1.18"]}


def test_same_agent_same_addresses_no_restart():
    assert decide(PRIVATE, {"agent": "b:1:7", "addresses": PRIVATE}, "b:1:7", [])[0] is False


def test_same_agent_moved_names_restart_and_say_which():
    before = dict(PRIVATE, **{"api.datadoghq.com": ["198.51.100.10"]})
    due, reason, _public = decide(PRIVATE, {"agent": "b:1:7", "addresses": before}, "b:1:7", [])
    assert due and reason.startswith("api.datadoghq.com moved from 198.51.100.10 to 10.40.1.17")
    assert "trace.agent" not in reason


def test_unknown_agent_on_the_public_path_restarts_when_the_private_path_exists():
    due, reason, public = decide(PRIVATE, None, "b:2:9", [("198.51.100.10", 443), ("10.40.1.17", 443)])
    assert due and public == ["198.51.100.10:443"] and "public addresses (198.51.100.10:443)" in reason


def test_unknown_agent_is_left_alone_while_its_public_addresses_are_still_the_names_addresses():
    public_now = dict(PRIVATE, **{"api.datadoghq.com": ["198.51.100.10"]})
    assert decide(public_now, None, "b:2:9", [("198.51.100.10", 443)])[0] is False
    # a name still unresolved does not hide another name's move
    unresolved = dict(PRIVATE, **{"api.datadoghq.com": []})
    assert decide(unresolved, None, "b:2:9", [("198.51.100.10", 443)])[0] is True


def test_no_agent_no_restart_and_a_restarted_agent_is_judged_by_its_connections():
    assert decide(PRIVATE, None, None, [("198.51.100.10", 443)])[0] is False
    recorded_for_old = {"agent": "b:1:7", "addresses": {"api.datadoghq.com": ["198.51.100.10"]}}
    assert decide(PRIVATE, recorded_for_old, "b:3:11", [("10.40.1.17", 443)])[0] is False


def test_proc_net_addresses_decode():
    assert _hex_address("0A28010A:01BB") == ("10.1.40.10", 443)
    assert _hex_address("00000000000000000000000001000000:2904") == ("::1", 10500)
