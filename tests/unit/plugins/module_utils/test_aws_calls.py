"""_aws_calls: clients of one module run share a boto3 session per profile; other accounts' keys stay theirs."""

import boto3

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _aws_calls


class FakeModule:
    region = "us-east-1"

    def __init__(self):
        self.params = {"region": "us-east-1", "access_key": "AKIAOWN", "secret_key": "own", "session_token": None,
                       "profile": None, "endpoint_url": "http://127.0.0.1:9", "validate_certs": True, "aws_ca_bundle": None,
                       "aws_config": None}

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)

    fail_json_aws = fail_json


def test_clients_share_one_session_and_are_made_once(monkeypatch):
    made = []

    class CountedSession(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            made.append(kwargs.get("profile_name"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_aws_calls.boto3.session, "Session", CountedSession)
    calls = _aws_calls.AwsCalls(FakeModule())
    ec2 = calls.client("ec2")
    assert calls.client("ec2") is ec2 and calls.client("ec2", "us-east-1") is ec2
    others = [calls.client("ec2", "eu-west-1"), calls.client("route53"), calls.client("sts"),
              calls.client("ec2", "eu-west-1", {"access_key": "AKIATHEIRS", "secret_key": "theirs"})]
    assert made == [None]  # one session for five clients of two accounts (keys are given per client)
    assert len(set(id(c) for c in [ec2] + others)) == 5
    own = ec2.client._request_signer._credentials.access_key
    theirs = others[-1].client._request_signer._credentials.access_key
    assert (own, theirs) == ("AKIAOWN", "AKIATHEIRS")
    assert others[0].client.meta.region_name == "eu-west-1" and ec2.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert ec2.client.meta.config.user_agent.startswith("APN/1.0 Ansible/")  # amazon.aws's user agent, as boto3_conn sets it


class Failed(Exception):
    pass


class RecordingModule(FakeModule):
    """fail_json as Ansible's: it ends the run (here by raising), after saying why once."""

    def __init__(self):
        super().__init__()
        self.failures = []

    def fail_json(self, **kwargs):
        self.failures.append(kwargs["msg"])
        raise Failed(kwargs["msg"])

    fail_json_aws = None


def test_together_runs_the_reads_at_once_and_answers_in_order():
    import threading
    import time

    started = []
    barrier = threading.Barrier(3, timeout=5)  # each job waits for the two others: only passes if they run at once

    def job(value):
        def read():
            started.append(value)
            barrier.wait()
            time.sleep(0.01 * (3 - value))  # the last finishes first
            return value
        return read

    calls = _aws_calls.AwsCalls(FakeModule())
    assert calls.together([job(1), job(2), job(3)]) == [1, 2, 3]
    assert sorted(started) == [1, 2, 3]


def test_together_reports_the_first_failure_once_from_the_calling_thread():
    import threading

    from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

    module = RecordingModule()
    calls = _aws_calls.AwsCalls(module, partial=lambda: {"done": "so far"})
    threads = []

    def failing(what):
        def read():
            threads.append(threading.current_thread())
            calls.fail(AnsibleAWSError(message="AccessDenied"), what)
        return read

    try:
        calls.together([lambda: 1, failing("read the first"), failing("read the second")])
    except Failed:
        pass
    assert module.failures == ["Could not read the first: AccessDenied"]
    assert threading.current_thread() not in threads  # the jobs ran elsewhere; the failure was said here
