"""Telemetry's hand-written SQL: the one seam between telemetry and its database.

Everything else in telemetry reads and writes through these functions or the ORM, never
through SQL of its own. Each function picks the module of the database in use:
`postgresql.py` holds the hand-tuned statements of the hot paths (ingest, rollups,
buckets, export); `sqlite.py` holds what SQLite needs for `make run` and the tests, kept plain.
A schema change touches the model, its migration and these two modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import ModuleType

from django.db import connection

from telemetry.storage import postgresql, sqlite
from telemetry.storage.shared import BucketRow, buckets_calendar, buckets_fixed, rollups_rebuild_sql

# One row to store: (sensor id, time, value).
Row = tuple[int, datetime, float]

__all__ = [
    "BucketRow",
    "Row",
    "buckets",
    "calendar_buckets",
    "export_csv_rows",
    "readings_estimated_count",
    "readings_store",
]


def _engine() -> ModuleType:
    return postgresql if connection.vendor == "postgresql" else sqlite


def readings_store(*, rows: list[Row], seen: dict[int, datetime]) -> set[tuple[int, datetime]] | None:
    """Insert the rows (the first value for a sensor and time stands: the earlier row
    in `rows` wins), fold those really inserted into the minute and hour rollups, update
    the sensors' counters and latest values and each device's last_seen_at (`seen`:
    device id → time), in the caller's transaction. The rows may belong to several
    devices (a group commit). None when every row went in; else the (sensor id, time)
    of those that did."""
    return _engine().readings_store(rows=rows, seen=seen)


def rollups_rebuild(*, sensor_ids: list[int]) -> None:
    """Recompute these sensors' rollups and counters from their raw readings."""
    rollups_rebuild_sql(_engine(), sensor_ids)


def buckets(*, sensor_id: int, start: datetime, end: datetime, width: int, source: str) -> list[BucketRow]:
    """(bucket start, min, max, sum, count) per `width` seconds, aligned to the epoch."""
    return buckets_fixed(_engine(), sensor_id, start, end, width, source)


def calendar_buckets(*, sensor_id: int, boundaries: list[datetime], source: str) -> list[BucketRow]:
    """(bucket start, min, max, sum, count) between consecutive boundaries."""
    return buckets_calendar(sensor_id, boundaries, source)


def readings_estimated_count() -> int | None:
    """The number of readings as the planner estimates it (instant), or None where the
    database keeps no estimate."""
    return _engine().readings_estimated_count()


def export_csv_rows(
    *, sensor_id: int, device_id: int, device_name: str, key: str, start: datetime | None, end: datetime | None
) -> Iterator[bytes]:
    """A sensor's readings in [start, end) as CSV lines in time order,
    `device_id,device_name,sensor,timestamp,value`, in blocks."""
    return _engine().export_csv_rows(
        sensor_id=sensor_id, device_id=device_id, device_name=device_name, key=key, start=start, end=end
    )
