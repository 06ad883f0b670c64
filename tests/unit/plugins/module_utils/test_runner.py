"""_runner: state dispatch, one diff style, exit with the worker's result."""

import pytest

from ansible_collections.datadog_privatelink.aws.plugins.module_utils import _runner


class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, state=None, diff=False):
        self.params = {"state": state} if state else {}
        self._diff = diff
        self.exited = None

    def exit_json(self, **result):
        self.exited = result
        raise Exited()

    def fail_json(self, **result):
        raise AssertionError(result)


class Worker:
    def __init__(self):
        self.called = []
        self.diff = {"before": [], "after": []}

    def present(self):
        self.called.append("present")
        self.diff["before"] += ["route b", "route a", "route a"]
        self.diff["after"] += ["route c", "route a"]

    def absent(self):
        self.called.append("absent")

    def result(self):
        return {"changed": bool(self.called), "done": list(self.called)}


@pytest.mark.parametrize("state, called", [(None, ["present"]), ("present", ["present"]), ("absent", ["absent"])])
def test_run_calls_the_worker_of_the_state_and_exits_with_its_result(state, called):
    module, worker = FakeModule(state), Worker()
    with pytest.raises(Exited):
        _runner.run(module, worker)
    assert worker.called == called and module.exited == {"changed": True, "done": called}  # no diff unless asked


def test_diff_is_each_side_sorted_unique_one_line_each():
    module = FakeModule("present", diff=True)
    with pytest.raises(Exited):
        _runner.run(module, Worker())
    assert module.exited["diff"] == {"before": "route a\nroute b\n", "after": "route a\nroute c\n"}
    assert _runner.diff_text([]) == ""


def test_a_structured_diff_is_shown_as_it_is():
    module, worker = FakeModule("present", diff=True), Worker()
    worker.diff = {"before": {"api": None}, "after": {"api": {"state": "available"}}}
    worker.present = lambda: None
    with pytest.raises(Exited):
        _runner.run(module, worker)
    assert module.exited["diff"] == {"before": {"api": None}, "after": {"api": {"state": "available"}}}


def test_a_diff_header_names_both_sides_and_only_under_diff():
    module, worker = FakeModule("present", diff=True), Worker()
    worker.diff_header = "egress rules of sg-1 owned by me"
    with pytest.raises(Exited):
        _runner.run(module, worker)
    assert module.exited["diff"] == {"before_header": "egress rules of sg-1 owned by me", "after_header": "egress rules of sg-1 owned by me",
                                     "before": "route a\nroute b\n", "after": "route a\nroute c\n"}
    module, worker = FakeModule("present"), Worker()
    worker.diff_header = "egress rules of sg-1 owned by me"
    with pytest.raises(Exited):
        _runner.run(module, worker)
    assert "diff" not in module.exited


def test_a_converging_worker_is_one_converge_per_state_and_its_out_dict():
    from ansible_collections.datadog_privatelink.aws.plugins.module_utils._runner import Converging

    class Worker(Converging):
        def __init__(self):
            self.out = {"changed": False, "seen": []}

        def converge(self, present):
            self.out["seen"].append(present)

    worker = Worker()
    worker.present()
    worker.absent()
    result = worker.result()
    assert result == {"changed": False, "seen": [True, False]}
    result["changed"] = True
    assert worker.out["changed"] is False  # a copy: the caller's edits do not reach the worker
