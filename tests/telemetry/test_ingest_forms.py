from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from telemetry.models import Sensor
from tests.telemetry.helpers import post, stored

pytestmark = pytest.mark.django_db


def test_a_bare_value_goes_to_sensor_value(device_client, device):
    response = post(device_client, {"value": 3.2})
    assert response.status_code == 201
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert [(key, value) for key, _, value in stored(device)] == [("value", 3.2)]


def test_a_dict_is_one_reading_per_sensor(device_client, device):
    assert post(device_client, {"temperature": 21.5, "humidity": 40}).json()["accepted"] == 2
    assert sorted(Sensor.objects.filter(device=device).values_list("key", flat=True)) == ["humidity", "temperature"]


def test_booleans_become_zero_and_one(device_client, device):
    post(device_client, {"door": True, "alarm": False})
    assert {key: value for key, _, value in stored(device)} == {"door": 1.0, "alarm": 0.0}


def test_ts_values_with_iso_time(device_client, device):
    post(device_client, {"ts": "2026-01-31T12:00:00+02:00", "values": {"t": 1}})
    assert stored(device) == [("t", "2026-01-31T10:00:00+00:00", 1.0)]


def test_ts_values_with_epoch_ms(device_client, device):
    post(device_client, {"ts": 1767225600123, "values": {"t": 1}})
    assert stored(device) == [("t", "2026-01-01T00:00:00.123000+00:00", 1.0)]


def test_a_batch_mixes_every_form(device_client, device):
    base = datetime(2026, 3, 1, tzinfo=UTC)
    batch = [{"ts": (base + timedelta(seconds=i)).isoformat(), "values": {"a": i, "b": -i}} for i in range(50)] + [
        {"c": 7},
        {"value": 1.5},
    ]
    response = post(device_client, batch)
    assert response.status_code == 201
    assert response.json()["accepted"] == 102
    assert len(stored(device)) == 102


def test_readings_without_ts_take_the_arrival_time(device_client, device):
    before = timezone.now()
    post(device_client, {"value": 1})
    ts = device.sensors.get().readings.get().ts
    assert before <= ts <= timezone.now()


def test_ingest_updates_last_seen(device_client, device):
    assert device.last_seen_at is None
    post(device_client, {"value": 1})
    device.refresh_from_db()
    assert device.last_seen_at is not None


def test_content_type_with_charset_is_json(device_client, device):
    response = device_client.post("/api/telemetry/", b'{"value": 1}', content_type="application/json; charset=utf-8")
    assert response.status_code == 201


def test_the_unit_of_a_gauge_names_its_value_sensor(api_client, device_client):
    from rest_framework.test import APIClient

    created = api_client.post(
        "/api/devices/",
        {"name": "G", "type": "analog_gauge", "config": {"unit": "bar", "min": 0, "max": 10}},
        format="json",
    ).json()
    gauge = APIClient()
    gauge.credentials(HTTP_AUTHORIZATION=f"Device {created['token']}")
    post(gauge, {"value": 4})
    assert api_client.get(f"/api/devices/{created['id']}/sensors/").json()[0]["unit"] == "bar"


def test_a_batch_of_the_maximum_size_is_stored(settings, device_client, device):
    settings.TELEMETRY_MAX_BATCH = 2000
    base = datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000
    batch = [{"ts": int(base) + i, "values": {"x": i}} for i in range(2000)]
    assert post(device_client, batch).json() == {"accepted": 2000, "duplicates": 0}
    assert device.sensors.get().readings.count() == 2000
