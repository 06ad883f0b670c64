# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ip_ranges
short_description: Datadog's public IP ranges for some products, validated and cached
version_added: 0.1.0
description:
  - Reads Datadog's IP ranges document (C(https://ip-ranges.<site>), described in
    U(https://docs.datadoghq.com/agent/configure_agent/network/)) and returns the CIDRs of the
    product sections asked for, IPv4, IPv6 or both.
  - Refuses a document that is not JSON, lacks C(version) or C(modified), lacks a section asked
    for, or whose section lacks a C(prefixes_ipv4) / C(prefixes_ipv6) list of CIDRs; the message
    names the field.
  - Keeps the last good document in a small cache file (one per URL) and reads it instead of the
    network while it is younger than O(max_age). A newer C(version) replaces it; when the server
    cannot be reached, an older cached document is used with a warning.
  - The ranges change; re-run what uses them (for example the C(egress) role) regularly.
author:
  - datadog_privatelink.aws maintainers (@datadog-privatelink)
options:
  _terms:
    description:
      - Product sections (V(agents), V(api), V(apm), V(logs), V(process), V(orchestrator),
        V(synthetics), V(webhooks)). None means every section of the document.
    required: false
    type: list
    elements: str
  site:
    description: The Datadog site (any site, with or without PrivateLink), as key (V(us1)) or name (V(datadoghq.com)).
    type: str
    default: us1
  url:
    description: Where to read the document instead of C(https://ip-ranges.<site>), for a mirror or a proxy.
    type: str
  ca_path:
    description: A PEM file of the certificate authorities to trust for O(url).
    type: path
  validate_certs:
    description: Whether to verify the server's TLS certificate.
    type: bool
    default: true
  ip_version:
    description: Address family of the CIDRs returned.
    type: str
    choices: ["4", "6", both]
    default: both
  timeout:
    description: Seconds to wait for the server.
    type: float
    default: 10
  max_age:
    description: Seconds a cached document is used without asking the server; V(0) always asks.
    type: int
    default: 3600
  refresh:
    description: Ask the server even when the cache is young enough.
    type: bool
    default: false
  cache_dir:
    description: Folder of the cache files. Default C($XDG_CACHE_HOME/datadog_privatelink), else C(~/.cache/datadog_privatelink).
    type: path
"""

EXAMPLES = r"""
- name: Datadog's log intake addresses (logs over TCP have no PrivateLink service)
  ansible.builtin.debug:
    msg: "{{ query('datadog_privatelink.aws.ip_ranges', 'logs', site='datadoghq.com', ip_version='4') }}"

- name: Through an internal mirror with its own CA
  ansible.builtin.set_fact:
    synthetics_cidrs: "{{ query('datadog_privatelink.aws.ip_ranges', 'synthetics', url='https://mirror.example.com/datadog-ip-ranges.json',
                                ca_path='/etc/pki/mirror-ca.pem', refresh=true) }}"
"""

RETURN = r"""
_raw:
  description: The CIDRs of the sections asked for, IPv4 first, each once, in the document's order.
  type: list
  elements: str
"""

import hashlib
import ipaddress
import json
import os
import tempfile
import time

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import open_url
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import catalog

display = Display()


class DocumentError(ValueError):
    """The document is not an IP ranges document; the message names the field."""


def validate(document, sections, source):
    """Raise DocumentError unless document holds version, modified and the sections asked for (all when empty)."""
    if not isinstance(document, dict):
        raise DocumentError("%s: the IP ranges document must be a JSON object, not %s." % (source, type(document).__name__))
    if not isinstance(document.get("version"), int) or isinstance(document.get("version"), bool):
        raise DocumentError("%s: field 'version' is missing or not an integer (got %r)." % (source, document.get("version")))
    if not isinstance(document.get("modified"), str) or not document.get("modified"):
        raise DocumentError("%s: field 'modified' is missing or not a string (got %r)." % (source, document.get("modified")))
    present = [key for key in document if key not in ("version", "modified")]
    wanted = list(sections) or present
    for section in wanted:
        if section not in document:
            raise DocumentError("%s: section '%s' is missing (sections there: %s)." % (source, section, ", ".join(present) or "none"))
        if not isinstance(document[section], dict):
            raise DocumentError("%s: section '%s' is not an object." % (source, section))
        for family, key in sorted(catalog.IP_RANGES_PREFIX_KEYS.items()):
            prefixes = document[section].get(key)
            if not isinstance(prefixes, list):
                raise DocumentError("%s: field '%s.%s' is missing or not a list." % (source, section, key))
            for prefix in prefixes:
                try:
                    network = ipaddress.ip_network(to_text(prefix), strict=False)
                except ValueError:
                    network = None
                if network is None or network.version != family or not isinstance(prefix, str):
                    raise DocumentError("%s: field '%s.%s' holds %r, which is not an IPv%d CIDR." % (source, section, key, prefix, family))
    return wanted


def select(document, sections, ip_version):
    """The CIDRs of the sections, IPv4 first, each once."""
    families = (4, 6) if ip_version == "both" else (int(ip_version),)
    cidrs = []
    for family in families:
        for section in sections:
            for prefix in document[section][catalog.IP_RANGES_PREFIX_KEYS[family]]:
                if prefix not in cidrs:
                    cidrs.append(prefix)
    return cidrs


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "datadog_privatelink")


def cache_file(cache_dir, url):
    return os.path.join(cache_dir, "ip-ranges-%s.json" % hashlib.sha256(url.encode("utf-8")).hexdigest()[:16])


def read_cache(path):
    """The cached {url, fetched_at, document}, or None when absent or unreadable."""
    try:
        with open(path) as handle:
            cached = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(cached, dict) or not isinstance(cached.get("document"), dict):
        return None
    return cached


def write_cache(path, url, document):
    """Write atomically (a reader never sees half a file); a cache that cannot be written only warns."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".ip-ranges-")
        with os.fdopen(handle, "w") as out:
            json.dump({"url": url, "fetched_at": time.time(), "document": document}, out)
        os.replace(temporary, path)
    except (IOError, OSError) as error:
        display.warning("datadog_privatelink.aws.ip_ranges: could not write the cache %s: %s" % (path, to_native(error)))


class LookupModule(LookupBase):
    def fetch(self, url):
        response = open_url(url, method="GET", timeout=self.get_option("timeout"), validate_certs=self.get_option("validate_certs"),
                            ca_path=self.get_option("ca_path"), headers={"Accept": "application/json"}, http_agent="datadog_privatelink.aws")
        body = response.read()
        try:
            return json.loads(to_text(body))
        except ValueError as error:
            raise DocumentError("%s: the answer is not JSON (%s)." % (url, to_native(error)))

    def document(self, url, sections):
        path = cache_file(self.get_option("cache_dir") or default_cache_dir(), url)
        cached = read_cache(path)
        max_age = self.get_option("max_age")
        if cached and not self.get_option("refresh") and max_age > 0 and time.time() - cached.get("fetched_at", 0) < max_age:
            try:
                validate(cached["document"], sections, "%s (cached in %s)" % (url, path))
                return cached["document"]
            except DocumentError:
                pass  # e.g. a section asked for now that the cached copy lacks: ask the server
        try:
            document = self.fetch(url)
        except DocumentError:
            raise
        except Exception as error:  # open_url raises many kinds (URLError, SSLError, socket errors, HTTPError)
            if cached:
                display.warning("datadog_privatelink.aws.ip_ranges: %s could not be read (%s); using the copy cached %s (version %s)."
                                % (url, to_native(error), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(cached.get("fetched_at", 0))),
                                   cached["document"].get("version")))
                validate(cached["document"], sections, "%s (cached in %s)" % (url, path))
                return cached["document"]
            raise AnsibleLookupError("Could not read Datadog's IP ranges from %s: %s. Check the network path, or give a mirror with 'url' "
                                     "(and 'ca_path' for its certificate authority)." % (url, to_native(error)))
        validate(document, sections, url)
        if cached and isinstance(cached["document"].get("version"), int) and cached["document"]["version"] > document["version"]:
            display.warning("datadog_privatelink.aws.ip_ranges: %s answered version %s, older than the cached version %s; the answer is used."
                            % (url, document["version"], cached["document"]["version"]))
        write_cache(path, url, document)
        return document

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        sections = list(dict.fromkeys(terms or []))
        try:
            url = self.get_option("url") or catalog.ip_ranges_url(self.get_option("site"))
            document = self.document(url, sections)
            return select(document, validate(document, sections, url), self.get_option("ip_version"))
        except (catalog.CatalogError, DocumentError) as error:
            raise AnsibleLookupError(to_native(error))
