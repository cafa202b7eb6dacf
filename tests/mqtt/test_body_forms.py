"""Every body form of POST /api/telemetry/ works over MQTT, from paho and mosquitto_pub."""

from datetime import UTC, datetime

import orjson
import pytest

from telemetry.models import Reading
from tests.support.mqtt import mosquitto, wait_handled

pytestmark = pytest.mark.django_db(transaction=True)


def stored(device) -> list[tuple[str, float]]:
    return sorted(Reading.objects.filter(sensor__device=device).values_list("sensor__key", "value"))


def test_each_body_form_is_stored_like_the_http_api(mqtt_device, mqtt_token, connect_device, ingest_thread):
    worker = ingest_thread().worker
    client = connect_device(mqtt_device.pk, mqtt_token)
    topic = f"devices/{mqtt_device.pk}/telemetry"
    bodies = [
        {"value": 3.5},
        {"temperature": 21.5, "humidity": 40, "door": True},
        {"ts": "2026-01-31T12:00:00+01:00", "values": {"t": 1}},
        {"ts": 1769857260000, "values": {"t": 2}},
        [{"ts": 1769857320000, "values": {"t": 3}}, {"pressure": 1.25}],
    ]
    for body in bodies:
        assert not client.publish(topic, orjson.dumps(body)).is_failure
    wait_handled(worker, len(bodies))

    assert stored(mqtt_device) == [
        ("door", 1.0),
        ("humidity", 40.0),
        ("pressure", 1.25),
        ("t", 1.0),
        ("t", 2.0),
        ("t", 3.0),
        ("temperature", 21.5),
        ("value", 3.5),
    ]
    timed = Reading.objects.get(sensor__key="t", value=1)
    assert timed.ts == datetime(2026, 1, 31, 11, 0, tzinfo=UTC)


def test_a_reading_from_mosquitto_pub_is_stored(mqtt_device, mqtt_token, broker, ingest_thread):
    worker = ingest_thread().worker
    publish = mosquitto(
        "mosquitto_pub",
        broker,
        mqtt_device,
        mqtt_token,
        "-t",
        f"devices/{mqtt_device.pk}/telemetry",
        "-m",
        '{"ts": 1769857200000, "values": {"level": 7}}',
    )
    assert publish.wait(10) == 0, publish.communicate()
    wait_handled(worker, 1)

    assert stored(mqtt_device) == [("level", 7.0)]
    mqtt_device.refresh_from_db()
    assert mqtt_device.last_seen_at is not None
