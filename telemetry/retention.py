"""Data retention: delete readings older than their device keeps, and old idempotency records.

Deletes go in small batches, each its own short transaction found through an index, so
ingest never waits long on a lock and no long transaction holds back vacuum.

The rule that keeps rollups exact without recomputing them: a cutoff is always the
start of an hour (now - retention, rounded down). Every minute and hour bucket then
lies wholly before the cutoff (deleted with its readings) or wholly after (untouched),
so no bucket ever holds a deleted reading. Sensor counters go down by what each batch
deleted; a sensor left with no reading loses its latest value and time too.
A reading that arrives already older than its cutoff is stored and goes on the next run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from devices.models import Device
from telemetry.models import (
    HourRollup,
    IdempotencyRecord,
    MinuteRollup,
    Reading,
    Sensor,
)

DEFAULT_BATCH_SIZE = 5000
# Device ids per sensor lookup: well under SQLite's limit on bound parameters.
DEVICES_PER_QUERY = 500


@dataclass
class PruneResult:
    readings: int = 0
    minute_rollups: int = 0
    hour_rollups: int = 0
    idempotency_records: int = 0

    def as_json(self) -> dict[str, int]:
        return asdict(self)


def retention_cutoff(*, now: datetime, days: int) -> datetime:
    """The start of the hour `days` days before now: readings before it go."""
    return (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)


def retention_cutoffs(*, now: datetime) -> dict[datetime, list[int]]:
    """Device ids by the cutoff that applies to them; devices that keep everything are absent."""
    by_cutoff: dict[datetime, list[int]] = defaultdict(list)
    for device_id, days in Device.objects.values_list("id", "retention_days").iterator():
        days = days or settings.RETENTION_DAYS
        if days:
            by_cutoff[retention_cutoff(now=now, days=days)].append(device_id)
    return by_cutoff


def sensor_readings_prune(*, sensor_id: int, cutoff: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> PruneResult:
    """Delete one sensor's readings and rollup buckets before an hour-aligned cutoff."""
    if cutoff != cutoff.replace(minute=0, second=0, microsecond=0):
        raise ValueError("A cutoff must be the start of an hour, or rollup buckets would be cut in two.")
    result = PruneResult()
    while True:
        with transaction.atomic():
            # Found through telemetry_reading_sensor_ts_unique (sensor_id, ts).
            ids = Reading.objects.filter(sensor_id=sensor_id, ts__lt=cutoff).order_by("ts").values("pk")[:batch_size]
            deleted, _by_model = Reading.objects.filter(pk__in=ids).delete()
            if deleted:
                Sensor.objects.filter(pk=sensor_id).update(reading_count=F("reading_count") - deleted)
        result.readings += deleted
        if deleted < batch_size:
            break
    rollups: tuple[tuple[type[MinuteRollup] | type[HourRollup], str], ...] = (
        (MinuteRollup, "minute_rollups"),
        (HourRollup, "hour_rollups"),
    )
    for model, field in rollups:
        while True:
            # Found through the (sensor_id, bucket) unique index.
            ids = model.objects.filter(sensor_id=sensor_id, bucket__lt=cutoff).values("pk")[:batch_size]  # type: ignore[assignment]
            deleted, _by_model = model.objects.filter(pk__in=ids).delete()
            setattr(result, field, getattr(result, field) + deleted)
            if deleted < batch_size:
                break
    if result.readings:
        Sensor.objects.filter(pk=sensor_id, reading_count__lte=0).update(reading_count=0, last_ts=None, last_value=None)
    return result


def idempotency_records_prune(*, now: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete Idempotency-Key answers older than IDEMPOTENCY_KEEP; a retry after that is new."""
    older_than = now - settings.IDEMPOTENCY_KEEP
    total = 0
    while True:
        # Found through telemetry_idempotency_created.
        ids = (
            IdempotencyRecord.objects.filter(created_at__lt=older_than).order_by("created_at").values("pk")[:batch_size]
        )
        deleted, _by_model = IdempotencyRecord.objects.filter(pk__in=ids).delete()
        total += deleted
        if deleted < batch_size:
            return total


def readings_prune(*, now: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> PruneResult:
    """Apply every device's retention (its retention_days, else RETENTION_DAYS) and
    drop old idempotency records."""
    total = PruneResult()
    for cutoff, device_ids in retention_cutoffs(now=now).items():
        for sensor_id in _sensor_ids_of(device_ids):
            pruned = sensor_readings_prune(sensor_id=sensor_id, cutoff=cutoff, batch_size=batch_size)
            total.readings += pruned.readings
            total.minute_rollups += pruned.minute_rollups
            total.hour_rollups += pruned.hour_rollups
    total.idempotency_records = idempotency_records_prune(now=now, batch_size=batch_size)
    return total


def _sensor_ids_of(device_ids: list[int]) -> list[int]:
    sensor_ids: list[int] = []
    for start in range(0, len(device_ids), DEVICES_PER_QUERY):
        chunk = device_ids[start : start + DEVICES_PER_QUERY]
        sensor_ids.extend(Sensor.objects.filter(device_id__in=chunk).values_list("id", flat=True))
    return sensor_ids
