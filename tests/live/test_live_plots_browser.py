"""A device's plot page takes in readings pushed over /ws/live/ without reloading."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browsers import in_browser, log_in
from tests.support.live import in_own_thread
from tests.support.users import PASSWORD

# in_browser starts a Chromium of the test's own (uvicorn_server_url marks it `processes`).
pytestmark = pytest.mark.browser


def account_with_a_device(base_url: str) -> tuple[str, int, str]:
    """(username, device id, device token) of a new account with one device."""
    username = f"plotter{uuid.uuid4().hex[:8]}"
    registered = httpx.post(f"{base_url}/api/auth/register/", json={"username": username, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    access = registered.json()["tokens"]["access"]
    created = httpx.post(
        f"{base_url}/api/devices/",
        json={"name": "Boiler", "type": "generic"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert created.status_code == 201, created.text
    return username, created.json()["id"], created.json()["token"]


def post_reading(base_url: str, device_token: str, *, ago: timedelta, value: float) -> None:
    ts = (datetime.now(UTC) - ago).isoformat()
    posted = httpx.post(
        f"{base_url}/api/telemetry/",
        json={"ts": ts, "values": {"pressure": value}},
        headers={"Authorization": f"Device {device_token}"},
    )
    assert posted.status_code == 201, posted.text


def test_the_plot_of_the_last_hour_takes_in_live_readings(uvicorn_server_url):
    base_url = uvicorn_server_url
    username, device_id, device_token = account_with_a_device(base_url)
    post_reading(base_url, device_token, ago=timedelta(minutes=5), value=1)

    def scenario(page: Page) -> None:
        log_in(page, username=username)
        page.goto(f"/devices/{device_id}/plots/")
        card = page.locator(".plot-card")
        # Not wait_for_function: its polling evaluates a string, which the page's
        # Content-Security-Policy refuses (no 'unsafe-eval').
        expect(card).to_have_attribute("data-points", "1")
        # The page's socket may still be subscribing: post until a reading shows up,
        # well before the page's own 10 s reload would bring it.
        for second in range(10):
            post_reading(base_url, device_token, ago=timedelta(0), value=2 + second)
            page.wait_for_timeout(300)
            if int(card.get_attribute("data-points")) > 1:
                break
        assert int(card.get_attribute("data-points")) > 1

    in_own_thread(in_browser, base_url, scenario, path="/login/")
