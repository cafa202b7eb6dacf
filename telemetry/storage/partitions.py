"""PostgreSQL: readings and minute rollups in weekly range partitions on their time.

`telemetry_reading` (on ts) and `telemetry_minuterollup` (on bucket) are partitioned by
week, Monday 00:00 UTC to the next Monday, one table per week named
`<table>_pYYYYMMDD` after its first day, plus a `<table>_default` partition that holds
whatever falls outside every week (a late backfill, a device with a wrong clock) so an
insert never fails for want of a partition. Retention then drops a whole week at once
instead of deleting it row by row.

Week bounds are whole hours, so a partition never cuts an hour or minute bucket in two
and the retention rule (cutoffs are the start of an hour) stays exact. The unique
(sensor_id, ts) and (sensor_id, bucket) keys contain the partition key, so they hold
across partitions and stay the conflict targets of the ingest statement, unchanged.

SQLite keeps plain tables: nothing here runs there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

WEEK = timedelta(days=7)
# Time column of each partitioned table.
PARTITIONED = {"telemetry_reading": "ts", "telemetry_minuterollup": "bucket"}
# Weeks created ahead of now, so the week that starts next never lands in the default partition.
WEEKS_AHEAD = 4
# Creating, attaching or dropping a partition briefly locks its parent; ingest must not
# queue behind it for long. A run that cannot get the lock in time tries again next run.
LOCK_TIMEOUT = "5s"

_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    table: str
    name: str
    start: datetime
    end: datetime


def week_start(ts: datetime) -> datetime:
    """Monday 00:00 UTC of the week holding ts."""
    day = ts.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_p{start:%Y%m%d}"


def is_partitioned(table: str = "telemetry_reading") -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid WHERE c.relname = %s", [table]
        )
        return cursor.fetchone() is not None


def partitions_of(table: str) -> list[Partition]:
    """The weekly partitions of a table, oldest first (not the default partition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        if match := _BOUND.search(bound):
            start, end = (datetime.fromisoformat(text).astimezone(UTC) for text in match.groups())
            found.append(Partition(table, name, start, end))
    return sorted(found, key=lambda partition: partition.start)


def partitions_create(*, start: datetime, end: datetime) -> list[str]:
    """Create the missing weekly partitions of both tables from the week holding start
    to the week holding end. Rows of those weeks already in the default partition move
    into the new partition. Returns the names created."""
    created = []
    for table, column in PARTITIONED.items():
        existing = {partition.start for partition in partitions_of(table)}
        week = week_start(start)
        while week <= end:
            if week not in existing:
                _partition_create(table, column, week)
                created.append(partition_name(table, week))
            week += WEEK
    return created


def partitions_ensure(*, now: datetime) -> list[str]:
    """This week's and the next WEEKS_AHEAD weeks' partitions, and one for every week
    that has rows waiting in the default partition (a backfill)."""
    created = partitions_create(start=now, end=now + WEEKS_AHEAD * WEEK)
    for table, column in PARTITIONED.items():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT date_trunc('week', {column} AT TIME ZONE 'UTC') FROM {table}_default")
            weeks = [row[0].replace(tzinfo=UTC) for row in cursor.fetchall()]
        existing = {partition.start for partition in partitions_of(table)}
        for week in sorted(set(weeks) - existing):
            _partition_create(table, column, week)
            created.append(partition_name(table, week))
    return created


def _partition_create(table: str, column: str, week: datetime) -> None:
    name = partition_name(table, week)
    end = week + WEEK
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # A table of its own first, attached after: ATTACH PARTITION takes a lock on the
        # parent that lets ingest go on, where CREATE TABLE ... PARTITION OF would not.
        cursor.execute(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)")
        # The rows of that week that went to the default partition meanwhile move in,
        # or attaching would fail; the CHECK spares the attach a scan of the new table.
        cursor.execute(
            f"WITH moved AS (DELETE FROM {table}_default WHERE {column} >= %s AND {column} < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved",
            [week, end],
        )
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bound CHECK ({column} >= %s AND {column} < %s)",
            [week, end],
        )
        cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [week, end])
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bound")


def weeks_droppable(*, before: datetime) -> list[datetime]:
    """Starts of the weeks that end at or before `before` and still have a partition."""
    starts = {p.start for table in PARTITIONED for p in partitions_of(table) if p.end <= before}
    return sorted(starts)


def week_drop(week: datetime) -> tuple[int, int]:
    """Drop one week of readings and of minute rollups, taking each sensor's counter down
    by the readings it loses, in one transaction. Returns (readings, minute rollups)."""
    readings = minute_rollups = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        # A table with foreign-key checks still deferred in this transaction cannot be
        # dropped: run them now (only an enclosing transaction, as in tests, has any).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in PARTITIONED:
            name = partition_name(table, week)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                continue
            # Nothing can insert into the week while it is counted and dropped; ingest
            # of other weeks goes on (an insert locks only the partitions it writes to).
            cursor.execute(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
            if table == "telemetry_reading":
                # A sequential count of one week: far cheaper than deleting it.
                cursor.execute(
                    f"WITH lost AS (SELECT sensor_id, count(*) AS n FROM {name} GROUP BY sensor_id) "
                    "UPDATE telemetry_sensor s SET reading_count = greatest(s.reading_count - lost.n, 0) "
                    "FROM lost WHERE s.id = lost.sensor_id RETURNING lost.n"
                )
                readings = sum(n for (n,) in cursor.fetchall())
            else:
                cursor.execute(f"SELECT count(*) FROM {name}")
                minute_rollups = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {name}")
    return readings, minute_rollups
