# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: destinations
short_description: Where a Datadog Agent sends its traffic, and which of it PrivateLink carries
version_added: 0.1.0
description:
  - Lists, for a Datadog site and an Agent version, every destination of Datadog's Network
    traffic guide (U(https://docs.datadoghq.com/agent/configure_agent/network/)) - host, port,
    protocol, product - and whether one of Datadog's PrivateLink services carries it, directly
    or through a public CNAME (the versioned metrics host is a CNAME to the metrics service's name).
  - Also lists NTP (Datadog's pool, or the Amazon Time Sync Service at 169.254.169.123) and the
    kubelet ports, which need no Datadog address.
  - With the term V(summary), returns instead one line per destination saying whether it goes over
    PrivateLink or still needs the internet, and why - for a playbook's closing summary.
  - Reads the collection's catalog only; makes no network call.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  _terms:
    description: Nothing (one dictionary per destination) or V(summary) (lines of text).
    required: false
    type: list
    elements: str
  site:
    description: The Datadog site, as catalog key (V(us1)) or C(dd_site) (V(datadoghq.com)).
    type: str
    required: true
  agent_version:
    description:
      - The Agent's version (V(7.52.1)). Older Agents use other hosts (C(app.<site>) before
        5.2.0 for data and before 6.18/7.18 for API calls).
      - Empty means a current Agent; its versioned metrics host is then given as
        C(*-app.agent.<site>).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: What a 7.52.1 Agent on us1 still sends over the internet
  ansible.builtin.debug:
    msg: "{{ query('datadog_privatelink.aws.destinations', site='us1', agent_version='7.52.1')
             | selectattr('internet') | map(attribute='host') }}"

- name: Summary for the end of a play
  ansible.builtin.debug:
    msg: "{{ query('datadog_privatelink.aws.destinations', 'summary', site='datadoghq.com') }}"
"""

RETURN = r"""
_raw:
  description:
    - Without a term, one dictionary per destination. With V(summary), lines of text.
  type: list
  elements: raw
  contains:
    key:
      description: The destination's key in the catalog (V(metrics), V(logs_tcp), V(ntp_aws), ...).
      type: str
    host:
      description: Host name (or address) the Agent connects to.
      type: str
    port:
      description: Destination port.
      type: int
    protocol:
      description: V(tcp) or V(udp).
      type: str
    product:
      description: The product or feature that sends there.
      type: str
    scope:
      description: V(datadog), V(ntp) or V(local_network).
      type: str
    private:
      description: True when a PrivateLink service of the catalog carries it.
      type: bool
    service_key:
      description: The catalog key of that service, or empty.
      type: str
    internet:
      description: True when, behind PrivateLink, it still needs a path to the internet.
      type: bool
    reason:
      description: Why it does not go over PrivateLink (empty when it does).
      type: str
    section:
      description: The section of Datadog's IP ranges document holding its addresses (see the P(datadog_privatelink.aws.ip_ranges#lookup) lookup).
      type: str
    allow:
      description: The name to allowlist in a proxy or firewall (a wildcard for versioned hosts).
      type: str
    transport:
      description: The setting that makes an Agent use it, when it is not the default.
      type: str
    cidr:
      description: Its address block when it is fixed (the Amazon Time Sync Service), else empty.
      type: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        views = list(terms or [])
        unknown = [term for term in views if term != "summary"]
        if unknown:
            raise AnsibleLookupError("Unknown term(s) %s: give no term (destinations) or 'summary'." % ", ".join(map(repr, unknown)))
        try:
            if views:
                return catalog.network_summary(self.get_option("site"), self.get_option("agent_version") or None)
            return catalog.network_destinations(self.get_option("site"), self.get_option("agent_version") or None)
        except catalog.CatalogError as error:
            raise AnsibleLookupError(str(error))
