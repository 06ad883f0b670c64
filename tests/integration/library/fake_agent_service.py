# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A service manager for the agent role's restart handler in tests (use: fake_agent_service).

It records each restart's service name, start and end in the file named by FAKE_AGENT_SERVICE_LOG
and takes FAKE_AGENT_SERVICE_SECONDS to restart, so that a test sees which Agents restarted and
how many at the same moment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(name=dict(type="str", required=True), state=dict(type="str")),
                           supports_check_mode=True)
    started = time.time()
    time.sleep(float(os.environ.get("FAKE_AGENT_SERVICE_SECONDS", "1")))
    with open(os.environ["FAKE_AGENT_SERVICE_LOG"], "a") as log:
        log.write(json.dumps({"name": module.params["name"], "start": started, "end": time.time()}) + "\n")
    module.exit_json(changed=True, name=module.params["name"], state=module.params["state"])


if __name__ == "__main__":
    main()
