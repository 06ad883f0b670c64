# -*- coding: utf-8 -*-
# Copyright: datadog_privatelink.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One way for the modules to dispatch on state, show --diff and exit.

Private to this collection. A module builds a worker and hands it to run(module, worker):

    class Worker:
        def __init__(self, module):
            self.diff = {"before": [], "after": []}  # lines, one per thing the module manages
        def present(self): ...  # state=present (also modules without a state option)
        def absent(self): ...   # state=absent
        def result(self): ...   # the result, changed included; also what a failure carries (AwsCalls' partial)

run() calls present() or absent() by O(state), then exits with result() and, under --diff,
{"before": text, "after": text}: each side its lines sorted, one a line, duplicates dropped, so that
a run that changes nothing shows two equal sides and Ansible's diff shows only the lines that moved.
A worker whose diff sides are dicts (one entry per resource, as vpc_endpoints shows each endpoint's
fields) has them shown as they are. A worker with a diff_header attribute (text naming what the lines
are about) has it shown above both sides. Converging gives present/absent/result to a worker that
has one converge(present) and an `out` dict.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STATES = ("present", "absent")


class Converging:
    """A worker whose two states are one converge(present) and whose result is its `out` dict (changed included)."""

    def result(self):
        return dict(self.out)

    def present(self):
        self.converge(True)

    def absent(self):
        self.converge(False)


def diff_text(lines):
    """The lines of one side of a diff as Ansible shows text: sorted, unique, each ending with a newline."""
    return "".join(sorted(set(line + "\n" for line in lines)))


def run(module, worker):
    """Run the worker for the module's state and exit with its result (and its diff under --diff)."""
    state = module.params.get("state") or "present"
    if state not in STATES:
        module.fail_json(msg="Unknown state %s: one of %s." % (state, ", ".join(STATES)))
    getattr(worker, state)()
    result = worker.result()
    if module._diff:
        result["diff"] = dict((side, diff_text(worker.diff[side]) if isinstance(worker.diff[side], (list, tuple))
                               else worker.diff[side]) for side in ("before", "after"))
        header = getattr(worker, "diff_header", None)
        if header:
            result["diff"].update(before_header=header, after_header=header)
    module.exit_json(**result)
