"""Browser tests: Python playwright driving Debian's Chromium against the live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

# Importing tests.support.browsers also lets the tests' ORM calls run beside
# Playwright's event loop (it sets DJANGO_ALLOW_ASYNC_UNSAFE). check_both_widths is
# only re-exported, for tests on other branches that still import it from here.
from tests.support.browsers import (  # noqa: F401
    CHROMIUM_ARGS,
    DESKTOP,
    VENDOR_UPLOT,
    check_both_widths,
    is_csp_violation,
    log_in,
    wait_for_open_requests,
)


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
    wait_for_open_requests(live_server)


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
