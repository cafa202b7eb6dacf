"""The live demo page in a real browser: the plot moves, and follows the refresh rate.

pytest-django's live_server speaks WSGI only, so this page is served by uvicorn.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.support.browsers import in_browser
from tests.support.live import in_own_thread

# in_browser starts a Chromium of the test's own (uvicorn_server_url marks it `processes`).
pytestmark = pytest.mark.browser

FASTEST, SLOW = "0", "5"  # slider positions: 50 ms and 2 s


def plot_state(page: Page) -> dict:
    return page.eval_on_selector(
        "[data-live-plot]",
        "area => ({messages: Number(area.dataset.messages || 0), points: Number(area.dataset.points || 0),"
        " lastX: Number(area.dataset.lastX || 0)})",
    )


def messages_within(page: Page, milliseconds: int) -> int:
    before = plot_state(page)["messages"]
    page.wait_for_timeout(milliseconds)
    return plot_state(page)["messages"] - before


def test_the_live_demo_plot_moves_and_follows_the_refresh_rate(uvicorn_server_url):
    in_own_thread(in_browser, uvicorn_server_url, plot_moves_and_follows_the_refresh_rate)


def plot_moves_and_follows_the_refresh_rate(page: Page) -> None:
    # Not wait_for_function: its polling evaluates a string, which the page's
    # Content-Security-Policy refuses (no 'unsafe-eval').
    for _ in range(150):
        if plot_state(page)["messages"] >= 2:
            break
        page.wait_for_timeout(100)
    assert plot_state(page)["messages"] >= 2
    assert page.get_by_role("status").filter(has_text="Live").count() == 1
    first = plot_state(page)
    assert first["points"] > 100  # the backlog: the plot is full from the start

    page.locator("[data-rate]").fill(FASTEST)
    assert page.locator("[data-rate-label]").text_content() == "every 50 ms"
    page.wait_for_timeout(200)  # let the new rate take hold
    fast = messages_within(page, 1000)
    moved = plot_state(page)
    assert moved["lastX"] > first["lastX"]
    # The page keeps the last 30 s at 20 points a second: a bounded buffer.
    assert moved["points"] <= 30 * 20 + 5

    page.locator("[data-rate]").fill(SLOW)
    assert page.locator("[data-rate-label]").text_content() == "every 2 s"
    page.wait_for_timeout(200)
    slow = messages_within(page, 1000)
    assert fast >= 8, f"{fast} updates in a second at 50 ms"
    assert slow <= 1, f"{slow} updates in a second at 2 s"
