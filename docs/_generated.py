"""The command-line tail every docs generator shares: write its files, print them, or say which are stale.

    python docs/generate_<name>.py            write the files that differ
    python docs/generate_<name>.py --check    exit 1 naming the files that are not current (tests, CI)
    python docs/generate_<name>.py --stdout   print them
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
