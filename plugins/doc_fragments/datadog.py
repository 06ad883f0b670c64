# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # The Datadog site and its services, as every module of this collection takes them.
    DOCUMENTATION = r"""
options:
  site:
    description:
      - The Datadog site, as Datadog writes it - its key (V(us) or V(us1), V(ap1), V(ap2),
        V(uk1)) or its C(dd_site) name (V(datadoghq.com), V(ap1.datadoghq.com), ...).
      - Sites without PrivateLink (us3, us5, eu, gov) are refused with the list of supported
        ones. The catalog is documented in C(docs/catalog.md).
    type: str
    required: true
  services:
    description:
      - Service keys; default the ten the Agent needs - V(logs_agent), V(logs_user), V(api),
        V(metrics), V(containers), V(process), V(profiling), V(traces), V(dbm) and V(remote_config).
      - V(all) takes every service Datadog offers over PrivateLink on the site (one endpoint per
        distinct endpoint service). The other keys, named after the product (V(synthetics),
        V(rum), V(otlp), V(llm_observability), ...), and the sites that offer each are listed in
        C(docs/catalog.md).
    type: list
    elements: str
    default: []
  service_names:
    description:
      - Endpoint service name per service key, overriding the catalog, for instance when
        Datadog support gave you another name.
    type: dict
    default: {}
"""

    # The attributes every AWS module of this collection shares.
    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
  action_group:
    description: Use C(group/datadog_privatelink.aws.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - datadog_privatelink.aws.aws
"""

    # The same for the read-only AWS modules (the *_info modules): they change nothing, so no diff.
    # Literal on purpose: ansible-test reads doc fragments as string literals, not as expressions.
    READ_ONLY_ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
  action_group:
    description: Use C(group/datadog_privatelink.aws.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - datadog_privatelink.aws.aws
"""
