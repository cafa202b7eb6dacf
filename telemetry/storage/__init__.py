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

from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

from telemetry.storage import partitions, postgresql, sqlite
from telemetry.storage.partitions import WEEK
from telemetry.storage.shared import BucketRow, buckets_calendar, buckets_fixed, rollups_rebuild_sql

# One row to store: (sensor id, time, value).
Row = tuple[int, datetime, float]

__all__ = [
    "WEEK",
    "BucketRow",
    "Row",
    "buckets",
    "calendar_buckets",
    "export_csv_rows",
    "partitions_ensure",
    "readings_estimated_count",
    "readings_partitioned",
    "readings_store",
    "week_drop",
    "weeks_droppable",
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


def _read_connection() -> BaseDatabaseWrapper:
    # Where the ORM would read readings now: a replica inside iotsite.replicas'
    # reads_from_replica, else the primary.
    from telemetry.models import Reading

    return connections[router.db_for_read(Reading)]


def buckets(*, sensor_id: int, start: datetime, end: datetime, width: int, source: str) -> list[BucketRow]:
    """(bucket start, min, max, sum, count) per `width` seconds, aligned to the epoch."""
    return buckets_fixed(_engine(), sensor_id, start, end, width, source, _read_connection())


def calendar_buckets(*, sensor_id: int, boundaries: list[datetime], source: str) -> list[BucketRow]:
    """(bucket start, min, max, sum, count) between consecutive boundaries."""
    return buckets_calendar(sensor_id, boundaries, source, _read_connection())


def readings_estimated_count() -> int | None:
    """The number of readings as the planner estimates it (instant), or None where the
    database keeps no estimate."""
    return _engine().readings_estimated_count()


def export_csv_rows(
    *,
    sensor_id: int,
    device_id: int,
    device_name: str,
    key: str,
    start: datetime | None,
    end: datetime | None,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[bytes]:
    """A sensor's readings in [start, end) as CSV lines in time order,
    `device_id,device_name,sensor,timestamp,value`, in blocks, read from `using`."""
    return _engine().export_csv_rows(
        sensor_id=sensor_id,
        device_id=device_id,
        device_name=device_name,
        key=key,
        start=start,
        end=end,
        db=connections[using],
    )


def readings_partitioned() -> bool:
    """Whether readings are in weekly partitions (PostgreSQL after migration 0003)."""
    return partitions.is_partitioned("telemetry_reading")


def partitions_ensure(*, now: datetime) -> list[str]:
    """Create this week's and the coming weeks' partitions, and those of weeks whose rows
    wait in the default partition. Returns the names of the partitions created."""
    return partitions.partitions_ensure(now=now)


def weeks_droppable(*, before: datetime) -> list[datetime]:
    """Starts of the weeks wholly before `before` that still have partitions."""
    return partitions.weeks_droppable(before=before)


def week_drop(week: datetime) -> tuple[int, int]:
    """Drop one week's partitions; (readings, minute rollups) they held."""
    return partitions.week_drop(week)
