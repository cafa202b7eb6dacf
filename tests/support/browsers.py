"""Chromium through Python playwright: its launch options, page helpers for the browser
tests (log in, screenshots at phone and desktop width), and a Chromium of a test's own
for pages that need a real (ASGI) server."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from django.conf import settings

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Page, sync_playwright

from tests.support.users import PASSWORD

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VENDOR_UPLOT = Path(settings.BASE_DIR) / "dashboard" / "static" / "vendor" / "uplot" / "uPlot.iife.min.js"


def wait_for_open_requests(live_server, timeout: float = 5.0) -> None:
    """Let the live server finish the requests a closed page left running.

    Under SQLite the live server's threads share the test's in-memory connection: a
    request still running when the test ends (a card refresh fired just before the page
    closed) keeps a statement open, and the flush between tests then fails with
    "database table is locked"."""
    threads = getattr(live_server.thread.httpd, "_threads", None) or []
    deadline = time.monotonic() + timeout
    for thread in list(threads):
        thread.join(max(0.0, deadline - time.monotonic()))


def log_in(page: Page, *, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    login = page.get_by_role("region", name="Log in")
    login.get_by_label("Username").fill(username)
    login.get_by_label("Password").fill(password)
    login.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def check_both_widths(page: Page, name: str) -> None:
    """Screenshot the page at phone and desktop width; at phone width nothing may
    scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, viewport in (("375", PHONE), ("1440", DESKTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(300)  # let the layout and any plot resize settle
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        if viewport is PHONE:
            assert sideways_overflow(page) <= 0, f"{name} scrolls sideways at 375 px"
            assert small_controls(page) == [], f"{name} has controls too small to touch at 375 px"


def small_controls(page: Page) -> list[str]:
    """Visible buttons, fields and button-like links less than 44 px high."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                "button, .button, input:not([type=radio]):not([type=hidden]), select, textarea, .site-nav a")]
            .filter((element) => element.checkVisibility() && element.getBoundingClientRect().height < 44)
            .map((element) => element.outerHTML.slice(0, 80))"""
    )


def is_csp_violation(message) -> bool:
    """A console message saying the Content-Security-Policy refused something."""
    return message.type == "error" and "Content Security Policy" in message.text


def in_browser(url: str, scenario, *, path: str = "/live/") -> None:
    """Run a scenario on a page in a Chromium of its own (call it in a thread of its
    own: the browser tests' Playwright may be running in this one)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=url)
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # Whatever the Content-Security-Policy refused (an inline style or script) would not work.
        page.on("console", lambda message: errors.append(message.text) if is_csp_violation(message) else None)
        page.goto(path)
        try:
            scenario(page)
        finally:
            browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"
