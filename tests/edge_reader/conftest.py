"""A stand-in telemetry server run as a real process that tests stop and start again
(tests/support/edge_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

# TOKEN is only re-exported, for tests on other branches that still import it from here.
from tests.support.edge_server import TOKEN, ServerProcess  # noqa: F401


@pytest.fixture
def telemetry_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def flaky_telemetry_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Answers 503 to every 5th request and loses the answer to every 4th stored batch."""
    server = ServerProcess(tmp_path, fail_every=5, lose_answer_every=4)
    server.start()
    yield server
    server.kill()
