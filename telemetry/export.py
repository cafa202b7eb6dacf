"""The CSV export: every reading of the user's devices, streamed in constant memory.

Each sensor's rows come from telemetry/storage: on PostgreSQL out of a COPY (the
database formats the CSV; Python only forwards blocks), on SQLite from a cursor read in
chunks.

Sensor keys are chosen by whoever holds a device token, and a spreadsheet opening the
file runs a cell such as `=HYPERLINK(...)` or `-2+3+cmd|...` as a formula. So the
text cells (device name, sensor) that start like a formula get a leading `'`
(OWASP's CSV injection rule) on both paths, unless the whole cell is a plain number;
the value column is always a number. `?raw=true` asks for the cells as stored.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS

from telemetry import storage
from telemetry.models import Sensor

HEADER = b"device_id,device_name,sensor,timestamp,value\n"
CHUNK_BYTES = 256 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """The cell with a leading ' when a spreadsheet would take it for a formula."""
    if cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


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
    raw: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[bytes]:
    """CSV blocks of about CHUNK_BYTES: device_id,device_name,sensor,timestamp,value;
    text cells made spreadsheet-safe unless `raw`. `using`: the database alias to read
    (a replica's, chosen when the export starts: the blocks are read after the view
    has returned)."""
    yield HEADER
    pending = bytearray()
    for sensor_id, sensor_device_id, device_name, key in list(
        export_sensors(user=user, device_id=device_id, sensor=sensor, using=using)
    ):
        if not raw:
            device_name, key = spreadsheet_safe(device_name), spreadsheet_safe(key)
        rows = storage.export_csv_rows(
            sensor_id=sensor_id,
            device_id=sensor_device_id,
            device_name=device_name,
            key=key,
            start=start,
            end=end,
            using=using,
        )
        for block in rows:
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
