"""How pages take alert messages, with the browser's WebSocket replaced by a stub the
test drives: a dropped connection catches up on the count, a "no data" alert turns its
card offline and back, and the alerts page counts each alert once.

The stub runs on the WSGI live server: these are the page scripts' reactions, which
need no real socket (test_alert_badge_live.py proves the real one delivers).
"""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.dashboard_scene import dashboard_scene, send

STUB_SOCKET = """
window.stubSockets = [];
class StubSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = StubSocket.CONNECTING;
    window.stubSockets.push(this);
    setTimeout(() => { this.readyState = StubSocket.OPEN; this.dispatchEvent(new Event("open")); }, 0);
  }
  send() {}
  close(code = 1000) {
    this.readyState = StubSocket.CLOSED;
    this.dispatchEvent(Object.assign(new Event("close"), { code }));
  }
  emit(message) { this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) })); }
}
Object.assign(StubSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
window.WebSocket = StubSocket;
"""


@pytest.fixture
def scene(user):
    return dashboard_scene(user)


@pytest.fixture
def stubbed_page(signed_in_page: Page) -> Page:
    signed_in_page.add_init_script(STUB_SOCKET)
    return signed_in_page


def emit(page: Page, message: dict) -> None:
    page.evaluate("message => window.stubSockets.at(-1).emit(message)", message)


def alert(device, *, state: str, kind: str = "bounds", value=None) -> dict:
    return {
        "type": "alert",
        "id": 1,
        "rule": 1,
        "device": device.pk,
        "device_name": device.name,
        "sensor": "value",
        "kind": kind,
        "state": state,
        "value": value,
        "lower": None,
        "upper": 8,
        "ts": "2026-11-24T16:00:00Z",
    }


def badge_of(page: Page):
    return page.get_by_role("navigation", name="Main").locator("[data-alerts-badge]")


def test_a_dropped_connection_asks_the_count_again(stubbed_page: Page, scene):
    page = stubbed_page
    page.goto("/download/")
    badge = badge_of(page)
    expect(badge).to_have_attribute("data-live", "open")
    expect(badge).to_have_text("1")  # the cellar pump's "no data" alert

    send(scene.gauge, 9.5)  # fires, and the push never reaches the page (a stub socket)
    expect(badge).to_have_text("1")
    page.evaluate("window.stubSockets.at(-1).close(1006)")
    expect(badge).to_have_text("2")  # counted again once connected again
    expect(badge).to_have_attribute("data-live", "open")
    assert page.evaluate("window.stubSockets.length") == 2


def test_a_no_data_alert_turns_its_card_offline_and_back(stubbed_page: Page, scene):
    page = stubbed_page
    page.goto("/")
    badge = badge_of(page)
    expect(badge).to_have_attribute("data-live", "open")
    status = page.locator(f'.device-card[data-device-id="{scene.quiet.pk}"] [data-status]')
    expect(status).to_have_text("Offline")

    emit(page, alert(scene.quiet, state="resolved", kind="silence"))
    expect(status).to_have_text("Stale")  # heard from 20 minutes ago
    expect(badge).to_have_text("1")
    emit(page, alert(scene.quiet, state="firing", kind="silence"))
    expect(status).to_have_text("Offline")
    expect(badge).to_have_text("2")
    expect(page.get_by_role("status").filter(has_text="Cellar pump: no data — alert.")).to_be_visible()


def test_the_alerts_page_counts_each_alert_once_and_says_the_list_is_behind(stubbed_page: Page, scene):
    page = stubbed_page
    page.goto("/alerts/")
    badge = badge_of(page)
    expect(badge).to_have_attribute("data-live", "open")
    emit(page, alert(scene.gauge, state="firing", value=9.5))
    expect(badge).to_have_text("2")
    toasts = page.get_by_role("status").filter(has_text="Boiler pressure: value = 9.5")
    expect(toasts).to_have_count(1)
    expect(toasts).to_contain_text("Reload to see it in the list.")


def test_messages_other_than_alerts_leave_the_badge_alone(stubbed_page: Page, scene):
    page = stubbed_page
    page.goto("/download/")
    badge = badge_of(page)
    expect(badge).to_have_attribute("data-live", "open")
    emit(
        page, {"type": "reading", "device": scene.gauge.pk, "sensor": "value", "ts": "2026-11-24T16:00:00Z", "value": 9}
    )
    page.evaluate("window.stubSockets.at(-1).dispatchEvent(new MessageEvent('message', {data: 'not json'}))")
    emit(
        page,
        {
            "type": "alert",
            "state": "resolved",
            "kind": "bounds",
            "device": scene.gauge.pk,
            "device_name": "Boiler pressure",
            "sensor": "value",
            "value": 5,
        },
    )
    expect(page.get_by_role("status").filter(has_text="resolved")).to_have_count(1)
    expect(badge).to_have_text("1")
