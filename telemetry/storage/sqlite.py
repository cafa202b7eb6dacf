"""SQLite: what `make run` and the tests need, kept plain."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from telemetry.storage.shared import time_filter

# SQLite caps the bound parameters of one statement; 3 per reading.
_SQLITE_ROWS_PER_INSERT = 300


def readings_store(
    *, rows: list[tuple[int, datetime, float]], seen: dict[int, datetime]
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
        cursor.executemany(
            "UPDATE devices_device SET last_seen_at = %s WHERE id = %s",
            [(adapt(received_at), device_id) for device_id, received_at in sorted(seen.items())],
        )
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


def epoch_sql(column: str) -> str:
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


# Django keeps SQLite datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC.
_TRUNCATE_FORMATS = {"minute": "%%Y-%%m-%%d %%H:%%M:00", "hour": "%%Y-%%m-%%d %%H:00:00"}


def truncate_sql(column: str, unit: str) -> str:
    return f"strftime('{_TRUNCATE_FORMATS[unit]}', {column})"


def readings_estimated_count() -> None:
    return None  # SQLite keeps no estimate; the admin counts


FETCH_ROWS = 5000


def export_csv_rows(
    *,
    sensor_id: int,
    device_id: int,
    device_name: str,
    key: str,
    start: datetime | None,
    end: datetime | None,
    db: BaseDatabaseWrapper,
) -> Iterator[bytes]:
    where, params = time_filter(start, end, db)
    prefix = _csv_prefix(device_id, device_name, key)
    with db.cursor() as cursor:
        cursor.execute(
            # As text: no datetime parsing per row, just string slicing.
            f"SELECT CAST(ts AS TEXT), value FROM telemetry_reading WHERE sensor_id = %s{where} ORDER BY ts",
            [sensor_id, *params],
        )
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield "".join(f"{prefix}{_sqlite_iso(ts)},{value!r}\n" for ts, value in rows).encode()


def _csv_prefix(device_id: int, device_name: str, key: str) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow([device_id, device_name, key])
    return line.getvalue() + ","


def _sqlite_iso(ts: str) -> str:
    # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; answer like PostgreSQL does.
    fraction = ts[20:26].ljust(6, "0") if len(ts) > 19 else "000000"
    return f"{ts[:10]}T{ts[11:19]}.{fraction}Z"
