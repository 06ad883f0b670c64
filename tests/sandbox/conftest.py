"""Fixtures for the sandbox's own tests: one in-process sandbox per module, reset per test."""

import os
import sys

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from sandbox.server import start_sandbox  # noqa: E402


@pytest.fixture(scope="module")
def sandbox():
    sb = start_sandbox(port=0, pending_seconds=0)
    yield sb
    sb.stop()


@pytest.fixture(autouse=True)
def clean_sandbox(request):
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").reset()
    yield


@pytest.fixture
def aws(sandbox):
    """aws(service, region, access_key="testing", attempts=1) -> boto3 client on the sandbox."""

    def make(service, region="us-east-1", access_key="testing", attempts=1):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=sandbox.url,
            aws_access_key_id=access_key,
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}),
        )

    return make
