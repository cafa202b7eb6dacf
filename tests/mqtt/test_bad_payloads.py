"""Bad payloads are counted, logged with the device and the reason, acknowledged, and
never stop the worker; a good message after them is stored."""

import logging

import orjson
import pytest

from telemetry.models import Reading
from tests.support.mqtt import wait_handled

pytestmark = pytest.mark.django_db(transaction=True)

BAD_PAYLOADS = [
    (b"", "The body is empty"),
    (b"{not json", "Malformed JSON"),
    (b'{"value": NaN}', "Malformed JSON"),
    (b'"just a string"', "Expected a JSON object"),
    (b"[]", "The batch is empty"),
    (b'{"temperature": "warm"}', "temperature: Must be a number, not a string"),
    (b'{"ts": 1769857200, "values": {"t": 1}}', "ts: This looks like epoch seconds"),
    (b'{"ts": "2026-01-31T12:00:00", "values": {"t": 1}}', "needs a UTC offset"),
    (b'[{"t": 1}, {"t": null}]', "item 1, t: Must be a number, not null"),  # t=1 is not stored either
    (orjson.dumps({f"sensor{i}": i for i in range(30)}), "The body exceeds 300 bytes"),
    (orjson.dumps([{"v": i} for i in range(6)]), "more than 5 readings"),
]


def test_bad_payloads_are_counted_and_logged_and_the_worker_keeps_going(
    mqtt_device, mqtt_token, connect_device, ingest_thread, caplog, settings
):
    settings.TELEMETRY_MAX_BODY_BYTES = 300
    settings.TELEMETRY_MAX_BATCH = 5
    caplog.set_level(logging.WARNING, logger="telemetry.mqtt")
    worker = ingest_thread().worker
    client = connect_device(mqtt_device.pk, mqtt_token)
    topic = f"devices/{mqtt_device.pk}/telemetry"
    for payload, _reason in BAD_PAYLOADS:
        client.publish(topic, payload)
    client.publish(topic, orjson.dumps({"ts": 1769857200000, "values": {"good": 1}}))
    wait_handled(worker, len(BAD_PAYLOADS) + 1)

    assert worker.counts.bad_payload == len(BAD_PAYLOADS)
    assert worker.counts.stored == 1
    assert list(Reading.objects.values_list("sensor__key", "value")) == [("good", 1.0)]
    logged = [record.getMessage() for record in caplog.records]
    for _payload, reason in BAD_PAYLOADS:
        assert any(f"device {mqtt_device.pk}" in line and reason in line for line in logged), reason
