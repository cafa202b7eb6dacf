"""The bridge against a real Mosquitto with a password, fed by the real
ha-mqtt-discoverable package and by Zigbee2MQTT's recorded messages."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from ha_mqtt_discoverable import DeviceInfo, Settings
from ha_mqtt_discoverable.sensors import BinarySensor, BinarySensorInfo, Sensor, SensorInfo
from paho.mqtt.enums import CallbackAPIVersion

from devices.models import Device
from protocols.bridge import services
from protocols.models import BridgeBroker
from telemetry.models import Sensor as StoredSensor
from tests.support.ha_bridge import PASSWORD, USERNAME, BridgeThread, PasswordBroker, certificate_authority
from tests.support.mqtt import wait_until
from tests.telemetry.helpers import stored

# Each test starts a Mosquitto of its own.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes, pytest.mark.mqtt]
RECORDED = Path(__file__).parent / "recorded"


@pytest.fixture
def ha_broker(tmp_path):
    if not shutil.which("mosquitto_passwd"):
        pytest.skip("Debian's mosquitto is not installed (make test installs it)")
    broker = PasswordBroker(tmp_path / "ha-broker")
    yield broker
    broker.stop()


@pytest.fixture(autouse=True)
def loopback_opened(settings):
    # The test brokers listen on 127.0.0.1, which the bridge refuses unless opened.
    settings.BRIDGE_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def bridge_broker(user, ha_broker):
    return services.broker_create(
        owner=user,
        name="Home Assistant",
        host=ha_broker.host,
        port=ha_broker.port,
        username=USERNAME,
        password=PASSWORD,
    )


@pytest.fixture
def bridge_thread():
    threads = []

    def start() -> BridgeThread:
        thread = BridgeThread()
        threads.append(thread)
        return thread

    yield start
    for thread in threads:
        thread.stop()


def ha_settings(ha_broker, entity):
    mqtt_settings = Settings.MQTT(host=ha_broker.host, port=ha_broker.port, username=USERNAME, password=PASSWORD)
    return Settings(mqtt=mqtt_settings, entity=entity)


def test_ha_mqtt_discoverable_entities_become_a_device_with_readings(ha_broker, bridge_broker, bridge_thread, user):
    running = bridge_thread()
    bridge = running.bridge
    wait_until(lambda: bridge.statuses.get(bridge_broker.pk) == "connected", what="the bridge to connect")

    station = DeviceInfo(name="Garden station", identifiers="garden-station-1", manufacturer="Me")
    temperature = Sensor(
        ha_settings(
            ha_broker,
            SensorInfo(
                name="Temperature",
                unique_id="garden-temperature",
                unit_of_measurement="°C",
                device_class="temperature",
                device=station,
            ),
        )
    )
    rain = BinarySensor(
        ha_settings(ha_broker, BinarySensorInfo(name="Raining", unique_id="garden-rain", device=station))
    )
    temperature.write_config()
    rain.write_config()
    wait_until(lambda: bridge.counts.discovered == 2, what="both discoveries")
    wait_until(lambda: len(bridge.links[bridge_broker.pk].state_topics) == 2, what="state subscriptions")
    time.sleep(0.3)  # the SUBSCRIBE reaches the broker before the first state

    for value in (21.5, 22.25):
        temperature.set_state(value)
    rain.on()
    rain.off()
    wait_until(lambda: bridge.counts.readings == 4, what="four readings")
    running.stop()
    for entity in (temperature, rain):
        entity.mqtt_client.disconnect()
        entity.mqtt_client.loop_stop()

    device = Device.objects.get(owner=user, name="Garden station")
    assert [(key, value) for key, _, value in stored(device)] == [
        ("Raining", 1.0),
        ("Raining", 0.0),
        ("Temperature", 21.5),
        ("Temperature", 22.25),
    ]
    assert StoredSensor.objects.get(device=device, key="Temperature").unit == "°C"
    assert BridgeBroker.objects.get(pk=bridge_broker.pk).status == "the bridge stopped"  # after running.stop()


def test_retained_zigbee2mqtt_messages_are_picked_up_when_the_bridge_starts(
    ha_broker, bridge_broker, bridge_thread, user
):
    recording = json.loads((RECORDED / "zigbee2mqtt.json").read_text())
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
    publisher.username_pw_set(USERNAME, PASSWORD)
    publisher.connect(ha_broker.host, ha_broker.port)
    publisher.loop_start()
    # Zigbee2MQTT retains its discovery messages and (with `retain: true`) its states.
    for message in [*recording["discovery"], *recording["states"][:2]]:
        publisher.publish(message["topic"], orjson.dumps(message["payload"]), qos=1, retain=True).wait_for_publish(5)

    bridge = bridge_thread().bridge
    wait_until(lambda: bridge.counts.readings == 4 + 2, timeout=15, what="the retained states")
    live = recording["states"][2]  # the motion sensor clears: a live, unretained message
    publisher.publish(live["topic"], orjson.dumps(live["payload"]), qos=1).wait_for_publish(5)
    wait_until(lambda: bridge.counts.readings == 4 + 2 + 2, what="the live state")
    publisher.disconnect()
    publisher.loop_stop()
    assert bridge.counts.ignored == 1  # the switch

    motion = Device.objects.get(owner=user, name="Hall motion")
    assert [(key, value) for key, _, value in stored(motion)] == [
        ("illuminance_lux", 381.0),
        ("illuminance_lux", 12.0),
        ("occupancy", 1.0),
        ("occupancy", 0.0),
    ]


def test_a_wrong_password_is_shown_as_the_brokers_status(ha_broker, user, bridge_thread):
    broker = services.broker_create(
        owner=user, name="Wrong", host=ha_broker.host, port=ha_broker.port, username=USERNAME, password="nope"
    )
    bridge = bridge_thread().bridge
    wait_until(lambda: "refused" in bridge.statuses.get(broker.pk, ""), what="the refusal")
    assert not Device.objects.exists()


def test_a_broker_added_while_the_bridge_runs_is_connected(ha_broker, user, bridge_thread):
    bridge = bridge_thread().bridge
    time.sleep(0.2)
    broker = services.broker_create(
        owner=user, name="Later", host=ha_broker.host, port=ha_broker.port, username=USERNAME, password=PASSWORD
    )
    wait_until(lambda: bridge.statuses.get(broker.pk) == "connected", what="the new broker")


def test_a_tls_broker_is_reached_over_tls(tmp_path, user, bridge_thread, monkeypatch):
    if not shutil.which("mosquitto_passwd"):
        pytest.skip("Debian's mosquitto is not installed (make test installs it)")
    ca, cert, key = certificate_authority(tmp_path / "pki")
    # The bridge trusts the system's authorities; here the system's are the test CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    tls_broker = PasswordBroker(tmp_path / "tls-broker", tls_files=(cert, key))
    try:
        over_tls = services.broker_create(
            owner=user,
            name="TLS",
            host=tls_broker.host,
            port=tls_broker.port,
            tls=True,
            username=USERNAME,
            password=PASSWORD,
        )
        plain_to_tls = services.broker_create(
            owner=user,
            name="Plain",
            host=tls_broker.host,
            port=tls_broker.port,
            tls=False,
            username=USERNAME,
            password=PASSWORD,
        )
        bridge = bridge_thread().bridge
        wait_until(lambda: bridge.statuses.get(over_tls.pk) == "connected", what="the TLS connection")
        wait_until(lambda: plain_to_tls.pk in bridge.statuses, what="the plain attempt")
        assert bridge.statuses[plain_to_tls.pk] != "connected"
    finally:
        tls_broker.stop()


def test_a_broker_outside_the_allowed_networks_is_not_connected(ha_broker, user, bridge_thread, settings):
    broker = services.broker_create(
        owner=user, name="Sneaky", host=ha_broker.host, port=ha_broker.port, username=USERNAME, password=PASSWORD
    )
    settings.BRIDGE_ALLOWED_NETWORKS = []
    bridge = bridge_thread().bridge
    wait_until(lambda: broker.pk in bridge.statuses, what="the refusal")
    assert bridge.statuses[broker.pk].startswith("refused by the server's address rule")
    assert broker.pk not in {link.broker.pk for link in bridge.links.values() if link.connected.is_set()}
