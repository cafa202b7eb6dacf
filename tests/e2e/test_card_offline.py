"""A device whose "no data" alert fires is offline on its card: a dot and the word."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard_scene import dashboard_scene


@pytest.fixture
def scene(user):
    return dashboard_scene(user)


def test_a_silenced_device_shows_offline_and_a_late_one_only_stale(signed_in_page: Page, scene):
    page = signed_in_page
    page.reload()
    quiet = page.locator(f'.device-card[data-device-id="{scene.quiet.pk}"]')
    expect(quiet.locator("[data-status]")).to_have_text("Offline")
    expect(quiet.locator(".status-offline .status-dot")).to_be_visible()
    gauge = page.locator(f'.device-card[data-device-id="{scene.gauge.pk}"]')
    expect(gauge.locator("[data-status]")).to_have_text("Online")


def test_offline_holds_when_the_cards_refresh(signed_in_page: Page, scene):
    page = signed_in_page
    page.clock.install()
    page.reload()
    page.clock.fast_forward(16_000)
    page.wait_for_load_state("networkidle")
    quiet = page.locator(f'.device-card[data-device-id="{scene.quiet.pk}"]')
    expect(quiet.locator("[data-status]")).to_have_text("Offline")


def test_each_card_opens_its_alert_rules(signed_in_page: Page, scene):
    page = signed_in_page
    page.reload()
    card = page.locator(f'.device-card[data-device-id="{scene.quiet.pk}"]')
    card.get_by_role("link", name="Alerts", exact=True).click()
    expect(page.get_by_role("heading", name="Alert rules · Cellar pump")).to_be_visible()
