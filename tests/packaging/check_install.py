#!/usr/bin/env python
"""Fail unless the installed collection holds, and ansible-doc reads, every plugin the source has.

    python tests/packaging/check_install.py SOURCE_ROOT INSTALLED_COLLECTION_DIR

ansible-doc exits 0 for a plugin it cannot find or parse (it prints an error on stderr), so
this reads its JSON and stderr. ANSIBLE_COLLECTIONS_PATH must point at the installed tree
(plus its dependencies); playbooks are syntax-checked through their FQCN.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

FQCN = "datadog_privatelink.aws"


def source_plugins(root):
    """{type: [names]} as the source tree defines them."""
    plugins = {
        "module": sorted(p.stem for p in (root / "plugins/modules").glob("*.py") if p.stem != "__init__"),
        "lookup": sorted(p.stem for p in (root / "plugins/lookup").glob("*.py") if p.stem != "__init__"),
        "filter": [],
        "role": sorted(p.name for p in (root / "roles").iterdir() if (p / "meta/argument_specs.yml").exists()),
        "playbook": sorted(p.stem for p in (root / "playbooks").glob("*.yml")),
    }
    # Filter names are the keys of FilterModule.filters() in each file.
    for path in (root / "plugins/filter").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "filters":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict):
                        plugins["filter"] += [k.value for k in ret.value.keys]
    plugins["filter"].sort()
    return plugins


def ansible_doc(kind, names):
    proc = subprocess.run(["ansible-doc", "--json", "-t", kind] + ["%s.%s" % (FQCN, n) for n in names],
                          capture_output=True, text=True, check=False)
    problems = [line for line in proc.stderr.splitlines() if re.search(r"\[(ERROR|WARNING)\]|ERROR!", line)]
    try:
        data = json.loads(proc.stdout or "{}")
    except ValueError:
        data = {}
        problems.append("ansible-doc printed no JSON (exit %d)" % proc.returncode)
    if proc.returncode:
        problems.append("ansible-doc exited %d" % proc.returncode)
    return data, problems


def check(root, installed):
    errors = []
    want = source_plugins(root)
    for kind in ("module", "lookup", "filter", "role"):
        names = want[kind]
        if not names:
            errors.append("the source has no %s: the check itself is broken" % kind)
            continue
        data, problems = ansible_doc(kind, names)
        errors += ["ansible-doc -t %s: %s" % (kind, p) for p in problems]
        for name in names:
            entry = data.get("%s.%s" % (FQCN, name))
            if kind == "role":
                ok = bool(entry and entry.get("entry_points", {}).get("main", {}).get("short_description"))
            else:
                doc = (entry or {}).get("doc") or {}
                ok = bool(doc.get("short_description")) and doc.get("module" if kind == "module" else "name") == name
                ok = ok and bool((entry or {}).get("return"))  # RETURN documented too
            if not ok:
                errors.append("%s %s.%s: missing from the installed collection or undocumented" % (kind, FQCN, name))
    for name in want["playbook"]:
        path = installed / "playbooks" / (name + ".yml")
        if not path.is_file():
            errors.append("playbook %s.%s: not in the installed collection" % (FQCN, name))
            continue
        proc = subprocess.run(["ansible-playbook", "--syntax-check", "%s.%s" % (FQCN, name)],
                              capture_output=True, text=True, check=False)
        if proc.returncode:
            errors.append("playbook %s.%s: syntax check failed:\n%s" % (FQCN, name, proc.stderr.strip()))
    # Links in the shipped Markdown must point at files the tarball ships.
    for doc in [installed / "README.md"] + sorted(installed.glob("roles/*/README.md")) + sorted(installed.glob("docs/*.md")):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if re.match(r"^[a-z]+:", target):
                continue
            if not (doc.parent / target).exists():
                errors.append("%s links to %s, which the tarball does not ship" % (doc.relative_to(installed), target))
    counts = ", ".join("%d %ss" % (len(v), k) for k, v in want.items())
    return errors, counts


def main():
    root, installed = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    errors, counts = check(root, installed)
    if errors:
        print("The installed collection is not what the source holds:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    print("installed collection complete: ansible-doc reads %s; playbooks pass --syntax-check; README links resolve" % counts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
