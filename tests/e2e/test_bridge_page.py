"""An owner connects their Home Assistant broker from the dashboard."""

import pytest
from playwright.sync_api import Page, expect

from protocols.bridge import services
from protocols.models import BridgeBroker
from tests.support.browsers import check_both_widths


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


@pytest.mark.processes
@pytest.mark.mqtt
def test_a_connected_broker_shows_its_state_and_discovered_devices(signed_in_page: Page, user, settings, tmp_path):
    from ha_mqtt_discoverable import DeviceInfo, Settings
    from ha_mqtt_discoverable.sensors import Sensor, SensorInfo

    from tests.support.ha_bridge import PASSWORD, USERNAME, BridgeThread, PasswordBroker
    from tests.support.mqtt import wait_until

    settings.BRIDGE_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    ha_broker = PasswordBroker(tmp_path / "ha-broker")
    page = signed_in_page
    page.goto("/bridges/")
    page.get_by_label("Name", exact=True).fill("Home")
    page.get_by_label("Host").fill(ha_broker.host)
    page.get_by_label("Port").fill(str(ha_broker.port))
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Add broker").click()
    expect(page.get_by_role("article", name="Home")).to_be_visible()

    running = BridgeThread()
    sensor = None
    try:
        broker_id = BridgeBroker.objects.get(owner=user).pk
        wait_until(lambda: running.bridge.statuses.get(broker_id) == "connected", what="the bridge to connect")
        mqtt_settings = Settings.MQTT(host=ha_broker.host, port=ha_broker.port, username=USERNAME, password=PASSWORD)
        info = SensorInfo(
            name="Temperature",
            unique_id="shed-temperature",
            unit_of_measurement="°C",
            device=DeviceInfo(name="Shed", identifiers="shed-1"),
        )
        sensor = Sensor(Settings(mqtt=mqtt_settings, entity=info))
        sensor.write_config()
        wait_until(lambda: running.bridge.counts.discovered == 1, what="the discovery")

        page.reload()  # the bridge is idle now: it only reads until the next message
        card = page.get_by_role("article", name="Home")
        expect(card.locator("[data-broker-status]")).to_contain_text("Connected")
        expect(card).to_contain_text("Discovered: Shed")
    finally:
        running.stop()
        if sensor is not None:
            sensor.mqtt_client.disconnect()
            sensor.mqtt_client.loop_stop()
        ha_broker.stop()

    page.reload()
    expect(page.get_by_role("article", name="Home").locator("[data-broker-status]")).to_contain_text(
        "The bridge stopped"
    )
    page.get_by_role("link", name="Dashboard").first.click()
    expect(page.locator(".device-card").filter(has_text="Shed")).to_be_visible()
