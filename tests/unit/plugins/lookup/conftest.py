"""The local HTTPS mirror (127.0.0.1, test CA) for the lookup tests."""

import pytest

from tests.https_mirror import DocumentServer


@pytest.fixture
def server(tmp_path):
    box = DocumentServer(tmp_path)
    yield box
    box.stop()
