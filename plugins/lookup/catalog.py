# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: catalog
short_description: Datadog PrivateLink facts of a site, from the collection's catalog
version_added: 0.1.0
description:
  - Returns, for each Datadog site given, its catalog key, C(dd_site) name, the AWS region
    of Datadog's endpoint services, and per service key the endpoint service name and the
    private DNS name the Agents resolve.
  - Makes no AWS call. Use M(datadog_privatelink.aws.service_info) to ask AWS.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  _terms:
    description: Datadog sites, as catalog key (V(us1)) or C(dd_site) (V(datadoghq.com)).
    required: true
    type: list
    elements: str
  services:
    description: Service keys to include; default the Agent's ten, V(all) every service of the site (see C(docs/catalog.md)).
    type: list
    elements: str
    default: []
  service_names:
    description: Endpoint service name per service key, overriding the catalog.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Region of the us1 site's endpoint services
  ansible.builtin.debug:
    msg: "{{ lookup('datadog_privatelink.aws.catalog', 'datadoghq.com').region }}"

- name: Host names an ap1 Agent resolves
  ansible.builtin.debug:
    msg: "{{ lookup('datadog_privatelink.aws.catalog', 'ap1').services | dict2items | map(attribute='value.private_dns_name') }}"
"""

RETURN = r"""
_raw:
  description: One dictionary per site.
  type: list
  elements: dict
  contains:
    key:
      description: Catalog key of the site.
      type: str
    dd_site:
      description: The site name the Agent's C(site) setting takes.
      type: str
    region:
      description: AWS region of Datadog's endpoint services for the site.
      type: str
    services:
      description:
        - Per service key - key, title, service_name, private_dns_name (the host its clients use),
          superseded_service_names, anchor (its C(<colour>.intake.<site>) anchor, empty for a direct
          service), names (every customer-facing name, wildcards included), zone_name (the anchor,
          else the direct name) and check_names (the names, a wildcard through an example name).
      type: dict
    supported_sites:
      description: Every site key with PrivateLink.
      type: list
      elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        answers = []
        for term in terms:
            try:
                facts = catalog.site_facts(term)
                entries = catalog.service_entries(term, self.get_option("services"), self.get_option("service_names"))
            except catalog.CatalogError as error:
                raise AnsibleLookupError(str(error))
            facts["services"] = dict((entry["key"], entry) for entry in entries)
            facts["supported_sites"] = list(catalog.SITES)
            answers.append(facts)
        return answers
