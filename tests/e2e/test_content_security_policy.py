"""Every page is served with a Content-Security-Policy of `default-src 'self'`, and still
works under it: Chromium reports no refused script, style or image on any of them
(the `page` fixture fails a test on any such report)."""

import pytest
from playwright.sync_api import Page, expect

from tests.support.browsers import is_csp_violation

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/devices/new/",
    "/download/",
    "/alerts/",
    "/live/",
]


def test_every_page_has_the_policy_and_nothing_on_it_is_refused(signed_in_page: Page, device, uplot_installed):
    page = signed_in_page
    for path in [
        *PAGES,
        f"/devices/{device.pk}/plots/",
        f"/devices/{device.pk}/alerts/",
        f"/devices/{device.pk}/connect/",
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'"), path
        page.wait_for_load_state("networkidle")


def test_the_log_in_page_works_under_the_policy(page: Page, user):
    response = page.goto("/login/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    login = page.get_by_role("region", name="Log in")
    login.get_by_label("Username").fill("alice")
    login.get_by_label("Password").fill("correct-horse-battery")
    login.get_by_role("button", name="Log in").click()
    expect(page).to_have_url("/")


def test_the_alert_badge_is_styled_from_the_stylesheet(signed_in_page: Page):
    badge = signed_in_page.locator("[data-alerts-badge]")
    assert badge.get_attribute("style") is None
    badge.evaluate("element => element.hidden = false")
    assert badge.evaluate("element => getComputedStyle(element).borderRadius") == "999px"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/", "/admin/login/"])
def test_the_api_docs_and_the_admin_work_under_their_policy(context, path):
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if is_csp_violation(message) else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    response = page.goto(path)
    assert response.status == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    if path == "/api/docs/":
        expect(page.get_by_text("iotsite API").first).to_be_visible()
    if path == "/api/redoc/":
        expect(page.get_by_text("iotsite API").first).to_be_visible()
    # Only what Redoc would fetch from elsewhere (web fonts, its logo) is refused: the
    # server's pages load nothing from other sites.
    assert [line for line in refused if "'https://" not in line] == []
