"""The first value stored for a sensor and instant stands; retries are stored once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from telemetry.models import IdempotencyRecord
from telemetry.payloads import ParsedReading, parse_readings, payload_limits
from telemetry.services import readings_ingest
from tests.telemetry.helpers import post, stored

pytestmark = pytest.mark.django_db

ITEM = {"ts": "2026-02-01T00:00:00Z", "values": {"t": 1.0}}


def test_a_second_value_for_the_same_instant_is_ignored(device_client, device):
    post(device_client, ITEM)
    response = post(device_client, {"ts": "2026-02-01T01:00:00+01:00", "values": {"t": 99.0}})
    assert response.status_code == 201
    assert response.json() == {"accepted": 1, "duplicates": 1}
    assert stored(device) == [("t", "2026-02-01T00:00:00+00:00", 1.0)]
    assert device.sensors.get().reading_count == 1


def test_duplicates_inside_one_batch_keep_the_first(device_client, device):
    batch = [ITEM, {"ts": ITEM["ts"], "values": {"t": 2.0}}]
    assert post(device_client, batch).json() == {"accepted": 2, "duplicates": 1}
    assert stored(device) == [("t", "2026-02-01T00:00:00+00:00", 1.0)]


def test_a_retry_with_the_same_key_is_stored_once_and_answered_alike(device_client, device):
    batch = [ITEM, {"ts": "2026-02-01T00:00:01Z", "values": {"t": 2.0}}]
    first = post(device_client, batch, HTTP_IDEMPOTENCY_KEY="batch-42")
    again = post(device_client, batch, HTTP_IDEMPOTENCY_KEY="batch-42")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"accepted": 2, "duplicates": 0}
    assert len(stored(device)) == 2
    assert device.sensors.get().reading_count == 2


def test_readings_without_ts_are_not_stored_twice_on_retry(device_client, device):
    post(device_client, {"value": 1}, HTTP_IDEMPOTENCY_KEY="k1")
    post(device_client, {"value": 1}, HTTP_IDEMPOTENCY_KEY="k1")
    assert len(stored(device)) == 1


def test_a_key_reused_for_another_body_is_422(device_client, device):
    post(device_client, ITEM, HTTP_IDEMPOTENCY_KEY="k1")
    response = post(device_client, {"value": 5}, HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 422
    assert response.json()["field"] == "Idempotency-Key"
    assert len(stored(device)) == 1


def test_keys_belong_to_one_device(api_client, device_client, device):
    from rest_framework.test import APIClient

    other = api_client.post("/api/devices/", {"name": "Other"}).json()
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Device {other['token']}")
    post(device_client, ITEM, HTTP_IDEMPOTENCY_KEY="same")
    assert post(other_client, ITEM, HTTP_IDEMPOTENCY_KEY="same").json() == {"accepted": 1, "duplicates": 0}


def test_a_rejected_body_leaves_its_key_free(device_client, device):
    assert post(device_client, {"t": "bad"}, HTTP_IDEMPOTENCY_KEY="k1").status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post(device_client, ITEM, HTTP_IDEMPOTENCY_KEY="k1").status_code == 201


def test_hooks_see_only_the_readings_really_stored(device_client, device, django_capture_on_commit_callbacks):
    from telemetry import hooks

    seen = []
    hook = hooks.on_readings_stored(lambda dev, readings: seen.append([(r.sensor, r.value) for r in readings]))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(device_client, ITEM)
            post(device_client, [{"ts": ITEM["ts"], "values": {"t": 5.0, "u": 6.0}}])
    finally:
        hooks._after_commit.remove(hook)
    assert seen == [[("t", 1.0)], [("u", 6.0)]]


@pytest.mark.django_db(transaction=True)  # SQLite checks foreign keys at the real commit
def test_a_stale_cached_sensor_id_is_looked_up_again(device_client, device):
    from telemetry import services

    services._sensor_ids_remember(device.pk, {"t": 987654321})
    assert post(device_client, ITEM).status_code == 201
    assert stored(device) == [("t", "2026-02-01T00:00:00+00:00", 1.0)]


def test_a_stamped_reading_meeting_a_stored_one_at_its_instant_is_stored_a_microsecond_later(device):
    # Two MQTT workers (or two web processes) stamping one device's untimed messages can
    # give two of them the same microsecond: the second is a new value, not a repeat.
    now = timezone.now().replace(microsecond=500)
    readings_ingest(device=device, readings=[ParsedReading("t", now, 1.0, stamped=True)], received_at=now)
    result = readings_ingest(device=device, readings=[ParsedReading("t", now, 2.0, stamped=True)], received_at=now)

    assert result.as_json() == {"accepted": 1, "duplicates": 0}
    rows = list(device.sensors.get().readings.order_by("ts").values_list("ts", "value"))
    assert rows == [(now, 1.0), (now + timedelta(microseconds=1), 2.0)]
    assert device.sensors.get().reading_count == 2


def test_a_stamped_reading_moves_past_every_taken_microsecond(device):
    now = timezone.now().replace(microsecond=100)
    taken = [ParsedReading("t", now + timedelta(microseconds=n), float(n)) for n in range(3)]
    readings_ingest(device=device, readings=taken, received_at=now)
    readings_ingest(device=device, readings=[ParsedReading("t", now, 9.0, stamped=True)], received_at=now)

    assert device.sensors.get().readings.get(value=9.0).ts == now + timedelta(microseconds=3)


def test_a_device_timed_reading_at_a_taken_instant_stays_a_duplicate(device):
    now = timezone.now().replace(microsecond=0)
    readings_ingest(device=device, readings=[ParsedReading("t", now, 1.0, stamped=True)], received_at=now)
    result = readings_ingest(device=device, readings=[ParsedReading("t", now, 2.0)], received_at=now)

    assert result.as_json() == {"accepted": 1, "duplicates": 1}
    assert list(device.sensors.get().readings.values_list("value", flat=True)) == [1.0]


def test_untimed_items_of_one_batch_share_their_instant_and_the_first_stands(device_client, device):
    assert post(device_client, [{"t": 1.0}, {"t": 2.0}]).json() == {"accepted": 2, "duplicates": 1}
    assert [value for _sensor, _ts, value in stored(device)] == [1.0]


def test_only_readings_the_server_timed_are_marked_stamped():
    now = timezone.now()
    untimed, timed = parse_readings(
        [{"a": 1}, {"ts": 1_769_857_200_000, "values": {"b": 2}}], now=now, limits=payload_limits()
    )
    assert (untimed.stamped, timed.stamped) == (True, False)
