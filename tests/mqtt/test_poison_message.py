"""No single message can stop MQTT ingestion: whatever parsing one message raises, that
message is counted as a bad payload, logged, acknowledged, and the next one is stored."""

import logging

import orjson
import pytest

from telemetry import payloads
from telemetry.models import Reading
from tests.support.mqtt import wait_handled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("ts", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_an_out_of_range_time_then_a_good_message_through_the_broker(
    mqtt_device, mqtt_token, connect_device, ingest_thread, caplog, ts
):
    caplog.set_level(logging.WARNING, logger="telemetry.mqtt")
    ingest = ingest_thread()
    client = connect_device(mqtt_device.pk, mqtt_token)
    topic = f"devices/{mqtt_device.pk}/telemetry"
    client.publish(topic, orjson.dumps({"ts": ts, "values": {"t": 1}}))
    client.publish(topic, orjson.dumps({"ts": 1769857200000, "values": {"good": 2}}))
    wait_handled(ingest.worker, 2)

    assert ingest.error is None and ingest._thread.is_alive()
    assert (ingest.worker.counts.bad_payload, ingest.worker.counts.stored) == (1, 1)
    assert list(Reading.objects.values_list("sensor__key", "value")) == [("good", 2.0)]
    assert any("ts" in record.getMessage() and "out of range" in record.getMessage() for record in caplog.records)


def test_any_exception_while_parsing_a_message_is_that_messages_bad_payload(
    mqtt_device, mqtt_token, connect_device, ingest_thread, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING, logger="telemetry.mqtt")
    real_parse = payloads.parse_readings

    def parse_with_a_bug(document, **kwargs):
        if isinstance(document, dict) and "boom" in document:
            raise RecursionError("a bug no one has found yet")
        return real_parse(document, **kwargs)

    monkeypatch.setattr(payloads, "parse_readings", parse_with_a_bug)
    ingest = ingest_thread()
    client = connect_device(mqtt_device.pk, mqtt_token)
    topic = f"devices/{mqtt_device.pk}/telemetry"
    client.publish(topic, b'{"boom": 1}')
    client.publish(topic, b'{"after": 3}')
    wait_handled(ingest.worker, 2)

    assert ingest.error is None and ingest._thread.is_alive()
    assert (ingest.worker.counts.bad_payload, ingest.worker.counts.stored) == (1, 1)
    assert list(Reading.objects.values_list("sensor__key", "value")) == [("after", 3.0)]
    assert any("RecursionError" in record.getMessage() for record in caplog.records)
