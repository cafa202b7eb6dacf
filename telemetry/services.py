"""Writing readings: the one ingest path shared by HTTP, MQTT and image uploads.

Every way in stores through readings_ingest_group: one transaction and one statement
for the readings of several requests or messages (telemetry/group_commit.py gathers
them for HTTP; the MQTT worker gathers its own), each answered with its own outcome.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import psycopg
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

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
RESTAMP_ATTEMPTS = 5
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class IngestResult:
    accepted: int  # every reading of the request, now safely stored
    duplicates: int  # of those, readings already stored for the same sensor and time

    def as_json(self) -> dict[str, int]:
        return {"accepted": self.accepted, "duplicates": self.duplicates}


@dataclass(frozen=True)
class IngestEntry:
    """One request's (or message's) validated readings, to store with others."""

    device: Device
    readings: Sequence[ParsedReading]
    received_at: datetime
    idempotency_key: str | None = None
    body_sha256: str | None = None  # with idempotency_key: the body the key was first used for


# What a group answers each entry: its result, or the error that refused it alone.
Outcome = IngestResult | Exception


def readings_ingest(*, device: Device, readings: Sequence[ParsedReading], received_at: datetime) -> IngestResult:
    """Store a validated batch atomically; when this returns, every reading is committed.

    A reading for a sensor and instant that already holds one is ignored (the first
    value stands), so retries never double or alter data.
    """
    return readings_ingest_group_one(IngestEntry(device, readings, received_at))


def readings_ingest_once(
    *, device: Device, readings: Sequence[ParsedReading], received_at: datetime, idempotency_key: str, body: bytes
) -> IngestResult:
    """readings_ingest for a request with an Idempotency-Key: a retry is stored once and
    answered as the first time; the key reused for another body is refused."""
    return readings_ingest_group_one(IngestEntry(device, readings, received_at, idempotency_key, body_sha256(body)))


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def readings_ingest_group_one(entry: IngestEntry) -> IngestResult:
    """A group of one: the entry's result, or the error that refused it."""
    (outcome,) = readings_ingest_group([entry])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def readings_ingest_group(entries: Sequence[IngestEntry]) -> list[Outcome]:
    """Store several entries in one transaction and one statement (a group commit),
    answering each with its own outcome, in order.

    Within the group the earlier entry is the first value for a sensor and instant.
    When the group as a whole fails, each entry is stored alone in a transaction of its
    own, so that a bad one fails alone and stores nothing. The database going away
    (OperationalError, InterfaceError) is raised: nothing of the group was stored.
    """
    try:
        return _store_group_with_retries(entries)
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        if len(entries) == 1:
            return [error]
    outcomes: list[Outcome] = []
    for entry in entries:
        try:
            outcomes.extend(_store_group_with_retries([entry]))
        except (OperationalError, InterfaceError):
            raise
        except Exception as error:
            outcomes.append(error)
    return outcomes


def _store_group_with_retries(entries: Sequence[IngestEntry]) -> list[Outcome]:
    for attempt in range(1, STORE_ATTEMPTS + 1):
        last_attempt = attempt == STORE_ATTEMPTS
        try:
            return _store_group(entries)
        except IntegrityError:
            if last_attempt:
                raise
            # A cached sensor id that no longer exists (a restored database): look again.
            for device_id in {entry.device.pk for entry in entries}:
                sensor_ids_forget(device_id=device_id)
        except OperationalError as error:
            # Two groups holding the same readings in another order can deadlock on
            # the unique index; PostgreSQL ends one of them, which simply tries again.
            if last_attempt or not isinstance(error.__cause__, psycopg.errors.DeadlockDetected):
                raise
    raise AssertionError("unreachable")


def _store_group(entries: Sequence[IngestEntry]) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(entries)
    with transaction.atomic():
        # Idempotency-Key: an entry whose key was used before is answered, not stored.
        records: dict[int, IdempotencyRecord] = {}
        same_key_as: dict[int, int] = {}  # entry → the earlier entry of this group with its key
        claimed: dict[tuple[int, str], int] = {}
        for index, entry in enumerate(entries):
            if entry.idempotency_key is None:
                continue
            claim = (entry.device.pk, entry.idempotency_key)
            if claim in claimed:
                first = claimed[claim]
                if entries[first].body_sha256 == entry.body_sha256:
                    same_key_as[index] = first
                else:
                    outcomes[index] = _key_reused()
                continue
            claimed[claim] = index
            outcome = _idempotency_claim(entry)
            if isinstance(outcome, IdempotencyRecord):
                records[index] = outcome
            else:
                outcomes[index] = outcome
        storing = [i for i, entry in enumerate(entries) if outcomes[i] is None and i not in same_key_as]
        new_readings = _store_readings([entries[i] for i in storing])
        for index, stored in zip(storing, new_readings, strict=True):
            entry = entries[index]
            for hook in hooks.in_transaction_hooks():
                hook(entry.device, stored)
            for hook in hooks.after_commit_hooks():
                transaction.on_commit(partial(hook, entry.device, stored))
            result = IngestResult(accepted=len(entry.readings), duplicates=len(entry.readings) - len(stored))
            outcomes[index] = result
            if index in records:
                records[index].response = result.as_json()
                records[index].save(update_fields=["response"])
        for index, first in same_key_as.items():
            outcomes[index] = outcomes[first]
    for index in storing:
        entries[index].device.last_seen_at = entries[index].received_at
    return [outcome for outcome in outcomes if outcome is not None]


def _idempotency_claim(entry: IngestEntry) -> IdempotencyRecord | Outcome:
    """The new record to answer into, or the answer of the key's first use."""
    # On PostgreSQL a concurrent retry blocks on the unique index until the first
    # commits, then finds its record.
    record, created = IdempotencyRecord.objects.get_or_create(
        device=entry.device, key=entry.idempotency_key, defaults={"request_sha256": entry.body_sha256}
    )
    if created:
        return record
    if record.request_sha256 != entry.body_sha256:
        return _key_reused()
    return IngestResult(**(record.response or {}))


def _key_reused() -> PayloadError:
    return PayloadError("This Idempotency-Key was already used for another body.", field="Idempotency-Key", status=422)


def _store_readings(entries: list[IngestEntry]) -> Sequence[Sequence[ParsedReading]]:
    """One statement for every entry's readings; per entry, the readings really stored
    (not those ignored as duplicates)."""
    if not entries:
        return []
    keys_by_device: dict[int, set[str]] = {}
    devices: dict[int, Device] = {}
    seen: dict[int, datetime] = {}
    for entry in entries:
        device_id = entry.device.pk
        devices[device_id] = entry.device
        keys_by_device.setdefault(device_id, set()).update(reading.sensor for reading in entry.readings)
        seen[device_id] = max(seen.get(device_id, entry.received_at), entry.received_at)
    sensor_ids = sensor_ids_of_devices({devices[device_id]: keys for device_id, keys in keys_by_device.items()})
    rows_of = [
        [(sensor_ids[(entry.device.pk, reading.sensor)], reading.ts, reading.value) for reading in entry.readings]
        for entry in entries
    ]
    # None: every row went in; else the (sensor id, ts) of those that did.
    inserted = storage.readings_store(rows=[row for rows in rows_of for row in rows], seen=seen)
    if inserted is None:
        return [entry.readings for entry in entries]
    in_group: set[tuple[int, datetime]] = set()
    restamp: list[tuple[int, ParsedReading, int]] = []  # (entry index, reading, sensor id)
    stored: list[list[ParsedReading]] = [
        _only_inserted(index, entry.readings, rows, inserted, in_group, restamp)
        for index, (entry, rows) in enumerate(zip(entries, rows_of, strict=True))
    ]
    _store_restamped(restamp, stored, seen)
    return stored


def _only_inserted(
    index: int,
    readings: Sequence[ParsedReading],
    rows: list[tuple[int, datetime, float]],
    inserted: set[tuple[int, datetime]],
    in_group: set[tuple[int, datetime]],
    restamp: list[tuple[int, ParsedReading, int]],
) -> list[ParsedReading]:
    """The readings this entry really stored: not those ignored as duplicates. A
    server-stamped reading that met one stored before this group goes to `restamp`."""
    new_readings = []
    for reading, (sensor_id, ts, _value) in zip(readings, rows, strict=True):
        key = (sensor_id, ts)
        if key in inserted:
            new_readings.append(reading)
            # A duplicate later in the batch, or in a later entry of the group, is not.
            inserted.discard(key)
        elif reading.stamped and key not in in_group:
            restamp.append((index, reading, sensor_id))
        in_group.add(key)
    return new_readings


def _store_restamped(
    restamp: list[tuple[int, ParsedReading, int]], stored: list[list[ParsedReading]], seen: dict[int, datetime]
) -> None:
    """Store a microsecond later the server-stamped readings that met a stored reading at
    their instant. Two workers stamping one device's untimed messages can hit the same
    microsecond, and the second is a new value, not a repeat of the first."""
    for _attempt in range(RESTAMP_ATTEMPTS):
        if not restamp:
            return
        moved = [
            (index, reading._replace(ts=reading.ts + ONE_MICROSECOND), sensor) for index, reading, sensor in restamp
        ]
        inserted = storage.readings_store(
            rows=[(sensor, reading.ts, reading.value) for _i, reading, sensor in moved], seen=seen
        )
        restamp = []
        for index, reading, sensor in moved:
            if inserted is None or (sensor, reading.ts) in inserted:
                stored[index].append(reading)
            else:
                restamp.append((index, reading, sensor))


def sensor_ids_for(*, device: Device, keys: set[str]) -> dict[str, int]:
    """Ids of the device's sensors by key, creating the missing ones."""
    found = sensor_ids_of_devices({device: keys})
    return {key: found[(device.pk, key)] for key in keys}


def sensor_ids_of_devices(keys_by_device: dict[Device, set[str]]) -> dict[tuple[int, str], int]:
    """(device id, key) → sensor id for these devices' keys, creating the missing
    sensors of every device in one statement (a group's new devices are many)."""
    found: dict[tuple[int, str], int] = {}
    missing: list[tuple[Device, str]] = []
    for device, keys in keys_by_device.items():
        for key in keys:
            cached = _sensor_id_cache.get((device.pk, key))
            if cached is None:
                missing.append((device, key))
            else:
                found[(device.pk, key)] = cached
    if missing:
        Sensor.objects.bulk_create(
            [Sensor(device=device, key=key, unit=_default_unit(device, key)) for device, key in missing],
            ignore_conflicts=True,
        )
        wanted = {(device.pk, key) for device, key in missing}
        rows = Sensor.objects.filter(
            device_id__in={device_id for device_id, _ in wanted}, key__in={key for _, key in wanted}
        ).values_list("device_id", "key", "id")
        created = {(device_id, key): sensor_id for device_id, key, sensor_id in rows if (device_id, key) in wanted}
        found.update(created)
        transaction.on_commit(lambda: _sensor_ids_remember_many(created))
    return found


def sensor_ids_forget(*, device_id: int | None = None) -> None:
    if device_id is None:
        _sensor_id_cache.clear()
        return
    for cached in [cached for cached in _sensor_id_cache if cached[0] == device_id]:
        del _sensor_id_cache[cached]


def _sensor_ids_remember(device_id: int, ids: dict[str, int]) -> None:
    _sensor_ids_remember_many({(device_id, key): sensor_id for key, sensor_id in ids.items()})


def _sensor_ids_remember_many(ids: dict[tuple[int, str], int]) -> None:
    if len(_sensor_id_cache) > SENSOR_ID_CACHE_SIZE:
        _sensor_id_cache.clear()
    _sensor_id_cache.update(ids)


def _default_unit(device: Device, key: str) -> str:
    return DeviceConfig.of(device.config).unit_of(key, default_sensor=DEFAULT_SENSOR)


@transaction.atomic
def rollups_rebuild(*, sensor_ids: Sequence[int]) -> None:
    """Recompute the rollups and counters of these sensors from their raw readings:
    after a bulk load that bypassed ingest, or after deleting readings."""
    storage.rollups_rebuild(sensor_ids=list(sensor_ids))
