"""The nav's alert badge follows alerts as they happen on every page, not only on
/alerts/: a real alert, raised by a reading, pushed over /ws/live/ to the browser.

pytest-django's live_server speaks WSGI only, so these pages are served by uvicorn
(as the live demo's browser test does): the badge is only as good as the socket it
listens on, and a stubbed socket would not prove the alert reaches it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.live.conftest import server_database, uvicorn_server_url  # noqa: F401 (fixtures)
from tests.support.browsers import in_browser, log_in
from tests.support.live import in_own_thread
from tests.support.users import PASSWORD

# in_browser starts a Chromium of the test's own (uvicorn_server_url marks it `processes`).
pytestmark = pytest.mark.browser


def account_with_a_watched_gauge(base_url: str) -> tuple[str, str]:
    """(username, device token) of a new account whose gauge alerts above 8 bar."""
    username = f"watcher{uuid.uuid4().hex[:8]}"
    registered = httpx.post(f"{base_url}/api/auth/register/", json={"username": username, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['tokens']['access']}"}
    config = {"unit": "bar", "min": 0, "max": 10}
    created = httpx.post(
        f"{base_url}/api/devices/", json={"name": "Boiler", "type": "analog_gauge", "config": config}, headers=headers
    )
    assert created.status_code == 201, created.text
    rule = httpx.post(
        f"{base_url}/api/alert-rules/",
        json={"device": created.json()["id"], "sensor": "value", "upper": 8},
        headers=headers,
    )
    assert rule.status_code == 201, rule.text
    return username, created.json()["token"]


def send(base_url: str, device_token: str, value: float) -> None:
    posted = httpx.post(
        f"{base_url}/api/telemetry/",
        json={"ts": datetime.now(UTC).isoformat(), "values": {"value": value}},
        headers={"Authorization": f"Device {device_token}"},
    )
    assert posted.status_code == 201, posted.text


def test_the_badge_counts_a_new_alert_on_any_page(uvicorn_server_url):  # noqa: F811
    base_url = uvicorn_server_url
    username, device_token = account_with_a_watched_gauge(base_url)

    def scenario(page: Page) -> None:
        log_in(page, username=username)
        page.goto("/download/")
        badge = page.get_by_role("navigation", name="Main").locator("[data-alerts-badge]")
        expect(badge).to_be_hidden()
        expect(badge).to_have_attribute("data-live", "open")

        send(base_url, device_token, 9.5)
        expect(badge).to_have_text("1")
        expect(badge).to_be_visible()
        expect(page.get_by_role("status").filter(has_text="Boiler: value = 9.5 — alert.")).to_be_visible()

        send(base_url, device_token, 5)  # resolved: the firing alert is still unacknowledged
        expect(page.get_by_role("status").filter(has_text="Boiler: value = 5 — resolved.")).to_be_visible()
        expect(badge).to_have_text("1")

        send(base_url, device_token, 9)
        expect(badge).to_have_text("2")

    in_own_thread(in_browser, base_url, scenario, path="/login/")
