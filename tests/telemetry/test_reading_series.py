from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from telemetry import selectors
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ingest(device, sensor, start, count, step_s, value=lambda i: float(i)):
    readings = [ParsedReading(sensor, start + timedelta(seconds=i * step_s), value(i)) for i in range(count)]
    readings_ingest(device=device, readings=readings, received_at=timezone.now())


def series(client, device, **params):
    return client.get(f"/api/devices/{device.pk}/readings/", params)


def test_a_small_range_answers_raw_readings(api_client, device):
    ingest(device, "t", T0, 10, 60)
    body = series(api_client, device, sensor="t", start="2026-03-01T00:00:00Z", end="2026-03-01T01:00:00Z").json()
    assert body["kind"] == "raw"
    assert [p["value"] for p in body["points"]] == [float(i) for i in range(10)]
    assert body["points"][0]["ts"] == "2026-03-01T00:00:00Z"


def test_the_end_is_exclusive_and_the_start_inclusive(api_client, device):
    ingest(device, "t", T0, 3, 60)
    body = series(api_client, device, start="2026-03-01T00:00:00Z", end="2026-03-01T00:02:00Z").json()
    assert [p["value"] for p in body["points"]] == [0.0, 1.0]


def test_a_large_range_answers_buckets_computed_from_rollups(api_client, device):
    ingest(device, "t", T0, 6 * 60, 10)  # an hour, every 10 s
    body = series(api_client, device, start="2026-03-01T00:00:00Z", end="2026-03-01T01:00:00Z", points=12).json()
    assert body["kind"] == "buckets"
    assert body["bucket_seconds"] == 300
    assert body["source"] == "minute"
    assert len(body["points"]) == 12
    first = body["points"][0]
    assert first == {"ts": "2026-03-01T00:00:00Z", "min": 0.0, "max": 29.0, "avg": 14.5, "count": 30}


def test_hour_rollups_serve_day_wide_buckets(device):
    ingest(device, "t", T0, 24 * 60, 60 * 60 / 60)  # a day, every minute
    sensor = device.sensors.get()
    result = selectors.reading_series(sensor=sensor, start=T0, end=T0 + timedelta(days=1), points=4)
    assert (result.source, result.bucket_seconds, len(result.points)) == ("hour", 21600, 4)
    assert sum(p["count"] for p in result.points) == 1440
    assert result.points[1]["min"] == 360.0 and result.points[1]["max"] == 719.0


def test_buckets_under_a_minute_come_from_raw_rows(device):
    ingest(device, "t", T0, 100, 1)
    sensor = device.sensors.get()
    result = selectors.reading_series(sensor=sensor, start=T0, end=T0 + timedelta(seconds=100), points=10)
    assert (result.source, result.bucket_seconds) == ("raw", 10)
    assert [p["avg"] for p in result.points] == [4.5 + 10 * i for i in range(10)]


def test_day_buckets_follow_local_midnight_across_dst(device):
    # Europe/Paris moves to summer time on 2026-03-29: that day lasts 23 hours.
    start = datetime(2026, 3, 27, tzinfo=UTC)
    ingest(device, "t", start, 5 * 24, 3600)
    sensor = device.sensors.get()
    from zoneinfo import ZoneInfo

    result = selectors.reading_series(
        sensor=sensor, start=start, end=start + timedelta(days=4), points=4, tz=ZoneInfo("Europe/Paris")
    )
    stamps = [p["ts"] for p in result.points]
    assert stamps[:4] == [
        "2026-03-26T23:00:00Z",
        "2026-03-27T23:00:00Z",
        "2026-03-28T23:00:00Z",
        "2026-03-29T22:00:00Z",
    ]
    counts = [p["count"] for p in result.points]
    assert counts[1:3] == [24, 23]


def test_the_single_sensor_is_the_default(api_client, device):
    ingest(device, "only", T0, 2, 1)
    body = series(api_client, device, start="2026-03-01T00:00:00Z", end="2026-03-02T00:00:00Z").json()
    assert body["sensor"] == "only"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sensor": "missing"}, "sensor"),
        ({"sensor": "t", "points": 0}, "points"),
        ({"sensor": "t", "points": "many"}, "points"),
        ({"sensor": "t", "points": 100_001}, "points"),
        ({"sensor": "t", "start": "yesterday"}, "start"),
        ({"sensor": "t", "end": "2026-13-45"}, "end"),
        ({"sensor": "t", "start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "start"),
        ({"sensor": "t", "tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(api_client, device, params, field):
    ingest(device, "t", T0, 1, 1)
    ingest(device, "u", T0, 1, 1)
    response = series(api_client, device, **params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_sensor_is_required_when_there_are_several(api_client, device):
    ingest(device, "t", T0, 1, 1)
    ingest(device, "u", T0, 1, 1)
    assert "sensor" in series(api_client, device).json()


def test_another_users_readings_are_404(other_client, device):
    ingest(device, "t", T0, 1, 1)
    assert series(other_client, device, sensor="t").status_code == 404


@pytest.mark.parametrize(
    "span_s, points, width",
    [
        (3600, 1000, 5),
        (86400, 1000, 120),
        (7 * 86400, 1000, 900),
        (400 * 86400, 100, 604800),
        (400 * 86400, 10, 40 * 86400),
    ],
)
def test_bucket_widths_are_readable_and_never_too_many(span_s, points, width):
    start = T0
    assert selectors.bucket_width_seconds(start=start, end=start + timedelta(seconds=span_s), points=points) == width
