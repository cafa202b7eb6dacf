"""Live push tests: WebSocket clients against the real ASGI application (helpers in
tests/support/live.py), and uvicorn processes serving it (tests/support/live_servers.py)."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client

# Re-exported for tests on other branches that still import them from here.
from tests.support.live import (  # noqa: F401
    ORIGIN,
    RECEIVE_TIMEOUT,
    access_token_for,
    close_code,
    connected,
    in_own_loop,
    in_own_thread,
    readings_at,
    store_readings,
    store_readings_async,
    subscribe,
)


@pytest.fixture
def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture(scope="session")
def server_database(tmp_path_factory) -> str:
    """A migrated file SQLite database that server processes share."""
    from tests.support.live_servers import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('live-servers') / 'db.sqlite3'}"
    migrate(database_url=url)
    return url


@pytest.fixture
def uvicorn_server_url(server_database):
    """A uvicorn process serving the app (in-memory channel layer) for the browser tests."""
    from tests.support.live_servers import BASE_DIR, server_env, uvicorn_servers

    if not (BASE_DIR / "dashboard" / "static" / "vendor" / "uplot" / "uPlot.iife.min.js").exists():
        pytest.fail("uPlot is not in the static files: run `make static` (npm ci) first.")
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the browser tests (make browser installs it).")
    with uvicorn_servers(env=server_env(DATABASE_URL=server_database)) as (url,):
        yield url
