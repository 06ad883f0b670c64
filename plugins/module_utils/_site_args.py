# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The argument spec of site, services and service_names, documented by the doc fragment
datadog_privatelink.aws.datadog (plugins/doc_fragments/datadog.py): change both together.

Private to this collection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def site_argument_spec(**extra):
    """site, services and service_names, plus the module's own options."""
    spec = dict(
        site=dict(type="str", required=True),
        services=dict(type="list", elements="str", default=[]),
        service_names=dict(type="dict", default={}),
    )
    spec.update(extra)
    return spec
