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
    (for example C(logs_config.force_use_http=true), SPEC B5) and changes nothing else;
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
  - In the diff, values of keys that look like secrets (C(api_key), C(DD_API_KEY), tokens,
    passwords) are masked.
author:
  - datadog_privatelink.aws contributors (@datadog-privatelink)
requirements:
  - PyYAML on the managed host (Debian/Ubuntu C(python3-yaml), RHEL C(python3-pyyaml)).
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
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import yaml_edit

# Values of these keys never show in a diff (the Agent's API key sits near `site:`).
_SECRET_YAML = re.compile(
    r"""^(\s*(?:-\s+)?["']?[A-Za-z0-9_]*(?:api_key|app_key|apikey|token|password|secret)[A-Za-z0-9_]*["']?\s*:[ \t]*)(?!\s*(?:#|$))(.*?)(\s+#.*)?$""",
    re.I | re.M,
)
_SECRET_ENV = re.compile(r"""^(\s*-\s*["']?[A-Za-z0-9_]*(?:API_KEY|APP_KEY|TOKEN|PASSWORD|SECRET)[A-Za-z0-9_]*=)([^"'\r\n]*)""", re.I | re.M)


def mask_secrets(text):
    text = _SECRET_YAML.sub(lambda m: m.group(1) + "********" + (m.group(3) or ""), text)
    return _SECRET_ENV.sub(lambda m: m.group(1) + "********", text)


def read_text(path):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        # newline="" semantics: bytes decoded as is, CRLF kept.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise yaml_edit.YamlEditError("%s is not UTF-8 text (%s); left untouched." % (path, exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True, aliases=["dest"]),
            settings=dict(type="dict", required=True),
            compose_service=dict(type="str"),
            create=dict(type="bool", default=False),
            backup=dict(type="bool", default=False),
            validate=dict(type="str"),
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

    if os.path.isdir(path):
        module.fail_json(msg="%s is a directory, not a YAML file." % path, **result)
    exists = os.path.exists(path)
    if not exists and not module.params["create"]:
        module.fail_json(
            msg="%s does not exist. Is the Agent installed on this host, and is the path right? "
            "Set create=true to create the file with only these keys." % path,
            **result
        )

    try:
        old = read_text(path) if exists else ""
        if module.params["compose_service"]:
            new, changed_keys = yaml_edit.set_compose_environment(old, module.params["compose_service"], settings)
        else:
            new, changed_keys = yaml_edit.set_keys(old, settings)
    except yaml_edit.YamlEditError as exc:
        module.fail_json(msg="%s: %s" % (path, to_native(exc)), **result)

    result["changed_keys"] = changed_keys
    result["created"] = not exists
    changed = new != old or not exists
    if module._diff:
        result["diff"] = dict(
            before_header=path if exists else "/dev/null",
            after_header=path,
            before=mask_secrets(old),
            after=mask_secrets(new),
        )

    if changed and not module.check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(to_bytes(new, errors="surrogate_or_strict"))
            if module.params["validate"]:
                if "%s" not in module.params["validate"]:
                    module.fail_json(msg="validate must contain %%s: %s" % module.params["validate"], **result)
                rc, out, err = module.run_command(module.params["validate"] % tmp)
                if rc != 0:
                    module.fail_json(
                        msg="validate command failed; %s left untouched" % path, rc=rc, stdout=out, stderr=err, **result
                    )
            if exists and module.params["backup"]:
                result["backup_file"] = module.backup_local(path)
            module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
            if not exists and module.params["mode"] is None:
                # A new file must not be world-readable: datadog.yaml holds the API key.
                os.chmod(path, 0o640)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    if not module.check_mode and os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    result["changed"] = changed
    result["msg"] = (
        "set %s" % ", ".join(changed_keys) if changed_keys else ("created" if not exists else "already set")
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
