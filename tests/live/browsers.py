"""A Chromium of a test's own, for pages that need a real (ASGI) server."""

from __future__ import annotations

import shutil

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, is_csp_violation


def in_browser(url: str, scenario, *, path: str = "/live/") -> None:
    """Run a scenario on a page in a Chromium of its own (call it in a thread of its
    own: the browser tests' Playwright may be running in this one)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=url)
        page.set_default_timeout(5000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if is_csp_violation(message) else None)
        page.goto(path)
        try:
            scenario(page)
        finally:
            browser.close()
        assert errors == [], f"JavaScript errors on the page: {errors}"
