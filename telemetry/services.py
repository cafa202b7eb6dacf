"""Writing readings: the one ingest path shared by HTTP, MQTT and image uploads."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import psycopg
from django.db import IntegrityError, OperationalError, transaction

from devices.config import DeviceConfig
from devices.models import Device
from telemetry import hooks, storage
from telemetry.models import IdempotencyRecord, Sensor
from telemetry.payloads import DEFAULT_SENSOR, ParsedReading, PayloadError

# (device id, sensor key) → sensor id. Sensors are never renamed and ids never reused,
# so entries stay true; filled only after the creating transaction commits.
_sensor_id_cache: dict[tuple[int, str], int] = {}
SENSOR_ID_CACHE_SIZE = 100_000
STORE_ATTEMPTS = 3  # a stale cached sensor id or a lost deadlock is tried again


@dataclass(frozen=True)
class IngestResult:
    accepted: int  # every reading of the request, now safely stored
    duplicates: int  # of those, readings already stored for the same sensor and time

    def as_json(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates}


def readings_ingest(*, device: Device, readings: Sequence[ParsedReading], received_at: datetime) -> IngestResult:
    """Store a validated batch atomically; when this returns, every reading is committed.

    A reading for a sensor and instant that already holds one is ignored (the first
    value stands), so retries never double or alter data.
    """
    keys = {reading.sensor for reading in readings}
    for attempt in range(1, STORE_ATTEMPTS + 1):
        last_attempt = attempt == STORE_ATTEMPTS
        try:
            new_readings = _store_batch(device, readings, sensor_ids_for(device=device, keys=keys), received_at)
            break
        except IntegrityError:
            if last_attempt:
                raise
            # A cached sensor id that no longer exists (a restored database): look again.
            sensor_ids_forget(device_id=device.pk)
        except OperationalError as error:
            # Two requests holding the same readings in another order can deadlock on
            # the unique index; PostgreSQL ends one of them, which simply tries again.
            if last_attempt or not isinstance(error.__cause__, psycopg.errors.DeadlockDetected):
                raise
    device.last_seen_at = received_at
    return IngestResult(accepted=len(readings), duplicates=len(readings) - len(new_readings))


def _store_batch(
    device: Device, readings: Sequence[ParsedReading], sensor_ids: dict[str, int], received_at: datetime
) -> Sequence[ParsedReading]:
    rows = [(sensor_ids[reading.sensor], reading.ts, reading.value) for reading in readings]
    with transaction.atomic():
        # None: every row went in; else the (sensor id, ts) of those that did.
        inserted = storage.readings_store(device_id=device.pk, rows=rows, received_at=received_at)
        new_readings = readings if inserted is None else _only_inserted(readings, rows, inserted)
        for hook in hooks.in_transaction_hooks():
            hook(device, new_readings)
        for hook in hooks.after_commit_hooks():
            transaction.on_commit(partial(hook, device, new_readings))
    return new_readings


def _only_inserted(readings, rows, inserted: set[tuple[int, datetime]]) -> list[ParsedReading]:
    """The readings this request really stored: not those ignored as duplicates."""
    new_readings = []
    for reading, (sensor_id, ts, _value) in zip(readings, rows, strict=True):
        if (sensor_id, ts) in inserted:
            new_readings.append(reading)
            inserted.discard((sensor_id, ts))  # a duplicate inside the batch comes later
    return new_readings


def readings_ingest_once(
    *, device: Device, readings: Sequence[ParsedReading], received_at: datetime, idempotency_key: str, body: bytes
) -> IngestResult:
    """readings_ingest for a request with an Idempotency-Key: a retry is stored once and
    answered as the first time; the key reused for another body is refused."""
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        # On PostgreSQL a concurrent retry blocks on the unique index until the first
        # commits, then finds its record.
        record, created = IdempotencyRecord.objects.get_or_create(
            device=device, key=idempotency_key, defaults={"request_sha256": digest}
        )
        if not created:
            if record.request_sha256 != digest:
                raise PayloadError(
                    "This Idempotency-Key was already used for another body.", field="Idempotency-Key", status=422
                )
            return IngestResult(**(record.response or {}))
        result = readings_ingest(device=device, readings=readings, received_at=received_at)
        record.response = result.as_json()
        record.save(update_fields=["response"])
    return result


def sensor_ids_for(*, device: Device, keys: set[str]) -> dict[str, int]:
    """Ids of the device's sensors by key, creating the missing ones."""
    found = {key: _sensor_id_cache[(device.pk, key)] for key in keys if (device.pk, key) in _sensor_id_cache}
    missing = keys - found.keys()
    if missing:
        Sensor.objects.bulk_create(
            [Sensor(device=device, key=key, unit=_default_unit(device, key)) for key in missing],
            ignore_conflicts=True,
        )
        created = dict(Sensor.objects.filter(device=device, key__in=missing).values_list("key", "id"))
        found.update(created)
        transaction.on_commit(lambda: _sensor_ids_remember(device.pk, created))
    return found


def sensor_ids_forget(*, device_id: int | None = None) -> None:
    if device_id is None:
        _sensor_id_cache.clear()
        return
    for cached in [cached for cached in _sensor_id_cache if cached[0] == device_id]:
        del _sensor_id_cache[cached]


def _sensor_ids_remember(device_id: int, ids: dict[str, int]) -> None:
    if len(_sensor_id_cache) > SENSOR_ID_CACHE_SIZE:
        _sensor_id_cache.clear()
    _sensor_id_cache.update({(device_id, key): sensor_id for key, sensor_id in ids.items()})


def _default_unit(device: Device, key: str) -> str:
    return DeviceConfig.of(device.config).unit_of(key, default_sensor=DEFAULT_SENSOR)


@transaction.atomic
def rollups_rebuild(*, sensor_ids: Sequence[int]) -> None:
    """Recompute the rollups and counters of these sensors from their raw readings:
    after a bulk load that bypassed ingest, or after deleting readings."""
    storage.rollups_rebuild(sensor_ids=list(sensor_ids))
