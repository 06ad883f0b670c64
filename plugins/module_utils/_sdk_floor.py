# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The boto3/botocore floor of cross-region PrivateLink, checked before any AWS change.

Older botocore rejects the ServiceRegion (CreateVpcEndpoint) and ServiceRegions
(DescribeVpcEndpointServices) parameters with a raw "Unknown parameter in input" error, by
then after other resources were made. A module that may send them calls
require_service_regions() right after it builds its AnsibleAWSModule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import sys

# The floor requirements.txt declares: the first SDK release with the ServiceRegion parameters.
SERVICE_REGIONS_FLOOR = "1.35.70"


def version_tuple(text):
    """'1.35.70' -> (1, 35, 70); trailing non-digits ignored; () when unreadable."""
    return tuple(int(part) for part in re.findall(r"\d+", re.match(r"^[\d.]*", str(text or "")).group(0)))


def installed_versions():
    """{'boto3': '1.35.70', 'botocore': '1.35.70'}; a missing package maps to None."""
    found = {}
    for name in ("boto3", "botocore"):
        try:
            found[name] = __import__(name).__version__
        except ImportError:
            found[name] = None
    return found


def service_regions_problem(versions=None, floor=SERVICE_REGIONS_FLOOR):
    """The message to fail with when an installed boto3/botocore is older than floor, else None."""
    versions = installed_versions() if versions is None else versions
    old = ["%s %s" % (name, version) for name, version in sorted(versions.items())
           if version is not None and version_tuple(version) < version_tuple(floor)]
    if not old:
        return None  # missing packages are AnsibleAWSModule's own error
    return (
        "Cross-region PrivateLink needs boto3 and botocore >= {floor} (the ServiceRegion parameters), "
        "but the Python that runs this module ({python}) has {old}. Nothing was changed. Upgrade them "
        "where the module runs (the controller, or the execution environment): "
        "{python} -m pip install 'boto3>={floor}' 'botocore>={floor}' "
        "(the collection's requirements.txt lists them)."
    ).format(floor=floor, python=sys.executable, old=" and ".join(old))


def require_service_regions(module, needed=True):
    """Fail the module before any change when it will send ServiceRegion(s) and the SDK is too old."""
    if not needed:
        return
    problem = service_regions_problem()
    if problem:
        module.fail_json(msg=problem, installed=installed_versions(), required=SERVICE_REGIONS_FLOOR)
