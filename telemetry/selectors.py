"""Reading readings back: sensor lists and the bucketed series behind every plot."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from devices.models import Device
from telemetry import storage
from telemetry.models import Reading, Sensor

# Bucket widths a person reads easily; beyond a week, whole days.
NICE_BUCKET_SECONDS = [
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
]
DAY = 86400
WEEK = 7 * DAY


def sensors_of_device(*, device: Device) -> QuerySet[Sensor]:
    return Sensor.objects.filter(device=device).order_by("key")


def sensor_of_device(*, device: Device, key: str) -> Sensor | None:
    return Sensor.objects.filter(device=device, key=key).first()


@dataclass
class Series:
    sensor: str
    start: datetime
    end: datetime
    kind: str  # "raw" or "buckets"
    source: str  # the table read: "raw", "minute" or "hour"
    bucket_seconds: int | None = None
    tz: str | None = None
    points: list[dict[str, Any]] = field(default_factory=list)


def iso_utc(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def reading_series(
    *, sensor: Sensor, start: datetime, end: datetime, points: int, tz: ZoneInfo | None = None
) -> Series:
    """At most `points` values over [start, end): the raw readings when the range holds
    no more than that, else time buckets (min, max, avg, count) computed in the
    database from the coarsest rollup that still gives the points asked for."""
    raw = list(
        # Index telemetry_reading_sensor_ts_unique: a range scan that stops after points + 1.
        Reading.objects.filter(sensor=sensor, ts__gte=start, ts__lt=end)
        .order_by("ts")
        .values_list("ts", "value")[: points + 1]
    )
    series = Series(sensor=sensor.key, start=start, end=end, kind="raw", source="raw")
    if len(raw) <= points:
        series.points = [{"ts": iso_utc(ts), "value": value} for ts, value in raw]
        return series
    width = bucket_width_seconds(start=start, end=end, points=points)
    series.kind, series.bucket_seconds = "buckets", width
    if tz is not None and width >= DAY:
        series.tz = str(tz)
        boundaries = calendar_boundaries(start=start, end=end, days=width // DAY, tz=tz)
        series.source = _source_for_boundaries(boundaries)
        rows = storage.calendar_buckets(sensor_id=sensor.pk, boundaries=boundaries, source=series.source)
    else:
        series.source = "hour" if width % 3600 == 0 else "minute" if width % 60 == 0 else "raw"
        rows = storage.buckets(sensor_id=sensor.pk, start=start, end=end, width=width, source=series.source)
    series.points = [
        # PostgreSQL sums bigints as numeric: back to int.
        {"ts": iso_utc(bucket), "min": low, "max": high, "avg": total / int(count), "count": int(count)}
        for bucket, low, high, total, count in rows
    ]
    return series


def bucket_width_seconds(*, start: datetime, end: datetime, points: int) -> int:
    """The narrowest readable width that gives no more than `points` buckets."""
    needed = (end - start).total_seconds() / points
    for width in NICE_BUCKET_SECONDS:
        if width >= needed:
            return width
    return math.ceil(needed / DAY) * DAY


def calendar_boundaries(*, start: datetime, end: datetime, days: int, tz: ZoneInfo) -> list[datetime]:
    """Local midnights (Mondays for weeks) from the one at or before start to the first
    at or after end, every `days` days: a DST day is 23 or 25 hours long."""
    first_day = start.astimezone(tz).date()
    if days % 7 == 0:
        first_day -= timedelta(days=first_day.weekday())
    boundaries = []
    day: date = first_day
    while True:
        boundary = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
        boundaries.append(boundary)
        if boundary >= end:
            return boundaries
        day += timedelta(days=days)


def _source_for_boundaries(boundaries: list[datetime]) -> str:
    # Zones with half-hour offsets put local midnight inside a UTC hour.
    if all(b.minute == 0 and b.second == 0 for b in boundaries):
        return "hour"
    return "minute" if all(b.second == 0 for b in boundaries) else "raw"
