"""What every docs generator shares: the catalog, loaded from its file, and the command-line tail: write its files, print them, or say which are stale.

    python docs/generate_<name>.py            write the files that differ
    python docs/generate_<name>.py --check    exit 1 naming the files that are not current (tests, CI)
    python docs/generate_<name>.py --stdout   print them
"""

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_catalog():
    """The collection's catalog module, loaded from its file (the collection need not be installed)."""
    path = os.path.join(ROOT, "plugins", "module_utils", "catalog.py")
    spec = importlib.util.spec_from_file_location("datadog_privatelink_catalog", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_or_check(files, script, argv=None):
    """files: {path: text}; script: the generator's file name, for the message. Returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if "--stdout" in argv:
        for text in files.values():
            sys.stdout.write(text)
        return 0
    check = "--check" in argv
    stale = []
    for path, text in files.items():
        current = None
        if os.path.exists(path):
            with open(path) as handle:
                current = handle.read()
        if current == text:
            continue
        stale.append(os.path.relpath(path, ROOT))
        if not check:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write(text)
    if check and stale:
        print("not current (run python docs/%s): %s" % (script, ", ".join(stale)), file=sys.stderr)
        return 1
    return 0
