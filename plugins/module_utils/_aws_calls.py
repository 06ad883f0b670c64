# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One way to call AWS from the modules: retried, paginated, one error style, other accounts' clients.

Private to this collection. amazon.aws wrappers are used where they exist (they stack an error
handler on jittered retries and paginate); the calls they lack go through AwsCalls.call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import concurrent.futures
import threading

try:
    import boto3
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import _aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.botocore import boto3_conn
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

try:
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import _get_user_agent_string
    from ansible_collections.amazon.aws.plugins.module_utils.botocore import enable_placebo
except ImportError:  # an amazon.aws without them: every client through boto3_conn, a session each
    _get_user_agent_string = None

# Credential options a caller may give for another account (the `aws` suboptions).
CREDENTIAL_KEYS = ("profile", "access_key", "secret_key", "session_token")

# The `aws` suboption spec: another account's credentials, kept out of logs.
AWS_OPTIONS_SPEC = dict(
    profile=dict(type="str"),
    access_key=dict(type="str", no_log=False),
    secret_key=dict(type="str", no_log=True),
    session_token=dict(type="str", no_log=True),
    endpoint_url=dict(type="str"),
)


class _Deferred(Exception):
    """A failure inside together(): reported by the calling thread, once."""

    def __init__(self, error, what):
        Exception.__init__(self, what)
        self.error = error
        self.what = what


def given(aws):
    """The options actually set in an `aws` dict (None and empty strings dropped)."""
    return dict((key, value) for key, value in (aws or {}).items() if value)


class AwsCalls:
    """AWS clients of one module run, keyed by region and credentials, and guarded calls.

    partial: a callable returning the result so far, attached to every failure so that the
    caller sees what was done before the failing call.
    """

    def __init__(self, module, partial=dict, hint=None):
        self.module = module
        self.partial = partial
        self.hint = hint  # error -> a sentence saying what to change, or None
        self._clients = {}
        self._sessions = {}
        self._local = threading.local()  # set in together()'s workers: failures are handed to the calling thread

    def client(self, service, region=None, aws=None):
        """A client of the module's credentials, or of `aws` (another account) when it sets any."""
        region = region or self.module.region
        aws = given(aws)
        key = (service, region, tuple(sorted(aws.items())))
        if key not in self._clients:
            params = dict(self.module.params)
            if any(aws.get(k) for k in CREDENTIAL_KEYS):
                params.update((k, aws.get(k)) for k in CREDENTIAL_KEYS)  # never mixed with the module's own
            if aws.get("endpoint_url"):
                params["endpoint_url"] = aws["endpoint_url"]
            params["region"] = region
            try:
                _region, endpoint, connection = _aws_connection_info(params)
            except AnsibleAWSError as e:  # a profile and keys at once, as module.client refuses it
                self.module.fail_json(msg=e.message)
            self._clients[key] = RetryingBotoClientWrapper(self._connect(service, region, endpoint, connection),
                                                           AWSRetry.jittered_backoff())
        return self._clients[key]

    def _connect(self, service, region, endpoint, connection):
        """boto3_conn's client, from one boto3 session per profile: a session each re-reads botocore's models (~0.3 s a client)."""
        if _get_user_agent_string is None:
            return boto3_conn(self.module, conn_type="client", resource=service, region=region, endpoint=endpoint, **connection)
        connection = dict(connection)
        profile = connection.pop("profile_name", None)
        config = botocore.config.Config(user_agent=_get_user_agent_string())
        for option in ("config", "aws_config"):
            extra = connection.pop(option, None)
            if extra:
                config = config.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
        try:
            if profile not in self._sessions:
                self._sessions[profile] = boto3.session.Session(profile_name=profile)
                enable_placebo(self._sessions[profile])
            return self._sessions[profile].client(service, config=config, region_name=region, endpoint_url=endpoint, **connection)
        except (ValueError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Couldn't connect to AWS")

    def fail(self, error, what):
        """One error style: 'Could not <what>: <AWS's reason>', with the result so far."""
        if getattr(self._local, "deferred", False):
            raise _Deferred(error, what)
        hint = self.hint(getattr(error, "exception", None) or error) if self.hint else None
        if hint:
            self.module.fail_json(msg="Could not %s: %s" % (what, hint), **self.partial())
        if isinstance(error, AnsibleAWSError):
            if error.exception is not None:
                self.module.fail_json_aws(error.exception, msg="Could not %s" % what, **self.partial())
            self.module.fail_json(msg="Could not %s: %s" % (what, error.message), **self.partial())
        self.module.fail_json_aws(error, msg="Could not %s" % what, **self.partial())

    def run(self, what, function, *args, **kwargs):
        """Run an amazon.aws wrapper (or any callable making AWS calls) under the error style."""
        try:
            return function(*args, **kwargs)
        except (AnsibleAWSError, botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, what)

    def call(self, client, operation, what, ignore=(), **kwargs):
        """One retried call; error codes in `ignore` return None (for instance an already deleted resource)."""
        return self.attempt(client, operation, what, ignore, **kwargs)[0]

    def attempt(self, client, operation, what, expected=(), **kwargs):
        """One retried call: (answer, None), or (None, code) for an error code the caller expects."""
        try:
            return getattr(client, operation)(aws_retry=True, **kwargs), None
        except botocore.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code in expected:
                return None, code
            self.fail(e, what)
        except botocore.exceptions.BotoCoreError as e:
            self.fail(e, what)

    def together(self, jobs, workers=8):
        """Run independent reads at once (each a callable making calls through this object); their answers in order.

        The calls wait on the network, not the CPU, so a module reading several VPCs, regions or accounts
        spends one round trip's time, not their sum. Clients must be made before (botocore makes them one
        thread at a time); the first failure, in the jobs' order, is reported as any other.
        """
        def worker(job):
            self._local.deferred = True
            try:
                return job()
            finally:
                self._local.deferred = False

        if len(jobs) < 2:
            return [job() for job in jobs]
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = [pool.submit(worker, job) for job in jobs]
        answers = []
        for future in futures:
            try:
                answers.append(future.result())
            except _Deferred as deferred:
                self.fail(deferred.error, deferred.what)
        return answers

    def token_pages(self, client, operation, key, what, ignore=(), **kwargs):
        """Every item of an answer paged by NextToken, for the operations botocore has no paginator for.

        An error code in `ignore` returns None (for instance a VPC deleted since).
        """
        items = []
        while True:
            page = self.call(client, operation, what, ignore, **kwargs)
            if page is None:
                return None
            items.extend(page.get(key, []))
            if not page.get("NextToken"):
                return items
            kwargs["NextToken"] = page["NextToken"]

    def pages(self, client, operation, key, what, **kwargs):
        """Every item of a paginated answer, each page retried."""
        try:
            paginator = client.get_paginator(operation)
            return _paginate(paginator, kwargs)[key]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, what)


@AWSRetry.jittered_backoff()
def _paginate(paginator, kwargs):
    return paginator.paginate(**kwargs).build_full_result()
