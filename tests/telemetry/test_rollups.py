"""Rollups kept up at ingest equal the rollups recomputed from the raw rows."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from telemetry.models import HourRollup, MinuteRollup, Sensor
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest, rollups_rebuild

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def snapshot(model):
    return sorted((r.sensor_id, r.bucket, r.min, r.max, round(r.sum, 6), r.count) for r in model.objects.all())


def counters():
    return sorted(Sensor.objects.values_list("key", "reading_count", "last_ts", "last_value"))


def test_incremental_rollups_equal_a_rebuild(device):
    rng = random.Random(3)
    for _ in range(12):  # batches out of order, overlapping, with duplicates
        readings = [
            ParsedReading(rng.choice("ab"), T0 + timedelta(seconds=rng.randrange(0, 3 * 3600)), rng.uniform(-5, 5))
            for _ in range(rng.randrange(1, 200))
        ]
        readings_ingest(device=device, readings=readings, received_at=timezone.now())
    incremental = (snapshot(MinuteRollup), snapshot(HourRollup), counters())
    rollups_rebuild(sensor_ids=list(Sensor.objects.values_list("id", flat=True)))
    assert (snapshot(MinuteRollup), snapshot(HourRollup), counters()) == incremental
    assert sum(row[-1] for row in incremental[1]) == sum(row[1] for row in incremental[2])


def test_the_rebuild_command_repairs_rollups_after_a_bulk_load(device):
    from django.core.management import call_command

    from telemetry.models import Reading

    readings_ingest(device=device, readings=[ParsedReading("t", T0, 1.0)], received_at=timezone.now())
    sensor = Sensor.objects.get()
    Reading.objects.bulk_create([Reading(sensor=sensor, ts=T0 + timedelta(seconds=s), value=s) for s in range(1, 60)])
    call_command("rebuild_rollups", device=[device.pk])
    minute = MinuteRollup.objects.get()
    assert (minute.count, minute.max) == (60, 59.0)
    assert Sensor.objects.get().reading_count == 60
