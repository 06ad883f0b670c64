"""Make ``ansible_collections.datadog_privatelink.aws`` importable for pytest.

`./dev setup` links the checkout into .cache/collections; a checkout that already sits
at .../ansible_collections/datadog_privatelink/aws/ (as ansible-test wants) needs nothing.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for candidate in (os.path.dirname(os.path.dirname(os.path.dirname(ROOT))), os.path.join(ROOT, ".cache", "collections")):
    if os.path.isdir(os.path.join(candidate, "ansible_collections", "datadog_privatelink", "aws")):
        if candidate not in sys.path:
            sys.path.insert(0, candidate)
        break
