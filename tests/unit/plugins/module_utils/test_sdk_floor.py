import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _sdk_floor as sdk_floor


class Failed(Exception):
    pass


class FakeModule:
    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def test_version_tuple():
    assert sdk_floor.version_tuple("1.35.70") == (1, 35, 70)
    assert sdk_floor.version_tuple("1.35.9") < sdk_floor.version_tuple("1.35.70")
    assert sdk_floor.version_tuple("1.36.0rc1") == (1, 36, 0)


@pytest.mark.parametrize("versions", [
    {"boto3": "1.35.70", "botocore": "1.35.70"},
    {"boto3": "1.40.1", "botocore": "1.40.1"},
    {"boto3": None, "botocore": None},  # AnsibleAWSModule reports missing packages itself
])
def test_floor_met(versions):
    assert sdk_floor.service_regions_problem(versions) is None


def test_old_botocore_named_with_the_fix():
    problem = sdk_floor.service_regions_problem({"boto3": "1.35.70", "botocore": "1.34.162"})
    assert "botocore 1.34.162" in problem and "boto3 1.35" not in problem
    assert "pip install 'boto3>=1.35.70' 'botocore>=1.35.70'" in problem
    assert "Nothing was changed" in problem


def test_require_fails_the_module(monkeypatch):
    monkeypatch.setattr(sdk_floor, "installed_versions", lambda: {"boto3": "1.34.0", "botocore": "1.34.0"})
    with pytest.raises(Failed) as failed:
        sdk_floor.require_service_regions(FakeModule())
    assert failed.value.args[0]["required"] == sdk_floor.SERVICE_REGIONS_FLOOR
    assert "boto3 1.34.0 and botocore 1.34.0" in failed.value.args[0]["msg"]
    sdk_floor.require_service_regions(FakeModule(), needed=False)  # same-region runs are not refused


def test_floor_matches_requirements_txt():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[4] / "requirements.txt").read_text()
    assert "botocore>=%s" % sdk_floor.SERVICE_REGIONS_FLOOR in text
    assert "boto3>=%s" % sdk_floor.SERVICE_REGIONS_FLOOR in text


def test_this_python_meets_the_floor():
    assert sdk_floor.service_regions_problem() is None
