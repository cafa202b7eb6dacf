"""Writing readings: the one ingest path shared by HTTP, MQTT and image uploads."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import psycopg
from django.db import IntegrityError, OperationalError, connection, transaction

from devices.models import Device
from telemetry import hooks
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
    store = _store_postgresql if connection.vendor == "postgresql" else _store_sqlite
    with transaction.atomic():
        # None: every row went in; else the (sensor id, ts) of those that did.
        inserted = store(device.pk, rows, received_at)
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
    config = device.config if isinstance(device.config, dict) else {}
    units = config.get("units")
    if isinstance(units, dict) and isinstance(units.get(key), str):
        return units[key][:32]
    if key == DEFAULT_SENSOR and isinstance(config.get("unit"), str):
        return config["unit"][:32]
    return ""


# One statement, one round trip: insert the readings, fold the ones really inserted
# into both rollups, and keep the sensors' counters and the device's last_seen_at.
# Data-modifying CTEs always run to completion, referenced or not.
_POSTGRESQL_INGEST = """
WITH incoming AS (
    -- The arrays are bound in binary: text would cost ~6 ms of quoting per 1,000 rows.
    SELECT * FROM unnest(%(sensor_ids)b::bigint[], %(ts)b::timestamptz[], %(values)b::float8[])
        AS r(sensor_id, ts, value)
), inserted AS (
    INSERT INTO telemetry_reading (sensor_id, ts, value)
    SELECT sensor_id, ts, value FROM incoming
    ON CONFLICT (sensor_id, ts) DO NOTHING
    RETURNING sensor_id, ts, value
), minute_rollup AS (
    INSERT INTO telemetry_minuterollup AS m (sensor_id, bucket, min, max, sum, count)
    SELECT sensor_id, date_trunc('minute', ts), min(value), max(value), sum(value), count(*)
    FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (sensor_id, bucket) DO UPDATE SET
        min = LEAST(m.min, EXCLUDED.min), max = GREATEST(m.max, EXCLUDED.max),
        sum = m.sum + EXCLUDED.sum, count = m.count + EXCLUDED.count
), hour_rollup AS (
    INSERT INTO telemetry_hourrollup AS h (sensor_id, bucket, min, max, sum, count)
    SELECT sensor_id, date_trunc('hour', ts), min(value), max(value), sum(value), count(*)
    FROM inserted GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (sensor_id, bucket) DO UPDATE SET
        min = LEAST(h.min, EXCLUDED.min), max = GREATEST(h.max, EXCLUDED.max),
        sum = h.sum + EXCLUDED.sum, count = h.count + EXCLUDED.count
), latest AS (
    SELECT DISTINCT ON (sensor_id) sensor_id, ts, value, count(*) OVER (PARTITION BY sensor_id) AS n
    FROM inserted ORDER BY sensor_id, ts DESC
), sensors AS (
    -- An old reading sent late counts, but does not become the latest value.
    UPDATE telemetry_sensor s SET
        reading_count = s.reading_count + latest.n,
        last_value = CASE WHEN s.last_ts IS NULL OR latest.ts >= s.last_ts THEN latest.value ELSE s.last_value END,
        last_ts = GREATEST(s.last_ts, latest.ts)
    FROM latest WHERE s.id = latest.sensor_id
), device AS (
    UPDATE devices_device SET last_seen_at = %(received_at)s WHERE id = %(device_id)s
)
SELECT count(*),
    -- Which rows went in, only when some did not (duplicates): rare, and costly to ship.
    CASE WHEN count(*) < %(row_count)s THEN array_agg(sensor_id) END,
    CASE WHEN count(*) < %(row_count)s THEN array_agg(ts) END
FROM inserted
"""


def _store_postgresql(
    device_id: int, rows: list[tuple[int, datetime, float]], received_at: datetime
) -> set[tuple[int, datetime]] | None:
    connection.ensure_connection()
    sensor_ids, timestamps, values = (list(column) for column in zip(*rows, strict=True))
    # A plain psycopg cursor binds the arrays as parameters (Django's client-side
    # binding would quote 30,000 values into the SQL text).
    # wrap_database_errors: psycopg's errors become Django's, as from any cursor.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            _POSTGRESQL_INGEST,
            {
                "sensor_ids": sensor_ids,
                "ts": timestamps,
                "values": values,
                "received_at": received_at,
                "device_id": device_id,
                "row_count": len(rows),
            },
        )
        count, inserted_sensor_ids, inserted_ts = cursor.fetchone() or (0, None, None)
    return None if count == len(rows) else set(zip(inserted_sensor_ids or [], inserted_ts or [], strict=True))


# SQLite caps the bound parameters of one statement; 3 per reading.
_SQLITE_ROWS_PER_INSERT = 300


def _store_sqlite(
    device_id: int, rows: list[tuple[int, datetime, float]], received_at: datetime
) -> set[tuple[int, datetime]] | None:
    adapt = connection.ops.adapt_datetimefield_value
    # RETURNING gives ts back as a naive UTC datetime (Django's SQLite converters).
    by_key = {(sensor_id, ts.replace(tzinfo=None)): (sensor_id, ts, value) for sensor_id, ts, value in reversed(rows)}
    inserted: list[tuple[int, datetime, float]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_INSERT]
            cursor.execute(
                "INSERT INTO telemetry_reading (sensor_id, ts, value) VALUES "
                + ",".join(["(%s, %s, %s)"] * len(chunk))
                + " ON CONFLICT (sensor_id, ts) DO NOTHING RETURNING sensor_id, ts",
                [param for sensor_id, ts, value in chunk for param in (sensor_id, adapt(ts), value)],
            )
            inserted.extend(by_key[(sensor_id, ts)] for sensor_id, ts in cursor.fetchall())
        for table, unit in (("telemetry_minuterollup", "minute"), ("telemetry_hourrollup", "hour")):
            cursor.executemany(
                f"INSERT INTO {table} (sensor_id, bucket, min, max, sum, count) VALUES (%s, %s, %s, %s, %s, %s) "
                'ON CONFLICT (sensor_id, bucket) DO UPDATE SET min = min("min", excluded."min"), '
                'max = max("max", excluded."max"), sum = sum + excluded.sum, count = count + excluded.count',
                [(sensor_id, adapt(bucket), *stats) for (sensor_id, bucket), stats in _rollup(inserted, unit).items()],
            )
        cursor.executemany(
            "UPDATE telemetry_sensor SET reading_count = reading_count + %s, "
            "last_value = CASE WHEN last_ts IS NULL OR last_ts <= %s THEN %s ELSE last_value END, "
            "last_ts = CASE WHEN last_ts IS NULL OR last_ts <= %s THEN %s ELSE last_ts END WHERE id = %s",
            [
                (count, adapt(ts), value, adapt(ts), adapt(ts), sensor_id)
                for sensor_id, (count, ts, value) in _latest_per_sensor(inserted).items()
            ],
        )
        cursor.execute("UPDATE devices_device SET last_seen_at = %s WHERE id = %s", [adapt(received_at), device_id])
    if len(inserted) == len(rows):
        return None
    return {(sensor_id, ts) for sensor_id, ts, _value in inserted}


def _rollup(rows: list[tuple[int, datetime, float]], unit: str) -> dict[tuple[int, datetime], list[float]]:
    """min, max, sum, count per (sensor, bucket) of a batch."""
    drop: dict[str, int] = {
        "minute": {"second": 0, "microsecond": 0},
        "hour": {"minute": 0, "second": 0, "microsecond": 0},
    }[unit]
    buckets: dict[tuple[int, datetime], list[float]] = {}
    for sensor_id, ts, value in rows:
        stats = buckets.get(key := (sensor_id, ts.replace(**drop)))  # type: ignore[arg-type]
        if stats is None:
            buckets[key] = [value, value, value, 1]
        else:
            stats[0] = min(stats[0], value)
            stats[1] = max(stats[1], value)
            stats[2] += value
            stats[3] += 1
    return buckets


def _latest_per_sensor(rows: list[tuple[int, datetime, float]]) -> dict[int, tuple[int, datetime, float]]:
    counts: dict[int, int] = defaultdict(int)
    latest: dict[int, tuple[datetime, float]] = {}
    for sensor_id, ts, value in rows:
        counts[sensor_id] += 1
        if sensor_id not in latest or ts >= latest[sensor_id][0]:
            latest[sensor_id] = (ts, value)
    return {sensor_id: (counts[sensor_id], *latest[sensor_id]) for sensor_id in latest}


_ROLLUP_BUCKET_SQL = {
    ("postgresql", "minute"): "date_trunc('minute', ts)",
    ("postgresql", "hour"): "date_trunc('hour', ts)",
    # Django keeps SQLite datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC.
    ("sqlite", "minute"): "strftime('%%Y-%%m-%%d %%H:%%M:00', ts)",
    ("sqlite", "hour"): "strftime('%%Y-%%m-%%d %%H:00:00', ts)",
}


@transaction.atomic
def rollups_rebuild(*, sensor_ids: Sequence[int]) -> None:
    """Recompute the rollups and counters of these sensors from their raw readings:
    after a bulk load that bypassed ingest, or after deleting readings."""
    sensor_ids = list(sensor_ids)
    placeholders = ", ".join(["%s"] * len(sensor_ids))
    with connection.cursor() as cursor:
        for table, unit in (("telemetry_minuterollup", "minute"), ("telemetry_hourrollup", "hour")):
            bucket = _ROLLUP_BUCKET_SQL[(connection.vendor, unit)]
            cursor.execute(f"DELETE FROM {table} WHERE sensor_id IN ({placeholders})", sensor_ids)
            cursor.execute(
                f"INSERT INTO {table} (sensor_id, bucket, min, max, sum, count) "
                f"SELECT sensor_id, {bucket}, min(value), max(value), sum(value), count(*) "
                f"FROM telemetry_reading WHERE sensor_id IN ({placeholders}) GROUP BY 1, 2",
                sensor_ids,
            )
        cursor.execute(
            "UPDATE telemetry_sensor SET "
            "reading_count = (SELECT count(*) FROM telemetry_reading r WHERE r.sensor_id = telemetry_sensor.id), "
            "last_ts = (SELECT max(ts) FROM telemetry_reading r WHERE r.sensor_id = telemetry_sensor.id), "
            "last_value = (SELECT value FROM telemetry_reading r WHERE r.sensor_id = telemetry_sensor.id "
            "ORDER BY ts DESC LIMIT 1) "
            f"WHERE id IN ({placeholders})",
            sensor_ids,
        )
