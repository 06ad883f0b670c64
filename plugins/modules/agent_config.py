#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: agent_config
short_description: Set a few keys of the Datadog Agent's YAML configuration, keeping everything else
version_added: 0.1.0
description:
  - Sets the given keys of a YAML file such as the Datadog Agent's C(datadog.yaml)
    (for example C(logs_config.force_use_http=true)) and changes nothing else;
    every other key, comment, blank line, the key order, quoting, line endings (LF or
    CRLF), a missing final newline, and the file's owner, group and mode stay as they were.
  - A key that is missing is added inside its existing parent mapping at that mapping's
    indentation (block or flow style), or as a new block at the end of the file. A
    commented key such as C(# logs_config:) is a comment, not a key.
  - The new text is parsed again and must read back as the old data plus the wanted
    keys; then it is written to a temporary file (optionally checked with O(validate))
    and moved over the old one atomically. A file that is not valid YAML is refused and
    left untouched.
  - With O(compose_service), the file is a Docker Compose file and O(settings) are
    environment variables of that service (C(environment) in list or mapping form).
  - A symbolic link is followed; its target is edited (the temporary file sits beside the
    target) and the link stays a link.
  - Runs that edit one file at the same time take turns; each holds an exclusive lock
    (C(flock)) on the file, or on its directory while the file does not exist yet, from
    reading it to replacing it. Check mode takes no lock.
  - In the diff, every value that could hold a secret is masked, whatever the YAML style
    (block, flow, JSON, quoted, multi-line) - C(api_key), C(app_key), the API keys under
    C(additional_endpoints), tokens, passwords, the user information of URLs such as
    C(proxy.https), C(DD_API_KEY=) entries - and so are commented keys, URLs and hex keys in
    comments. A parse error gives the line, column and kind of problem, never the file's text.
author:
  - datadog_privatelink.aws contributors (@datadog-privatelink)
requirements:
  - PyYAML on the managed host (Debian/Ubuntu C(python3-yaml), RHEL C(python3-pyyaml)). With
    libyaml (which those packages include) a 5 MB file is read in about a second.
options:
  path:
    description:
      - The YAML file, for example V(/etc/datadog-agent/datadog.yaml).
    type: path
    required: true
    aliases: [dest]
  settings:
    description:
      - Keys to set. For C(datadog.yaml), dotted paths such as V(logs_config.force_use_http)
        mapped to a scalar (boolean, number, string or null).
      - With O(compose_service), environment variable names mapped to values (written as strings).
    type: dict
    required: true
  compose_service:
    description:
      - Treat O(path) as a Docker Compose file and set O(settings) in the environment of
        this service.
    type: str
  create:
    description:
      - Create the file (with only the wanted keys) when it does not exist.
      - When false, a missing file is an error.
    type: bool
    default: false
  backup:
    description:
      - Keep a timestamped copy of the old file next to it when it changes.
    type: bool
    default: false
  validate:
    description:
      - A command run on the new file before it replaces the old one; V(%s) is the path
        of the new file. The file is replaced only when the command succeeds.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for another run editing the same file to finish before failing
        (nothing is changed then).
    type: int
    default: 30
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the old and new text, with secret values masked.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Needs Python and PyYAML on the host. Windows hosts are handled by the C(agent) role on the controller side.
  safe_file_operations:
    description: Uses Ansible's strict file operation functions to ensure proper permissions and avoid data corruption.
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
seealso:
  - name: Datadog PrivateLink guide
    description: Logs must be sent over HTTPS through the endpoint.
    link: https://docs.datadoghq.com/agent/guide/private-link/
"""

EXAMPLES = r"""
- name: Send logs over HTTPS (PrivateLink)
  datadog_privatelink.aws.agent_config:
    path: /etc/datadog-agent/datadog.yaml
    settings:
      logs_config.force_use_http: true
      site: ap1.datadoghq.com
    backup: true
  notify: Restart datadog-agent

- name: Same for an Agent running from a compose file
  datadog_privatelink.aws.agent_config:
    path: /opt/datadog/compose.yaml
    compose_service: datadog
    settings:
      DD_LOGS_CONFIG_FORCE_USE_HTTP: "true"
      DD_SITE: ap1.datadoghq.com
"""

RETURN = r"""
changed_keys:
  description: The keys (or variable names) whose value changed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [logs_config.force_use_http]
backup_file:
  description: The copy of the old file, when O(backup=true) and the file changed.
  returned: changed and backup
  type: str
  sample: /etc/datadog-agent/datadog.yaml.12345.2026-11-23@14:49:00~
created:
  description: Whether the file was created.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _agent_file as agent_file, _yaml_edit as yaml_edit


def mask_secrets(text):
    return yaml_edit.mask_secrets(text)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True, aliases=["dest"]),
            settings=dict(type="dict", required=True),
            compose_service=dict(type="str"),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            validate=dict(type="str"),
            lock_timeout=dict(type="int", default=30),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    if not yaml_edit.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=to_native(yaml_edit.YAML_IMPORT_ERROR))

    path = module.params["path"]
    settings = module.params["settings"]
    result = dict(changed=False, changed_keys=[], created=False, path=path)
    if not settings:
        module.fail_json(msg="settings is empty: give at least one key to set.", **result)
    for name, value in settings.items():
        # A secret set through this module stays out of the result (its arguments are echoed at -v).
        if isinstance(value, str) and len(value) >= 4 and yaml_edit.is_secret_name(name):
            module.no_log_values.add(value)

    edited = agent_file.edit(module, path, settings, result, compose_service=module.params["compose_service"],
                             create=module.params["create"], backup=module.params["backup"],
                             validate=module.params["validate"], lock_timeout=module.params["lock_timeout"])
    changed = edited["changed"]
    result.update(changed_keys=edited["changed_keys"], created=edited["created"])
    if module._diff:
        result["diff"] = edited["diff"]
    if not module.check_mode and os.path.exists(edited["real"]):
        file_args = module.load_file_common_arguments(module.params)
        file_args["path"] = edited["real"]
        changed = module.set_fs_attributes_if_different(file_args, changed)
    result["changed"] = changed
    result["msg"] = ("set %s" % ", ".join(edited["changed_keys"]) if edited["changed_keys"]
                     else ("created" if edited["created"] else "already set"))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
