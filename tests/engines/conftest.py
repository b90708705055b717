from __future__ import annotations

from collections.abc import Iterator

import pytest
from standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A scripted HTTP service on 127.0.0.1; see standin.py."""
    with StandIn() as server:
        yield server
