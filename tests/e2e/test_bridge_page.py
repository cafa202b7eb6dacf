"""An owner connects their Home Assistant broker from the dashboard."""

from playwright.sync_api import Page, expect

from protocols.bridge import services
from protocols.models import BridgeBroker
from tests.e2e.conftest import check_both_widths


def test_an_owner_adds_and_removes_a_broker(signed_in_page: Page, user, settings):
    settings.BRIDGE_ALLOWED_NETWORKS = ["192.168.0.0/16"]
    page = signed_in_page
    page.get_by_role("link", name="Home Assistant").first.click()
    expect(page.get_by_role("heading", name="Home Assistant bridge")).to_be_visible()
    expect(page.get_by_text("No broker yet.")).to_be_visible()

    page.get_by_label("Host").fill("127.0.0.1")
    page.get_by_role("button", name="Add broker").click()
    expect(page.locator("#id_host-errors")).to_contain_text("not a public address")

    page.get_by_label("Name", exact=True).fill("Home Assistant")
    page.get_by_label("Host").fill("192.168.1.10")
    page.get_by_label("Port").fill("8883")
    page.get_by_label("TLS").select_option(label="On (MQTT over TLS)")
    page.get_by_label("Username").fill("homeassistant")
    page.get_by_label("Password").fill("broker-secret")
    check_both_widths(page, "bridges-new")
    page.get_by_role("button", name="Add broker").click()

    broker_card = page.get_by_role("article", name="Home Assistant")
    expect(broker_card).to_contain_text("192.168.1.10:8883")
    expect(broker_card).to_contain_text("TLS")
    expect(broker_card.locator("[data-broker-status]")).to_have_text("Waiting for the bridge to connect")
    assert "broker-secret" not in page.content()
    broker = BridgeBroker.objects.get(owner=user)
    assert (broker.port, broker.tls, broker.username) == (8883, True, "homeassistant")
    assert services.broker_password(broker=broker) == "broker-secret"
    check_both_widths(page, "bridges")

    broker_card.get_by_role("button", name="Remove Home Assistant").click()
    expect(page.get_by_text("No broker yet.")).to_be_visible()
    assert not BridgeBroker.objects.exists()
