"""Make this checkout importable as ansible_collections.datadog_privatelink.aws for pytest."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / ".cache" / "collections"


def _install_collection_finder():
    link = COLLECTIONS / "ansible_collections" / "datadog_privatelink" / "aws"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT)
    # This checkout first, then the paths already given: the declared-dependencies stage puts amazon.aws there.
    given = [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]
    paths = [str(COLLECTIONS)] + [path for path in given if path != str(COLLECTIONS)]
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(paths)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the sandbox package
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=paths)._install()


_install_collection_finder()
