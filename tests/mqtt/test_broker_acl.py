"""At the broker a device may publish to its own topic only, and read nothing."""

import pytest

from devices.services import device_create
from tests.support.mqtt import mosquitto, wait_handled

pytestmark = pytest.mark.django_db

NOT_AUTHORIZED = 135


@pytest.fixture
def other_device_and_token(other_user, mqtt_settings, committed):
    with committed():
        return device_create(owner=other_user, name="Neighbour", type="generic")


@pytest.mark.django_db(transaction=True)  # the worker thread reads what the test wrote
def test_a_device_cannot_publish_as_another(
    mqtt_device, mqtt_token, other_device_and_token, connect_device, ingest_thread
):
    other_device, _other_token = other_device_and_token
    worker = ingest_thread().worker
    client = connect_device(mqtt_device.pk, mqtt_token)

    refused = client.publish(f"devices/{other_device.pk}/telemetry", b'{"value": 1}')
    accepted = client.publish(f"devices/{mqtt_device.pk}/telemetry", b'{"value": 2}')
    wait_handled(worker, 1)

    assert refused.value == NOT_AUTHORIZED
    assert not accepted.is_failure
    assert worker.counts.messages == 1
    assert not other_device.sensors.exists()


def test_a_device_cannot_publish_to_any_other_topic(mqtt_device, mqtt_token, connect_device):
    client = connect_device(mqtt_device.pk, mqtt_token)
    for topic in ["devices/telemetry", f"devices/{mqtt_device.pk}/commands", "$CONTROL/dynamic-security/v1", "x"]:
        assert client.publish(topic, b"{}").value == NOT_AUTHORIZED, topic


def test_mosquitto_pub_to_another_devices_topic_is_refused(mqtt_device, mqtt_token, other_device_and_token, broker):
    other_device, _other_token = other_device_and_token
    publish = mosquitto(
        "mosquitto_pub",
        broker,
        mqtt_device,
        mqtt_token,
        "-t",
        f"devices/{other_device.pk}/telemetry",
        "-m",
        "{}",
    )
    _out, stderr = publish.communicate(timeout=10)
    assert "Not authorized" in stderr


def test_a_device_cannot_subscribe_to_telemetry(mqtt_device, mqtt_token, other_device_and_token, connect_device):
    client = connect_device(mqtt_device.pk, mqtt_token)
    other_id = other_device_and_token[0].pk
    for topic in [
        f"devices/{other_id}/telemetry",
        f"devices/{mqtt_device.pk}/telemetry",
        "devices/+/telemetry",
        "#",
        "$share/iotsite/devices/+/telemetry",
        "$CONTROL/dynamic-security/#",
    ]:
        [reason] = client.subscribe(topic)
        assert reason.is_failure, topic


def test_a_wrong_token_or_unknown_device_cannot_connect(
    mqtt_device, mqtt_token, other_device_and_token, connect_device
):
    _other_device, other_token = other_device_and_token
    assert not connect_device(mqtt_device.pk, "iotd_" + "x" * 43).accepted
    assert not connect_device(mqtt_device.pk, other_token).accepted
    assert not connect_device(999_999, mqtt_token).accepted
    assert not connect_device("iotsite", mqtt_token).accepted
    assert connect_device(mqtt_device.pk, mqtt_token).accepted
