"""SQL that reads the same on both databases but for a time expression."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

BucketRow = tuple[Any, ...]  # (bucket start, min, max, sum, count)

SOURCES = {
    # table, time column, and the aggregates that combine its rows
    "raw": ("telemetry_reading", "ts", "min(value)", "max(value)", "sum(value)", "count(*)"),
    "minute": ("telemetry_minuterollup", "bucket", 'min("min")', 'max("max")', 'sum("sum")', 'sum("count")'),
    "hour": ("telemetry_hourrollup", "bucket", 'min("min")', 'max("max")', 'sum("sum")', 'sum("count")'),
}
ROLLUP_TABLES = (("telemetry_minuterollup", "minute"), ("telemetry_hourrollup", "hour"))


def buckets_fixed(
    engine: ModuleType, sensor_id: int, start: datetime, end: datetime, width: int, source: str, db: BaseDatabaseWrapper
) -> list[BucketRow]:
    table, column, *aggregates = SOURCES[source]
    # Whole buckets: the first may start before `start`, the last end after `end`.
    aligned_start = _epoch_floor(start, width)
    aligned_end = _epoch_floor(end - timedelta(microseconds=1), width) + timedelta(seconds=width)
    adapt = db.ops.adapt_datetimefield_value
    # Index <table>_sensor_(ts|bucket)_unique serves the range; one GROUP BY in the database.
    sql = (
        f"SELECT ({engine.epoch_sql(column)} / %s) * %s AS b, {', '.join(aggregates)} FROM {table} "
        f"WHERE sensor_id = %s AND {column} >= %s AND {column} < %s GROUP BY 1 ORDER BY 1"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [width, width, sensor_id, adapt(aligned_start), adapt(aligned_end)])
        return [(datetime.fromtimestamp(int(b), UTC), *rest) for b, *rest in cursor.fetchall()]


def buckets_calendar(
    sensor_id: int, boundaries: list[datetime], source: str, db: BaseDatabaseWrapper
) -> list[BucketRow]:
    table, column, *aggregates = SOURCES[source]
    adapt = db.ops.adapt_datetimefield_value
    spans = list(zip(boundaries, boundaries[1:], strict=False))
    values = ", ".join(["(%s, %s, %s)"] * len(spans))
    params: list[Any] = [p for i, (low, high) in enumerate(spans) for p in (i, adapt(low), adapt(high))]
    # One index range scan per bucket on <table>_sensor_(ts|bucket)_unique.
    sql = (
        f"WITH b(i, low, high) AS (VALUES {values}) "
        f"SELECT b.i, {', '.join(aggregates)} FROM b JOIN {table} r "
        f"ON r.sensor_id = %s AND r.{column} >= b.low AND r.{column} < b.high GROUP BY b.i ORDER BY b.i"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, [*params, sensor_id])
        return [(spans[i][0], *rest) for i, *rest in cursor.fetchall()]


def rollups_rebuild_sql(engine: ModuleType, sensor_ids: list[int]) -> None:
    placeholders = ", ".join(["%s"] * len(sensor_ids))
    with connection.cursor() as cursor:
        for table, unit in ROLLUP_TABLES:
            cursor.execute(f"DELETE FROM {table} WHERE sensor_id IN ({placeholders})", sensor_ids)
            cursor.execute(
                f"INSERT INTO {table} (sensor_id, bucket, min, max, sum, count) "
                f"SELECT sensor_id, {engine.truncate_sql('ts', unit)}, min(value), max(value), sum(value), count(*) "
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


def _epoch_floor(ts: datetime, width: int) -> datetime:
    seconds = math.floor(ts.timestamp() / width) * width
    return datetime.fromtimestamp(seconds, UTC)


def time_filter(start: datetime | None, end: datetime | None, db: BaseDatabaseWrapper) -> tuple[str, list]:
    """` AND ts >= %s AND ts < %s` for the bounds given, and their parameters."""
    clauses, params = [], []
    if start is not None:
        clauses.append("ts >= %s")
        params.append(db.ops.adapt_datetimefield_value(start))
    if end is not None:
        clauses.append("ts < %s")
        params.append(db.ops.adapt_datetimefield_value(end))
    return "".join(f" AND {clause}" for clause in clauses), params
