"""Browser tests: Python playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from conftest import PASSWORD

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is needed for the browser tests (make browser installs it).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, timezone_id="Europe/Paris")
    context.set_default_timeout(5000)
    yield context
    context.close()


def is_csp_violation(message) -> bool:
    return message.type == "error" and "Content Security Policy" in message.text


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Whatever the Content-Security-Policy refused (an inline style or script) would not work.
    page.on("console", lambda message: errors.append(message.text) if is_csp_violation(message) else None)
    yield page
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def signed_in_page(page: Page, user) -> Page:
    log_in(page, username="alice")
    return page


@pytest.fixture
def uplot_installed() -> None:
    if not VENDOR_UPLOT.exists():
        pytest.fail("uPlot is not in the static files: run `make static` (npm ci) first.")


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
