"""The CSV export: every reading of the user's devices, streamed in constant memory.

On PostgreSQL each sensor's rows come out of a COPY (the database formats the CSV;
Python only forwards blocks), on SQLite from a cursor read in chunks.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from telemetry.models import Sensor

HEADER = b"device_id,device_name,sensor,timestamp,value\n"
CHUNK_BYTES = 256 * 1024
SQLITE_FETCH_ROWS = 5000


def export_sensors(*, user, device_id: int | None = None, sensor: str | None = None, using: str = DEFAULT_DB_ALIAS):
    sensors = Sensor.objects.using(using).filter(device__owner=user)
    if device_id is not None:
        sensors = sensors.filter(device_id=device_id)
    if sensor:
        sensors = sensors.filter(key=sensor)
    return sensors.order_by("device_id", "key").values_list("id", "device_id", "device__name", "key")


def export_csv(
    *,
    user,
    device_id: int | None = None,
    sensor: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[bytes]:
    """CSV blocks of about CHUNK_BYTES: device_id,device_name,sensor,timestamp,value.
    `using`: the database alias to read (a replica's, chosen when the export starts,
    since the blocks are read after the view has returned)."""
    yield HEADER
    db = connections[using]
    rows_of: Callable[..., Iterator[bytes]] = _postgresql_rows if db.vendor == "postgresql" else _sqlite_rows
    pending = bytearray()
    for sensor_row in list(export_sensors(user=user, device_id=device_id, sensor=sensor, using=using)):
        for block in rows_of(db, *sensor_row, start, end):
            pending += block
            if len(pending) >= CHUNK_BYTES:
                yield bytes(pending)
                pending.clear()
    if pending:
        yield bytes(pending)


async def export_csv_async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The same blocks for an ASGI server. Given a sync iterator, Django's ASGI handler
    would first read it whole into memory; here each block is pulled in the request's
    own thread (thread-sensitive, so the database connection and the open COPY stay
    that thread's), one at a time."""
    next_block = sync_to_async(next, thread_sensitive=True)
    while (block := await next_block(chunks, None)) is not None:  # type: ignore[call-arg]
        yield block


def _csv_prefix(device_id: int, device_name: str, key: str) -> str:
    line = io.StringIO()
    csv.writer(line, lineterminator="").writerow([device_id, device_name, key])
    return line.getvalue() + ","


def _time_filter(db: BaseDatabaseWrapper, start: datetime | None, end: datetime | None) -> tuple[str, list]:
    clauses, params = [], []
    if start is not None:
        clauses.append("ts >= %s")
        params.append(db.ops.adapt_datetimefield_value(start))
    if end is not None:
        clauses.append("ts < %s")
        params.append(db.ops.adapt_datetimefield_value(end))
    return "".join(f" AND {clause}" for clause in clauses), params


def _postgresql_rows(
    db: BaseDatabaseWrapper, sensor_id: int, device_id: int, device_name: str, key: str, start, end
) -> Iterator[bytes]:
    time_filter, params = _time_filter(db, start, end)
    # Index telemetry_reading_sensor_ts_unique gives the rows in time order, no sort;
    # COPY's CSV quoting matches Python's csv module.
    query = sql.SQL(
        "COPY (SELECT {device_id}, {device_name}, {key},"
        " to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), value"
        " FROM telemetry_reading WHERE sensor_id = {sensor_id}"
        + time_filter.replace("%s", "{}")
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


def _sqlite_rows(
    db: BaseDatabaseWrapper, sensor_id: int, device_id: int, device_name: str, key: str, start, end
) -> Iterator[bytes]:
    time_filter, params = _time_filter(db, start, end)
    prefix = _csv_prefix(device_id, device_name, key)
    with db.cursor() as cursor:
        cursor.execute(
            # As text: no datetime parsing per row, just string slicing.
            f"SELECT CAST(ts AS TEXT), value FROM telemetry_reading WHERE sensor_id = %s{time_filter} ORDER BY ts",
            [sensor_id, *params],
        )
        while rows := cursor.fetchmany(SQLITE_FETCH_ROWS):
            yield "".join(f"{prefix}{_sqlite_iso(ts)},{value!r}\n" for ts, value in rows).encode()


def _sqlite_iso(ts: str) -> str:
    # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; answer like PostgreSQL does.
    fraction = ts[20:26].ljust(6, "0") if len(ts) > 19 else "000000"
    return f"{ts[:10]}T{ts[11:19]}.{fraction}Z"
