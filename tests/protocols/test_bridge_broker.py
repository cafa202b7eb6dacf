"""The bridge against a real Mosquitto with a password, fed by the real
ha-mqtt-discoverable package and by Zigbee2MQTT's recorded messages."""

from __future__ import annotations

import getpass
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from django.db import connections
from ha_mqtt_discoverable import DeviceInfo, Settings
from ha_mqtt_discoverable.sensors import BinarySensor, BinarySensorInfo, Sensor, SensorInfo
from paho.mqtt.enums import CallbackAPIVersion

from devices.models import Device
from protocols.bridge import services
from protocols.bridge.worker import Bridge
from protocols.models import BridgeBroker
from telemetry.models import Sensor as StoredSensor
from tests.mqtt.broker import free_port
from tests.mqtt.conftest import wait_until
from tests.telemetry.helpers import stored

pytestmark = pytest.mark.django_db(transaction=True)

USERNAME, PASSWORD = "homeassistant", "ha-broker-password"
RECORDED = Path(__file__).parent / "recorded"


class PasswordBroker:
    """A Mosquitto of the kind an owner runs beside Home Assistant: a password file."""

    def __init__(self, data_dir: Path, *, tls_files: tuple[Path, Path] | None = None):
        self.host, self.port = "127.0.0.1", free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        passwords = data_dir / "passwords"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), USERNAME, PASSWORD], check=True)
        passwords.chmod(0o600)
        config = data_dir / "mosquitto.conf"
        tls = f"certfile {tls_files[0]}\nkeyfile {tls_files[1]}\n" if tls_files else ""
        config.write_text(
            f"listener {self.port} 127.0.0.1\n{tls}allow_anonymous false\npassword_file {passwords}\n"
            f"persistence false\nuser {getpass.getuser()}\nlog_dest stderr\n"
        )
        self.log_path = data_dir / "mosquitto.log"
        with self.log_path.open("wb") as log:
            mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
            self.process = subprocess.Popen([mosquitto, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
        import socket

        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.log_path.read_text()) from None
                time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)


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


class BridgeThread:
    def __init__(self):
        self.bridge = Bridge(reload_interval=0.5)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.bridge.run()
        except BaseException as error:
            self.error = error
        finally:
            connections.close_all()

    def stop(self):
        self.bridge.stop()
        self._thread.join(timeout=10)
        assert self.error is None, self.error


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


def certificate_authority(directory: Path) -> tuple[Path, Path, Path]:
    """A CA of the test's own and a server certificate for 127.0.0.1: (ca, cert, key)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "iotsite test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths[2].chmod(0o600)
    return paths


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
