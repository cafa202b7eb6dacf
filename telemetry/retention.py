"""Data retention: delete readings older than their device keeps, and old idempotency records.

Deletes go in small batches, each its own short transaction found through an index, so
ingest never waits long on a lock and no long transaction holds back vacuum.

The rule that keeps rollups exact without recomputing them: a cutoff is always the
start of an hour (now - retention, rounded down). Every minute and hour bucket then
lies wholly before the cutoff (deleted with its readings) or wholly after (untouched),
so no bucket ever holds a deleted reading. Sensor counters go down by what each batch
deleted; a sensor left with no reading loses its latest value and time too.
A reading that arrives already older than its cutoff is stored and goes on the next run.

On PostgreSQL, where readings and minute rollups are weekly partitions
(telemetry/storage/partitions.py), a week that every device's retention has passed is
dropped whole, one statement instead of millions of deletes; only the edges (the week
a cutoff falls in, devices that keep longer, the default partition) go in batches.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F

from devices.models import Device
from telemetry import storage
from telemetry.models import (
    HourRollup,
    IdempotencyRecord,
    MinuteRollup,
    Reading,
    Sensor,
)

logger = logging.getLogger(__name__)

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
            older = Reading.objects.filter(sensor_id=sensor_id, ts__lt=cutoff)
            # A batch is a time range ending at its last reading's time, found through
            # telemetry_reading_sensor_ts_unique (sensor_id, ts): unique, so exactly
            # batch_size rows, and no lookup by id, which partitions do not index alone.
            last = older.order_by("ts").values_list("ts", flat=True)[batch_size - 1 : batch_size].first()
            deleted, _by_model = (older if last is None else older.filter(ts__lte=last)).delete()
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
            # Batches as time ranges too, through the (sensor_id, bucket) unique index.
            older_buckets = model.objects.filter(sensor_id=sensor_id, bucket__lt=cutoff)
            nth = older_buckets.order_by("bucket").values_list("bucket", flat=True)[batch_size - 1 : batch_size]
            last_bucket = nth.first()
            batch = older_buckets if last_bucket is None else older_buckets.filter(bucket__lte=last_bucket)
            deleted, _by_model = batch.delete()
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
    by_cutoff = retention_cutoffs(now=now)
    if storage.readings_partitioned():
        storage.partitions_ensure(now=now)
        # Whole weeks go only when every device lets them: one that keeps everything is
        # absent from by_cutoff, and then nothing is dropped.
        if by_cutoff and sum(len(ids) for ids in by_cutoff.values()) == Device.objects.count():
            weeks_prune(before=min(by_cutoff), result=total)
    for cutoff, device_ids in by_cutoff.items():
        for sensor_id in _sensor_ids_of(device_ids):
            pruned = sensor_readings_prune(sensor_id=sensor_id, cutoff=cutoff, batch_size=batch_size)
            total.readings += pruned.readings
            total.minute_rollups += pruned.minute_rollups
            total.hour_rollups += pruned.hour_rollups
    total.idempotency_records = idempotency_records_prune(now=now, batch_size=batch_size)
    return total


def weeks_prune(*, before: datetime, result: PruneResult) -> None:
    """Drop the weekly partitions (readings and minute rollups) that end at or before
    `before`, the earliest cutoff of all devices, and clear the latest value of sensors
    left with no reading. The hour rollups of those weeks go with the per-sensor pass
    that follows, which every sensor gets since every device has a cutoff."""
    weeks = storage.weeks_droppable(before=before)
    for week in weeks:
        try:
            readings, minute_rollups = storage.week_drop(week)
        except OperationalError as error:
            # Ingest held the table past the lock timeout: the batches that follow
            # delete that week's rows instead, and the next run drops what is left.
            logger.warning("retention: week of %s not dropped (%s); deleting it in batches", week.date(), error)
            continue
        result.readings += readings
        result.minute_rollups += minute_rollups
    if weeks:
        Sensor.objects.filter(reading_count__lte=0, last_ts__isnull=False).update(
            reading_count=0, last_ts=None, last_value=None
        )


def _sensor_ids_of(device_ids: list[int]) -> list[int]:
    sensor_ids: list[int] = []
    for start in range(0, len(device_ids), DEVICES_PER_QUERY):
        chunk = device_ids[start : start + DEVICES_PER_QUERY]
        sensor_ids.extend(Sensor.objects.filter(device_id__in=chunk).values_list("id", flat=True))
    return sensor_ids
