"""PostgreSQL: the hand-tuned statements of telemetry's hot paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from telemetry.models import Reading
from telemetry.storage.shared import time_filter

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
    -- One row per device (a group may hold several devices' readings), in id order.
    UPDATE devices_device d SET last_seen_at = seen.at
    FROM unnest(%(device_ids)b::bigint[], %(received_at)b::timestamptz[]) AS seen(id, at)
    WHERE d.id = seen.id
)
SELECT count(*),
    -- Which rows went in, only when some did not (duplicates): rare, and costly to ship.
    CASE WHEN count(*) < %(row_count)s THEN array_agg(sensor_id) END,
    CASE WHEN count(*) < %(row_count)s THEN array_agg(ts) END
FROM inserted
"""


def readings_store(
    *, rows: list[tuple[int, datetime, float]], seen: dict[int, datetime]
) -> set[tuple[int, datetime]] | None:
    connection.ensure_connection()
    device_ids = sorted(seen)
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
                "device_ids": device_ids,
                "received_at": [seen[device_id] for device_id in device_ids],
                "row_count": len(rows),
            },
        )
        count, inserted_sensor_ids, inserted_ts = cursor.fetchone() or (0, None, None)
    return None if count == len(rows) else set(zip(inserted_sensor_ids or [], inserted_ts or [], strict=True))


def epoch_sql(column: str) -> str:
    return f"floor(extract(epoch FROM {column}))::bigint"


def truncate_sql(column: str, unit: str) -> str:
    return f"date_trunc('{unit}', {column})"


def readings_estimated_count() -> int | None:
    with connection.cursor() as cursor:
        # A partitioned table keeps no estimate of its own: its partitions' add up.
        cursor.execute(
            "SELECT sum(greatest(c.reltuples, 0))::bigint FROM pg_class c WHERE c.relname = %s AND c.relkind = 'r' "
            "OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s))",
            [Reading._meta.db_table, Reading._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] is not None else None


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
    # Index telemetry_reading_sensor_ts_unique gives the rows in time order, no sort;
    # COPY's CSV quoting matches Python's csv module.
    query = sql.SQL(
        "COPY (SELECT {device_id}, {device_name}, {key},"
        " to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), value"
        " FROM telemetry_reading WHERE sensor_id = {sensor_id}"
        + where.replace("%s", "{}")
        + " ORDER BY ts) TO STDOUT (FORMAT csv)"
    ).format(
        *[sql.Literal(p) for p in params],
        device_id=sql.Literal(device_id),
        device_name=sql.Literal(device_name),
        key=sql.Literal(key),
        sensor_id=sql.Literal(sensor_id),
    )
    db.ensure_connection()
    with db.connection.cursor() as cursor, cursor.copy(query) as copy:
        yield from copy
