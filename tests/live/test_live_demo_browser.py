"""The live demo page in a real browser: the plot moves, and follows the refresh rate.

pytest-django's live_server speaks WSGI only, so this page is served by uvicorn.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, VENDOR_UPLOT
from tests.live.conftest import in_own_thread
from tests.live.servers import server_env, uvicorn_servers

FASTEST, SLOW = "0", "5"  # slider positions: 50 ms and 2 s


@pytest.fixture
def demo_server(server_database):
    if not VENDOR_UPLOT.exists():
        pytest.fail("uPlot is not in the static files: run `make static` (npm ci) first.")
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is needed for the browser tests (make browser installs it).")
    with uvicorn_servers(env=server_env(DATABASE_URL=server_database)) as (url,):
        yield url


def in_browser(url: str, scenario) -> None:
    """Run a scenario against /live/ in a Chromium of its own (in its own thread: the
    browser tests' Playwright may be running in this one)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=url)
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/live/")
        try:
            scenario(page)
        finally:
            browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"


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


def test_the_live_demo_plot_moves_and_follows_the_refresh_rate(demo_server):
    in_own_thread(in_browser, demo_server, plot_moves_and_follows_the_refresh_rate)


def plot_moves_and_follows_the_refresh_rate(page: Page) -> None:
    page.wait_for_function("Number(document.querySelector('[data-live-plot]').dataset.messages || 0) >= 2")
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
