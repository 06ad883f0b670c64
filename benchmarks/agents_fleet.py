#!/usr/bin/env python
"""Benchmark: the agents playbook on N local hosts against Ansible's floor of one module call per host.

Each host is an inventory alias with ``ansible_connection: local`` and its own datadog.yaml,
a copy of the Agent's shipped configuration template (extensions/molecule/resources/datadog_yaml/
example_full.yaml). In one run, on the same machine, with the same forks, each round runs:

  floor            ansible.builtin.stat on each host's datadog.yaml (one trivial module call per host)
  first run        the agents playbook on fresh copies of the template (-e agents_check_intake=false)
  rerun            the same, nothing left to change (must report changed=0)
  rerun + check    the rerun with the playbook's default intake check (a second module call per host)

Rounds interleave the kinds, so that a machine shared with other work slows them alike; each
kind is reported by its fastest and its median wall time over the rounds, and by the CPU time
(user + system) of the ansible-playbook process tree, which load on the machine barely moves.

No Agent runs here: the version read finds no Agent, the restart rule finds no Agent process,
so no restart is due and the figures are those of the edit and the decision; a real first run
adds the restarts (agents_batch_size at a time).

    python benchmarks/agents_fleet.py [--hosts 50 200] [--rounds 3] [--forks 10] [--json PATH]
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".cache" / "collections"
TEMPLATE = ROOT / "extensions" / "molecule" / "resources" / "datadog_yaml" / "example_full.yaml"
FLOOR = ROOT / "benchmarks" / "playbooks" / "agents_floor.yml"
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def make_fleet(directory, count):
    """N host folders, each with a fresh copy of the template, and their inventory."""
    shutil.rmtree(directory, ignore_errors=True)
    lines = ["datadog_agents:", "  vars:", "    ansible_connection: local",
             "    ansible_python_interpreter: %s" % sys.executable,
             "    agent_restart: false  # no Agent is installed here", "  hosts:"]
    for index in range(count):
        name = "agent-%04d" % index
        (directory / name).mkdir(parents=True)
        shutil.copyfile(TEMPLATE, directory / name / "datadog.yaml")
        lines += ["    %s:" % name, "      agent_config_path: %s" % (directory / name / "datadog.yaml"),
                  "      agent_intake_state_path: %s" % (directory / name / "intake-addresses.json")]
    inventory = directory / "inventory.yml"
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def run(inventory, playbook, forks, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS=str(forks),
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    process = subprocess.run(["ansible-playbook", "-i", str(inventory), playbook] + list(extra),
                             capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    recaps = [RECAP.match(line) for line in process.stdout.splitlines()]
    recaps = [m for m in recaps if m and m.group(1) != "localhost"]
    if process.returncode != 0 or any(int(m.group(5)) or int(m.group(4)) for m in recaps):
        raise SystemExit("%s failed:\n%s\n%s" % (playbook, process.stdout[-4000:], process.stderr[-3000:]))
    return {"wall": round(wall, 2), "cpu": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "hosts": len(recaps), "changed": sum(int(m.group(3)) for m in recaps)}


def reset(inventory):
    for config in inventory.parent.glob("agent-*/datadog.yaml"):
        shutil.copyfile(TEMPLATE, config)


def bench(count, forks, rounds, workdir):
    inventory = make_fleet(workdir / ("fleet-%d" % count), count)
    agents = "datadog_privatelink.aws.agents"
    kinds = {"floor": [], "first run": [], "rerun": [], "rerun + intake check": []}
    for _ in range(rounds):
        kinds["floor"].append(run(inventory, str(FLOOR), forks))
        reset(inventory)
        kinds["first run"].append(run(inventory, agents, forks, "-e", "agents_check_intake=false"))
        kinds["rerun"].append(run(inventory, agents, forks, "-e", "agents_check_intake=false"))
        # DNS here gives no private answer: the check reports and does not fail the run.
        kinds["rerun + intake check"].append(run(inventory, agents, forks, "-e", "agents_require_private_path=false"))
    summary = {}
    for kind, runs in kinds.items():
        summary[kind] = {"wall_min": min(r["wall"] for r in runs),
                         "wall_median": round(statistics.median(r["wall"] for r in runs), 2),
                         "cpu_min": min(r["cpu"] for r in runs),
                         "changed": max(r["changed"] for r in runs), "runs": runs}
    floor = summary["floor"]
    for numbers in summary.values():
        numbers["x_floor_wall_min"] = round(numbers["wall_min"] / floor["wall_min"], 2)
        numbers["x_floor_wall_median"] = round(numbers["wall_median"] / floor["wall_median"], 2)
        numbers["x_floor_cpu"] = round(numbers["cpu_min"] / floor["cpu_min"], 2)
    return {"hosts": count, "forks": forks, "rounds": rounds, "kinds": summary}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[50])
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=str(ROOT / ".cache" / "bench" / "agents_fleet"))
    parser.add_argument("--json", default=str(ROOT / ".cache" / "bench" / "agents_fleet.json"))
    args = parser.parse_args()
    reports = [bench(count, args.forks, args.rounds, Path(args.workdir)) for count in args.hosts]
    print("%6s %-22s %9s %9s %8s %9s %9s %8s %8s" % ("hosts", "run", "wall min", "x floor", "wall med", "x floor",
                                                     "CPU s", "x floor", "changed"))
    for report in reports:
        for name, n in report["kinds"].items():
            print("%6d %-22s %9.2f %9.2f %8.2f %9.2f %9.2f %8.2f %8d" % (
                report["hosts"], name, n["wall_min"], n["x_floor_wall_min"], n["wall_median"], n["x_floor_wall_median"],
                n["cpu_min"], n["x_floor_cpu"], n["changed"]))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(reports, indent=2))
    print("JSON: %s" % args.json)


if __name__ == "__main__":
    main()
