#!/usr/bin/env python
"""Retention by weekly partition drop beside the batched DELETE, and ingest and query
before and after partitioning, in one run on one database (PostgreSQL):

  1. migrate to the plain tables (telemetry 0002); load R readings spread over the last
     37 days across S sensors, with their rollups
  2. plain: ingest rate (the ingest statement, 1,000-reading batches, one commit each),
     query times (the bucketed series of 30 days and of one day, a raw 15-minute range),
     then `readings_prune` with RETENTION_DAYS=7: the month goes by batched DELETE
  3. load the same month again; migrate to the partitions (0003), timed, rows counted
  4. plain beside partitioned in alternation, batch by batch and query by query (plain
     copies in a schema of their own): ab_ingest_ratio (partitioned rate / plain rate)
     and ab_query_*_ratio (partitioned time / plain time), the figures least moved by
     other work on the machine
  5. partitioned: the same ingest and queries, then the same `readings_prune`: whole
     weeks dropped, the week the cutoff falls in deleted in batches

Ingest is measured 3 times, queries 30 times (10 quick), the best kept, since other work on the
machine only ever makes a run slower. Ratios (after / before) are the figures to read;
the absolute numbers are noisy on a shared machine.

    python bench/retention.py --quick   # 1M readings: 2 minutes idle, 5 on a busy machine
    python bench/retention.py           # 10M readings
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "iotsite_bench_retention"
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
DAYS = 37
RETENTION_DAYS = 7
BATCH = 1000


def log(message: str) -> None:
    print(f"[retention] {message}", file=sys.stderr, flush=True)


def django_setup() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ.update({"DATABASE_URL": BENCH_URL, "DEBUG": "false", "SECRET_KEY": "bench-" + "k" * 40})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iotsite.settings")
    os.environ.pop("DATABASE_REPLICA_URLS", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("migrate", "telemetry", "0002", verbosity=0)


def make_sensors(count: int) -> list[tuple[int, int]]:
    """(device id, sensor id) of `count` devices with one sensor each."""
    from django.contrib.auth import get_user_model

    from devices.services import device_create
    from telemetry.models import Sensor

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    pairs = []
    for i in range(count):
        device, _token = device_create(owner=user, name=f"bench-{i}", type="generic")
        pairs.append((device.pk, Sensor.objects.create(device=device, key="value").pk))
    return pairs


def load_month(sensor_ids: list[int], rows: int, start: datetime, end: datetime) -> None:
    """`rows` readings evenly over [start, end) across the sensors, rollups rebuilt."""
    from telemetry.services import rollups_rebuild

    per_sensor = rows // len(sensor_ids)
    step = (end - start) / per_sensor
    with psycopg.connect(BENCH_URL, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO telemetry_reading (sensor_id, ts, value) "
            "SELECT s, %s + i * %s, cos(i / 300.0) * 5 + s FROM unnest(%s::bigint[]) s, generate_series(0, %s - 1) i",
            (start, step, sensor_ids, per_sensor),
        )
    rollups_rebuild(sensor_ids=sensor_ids)
    with psycopg.connect(BENCH_URL, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def ingest_rate(pairs: list[tuple[int, int]], start: datetime, batches: int) -> float:
    """Readings per second through the ingest statement: 1,000-reading batches, one
    sensor each, a commit each; the best of 3 rounds over fresh times."""
    from django.db import transaction

    from telemetry import storage

    best = 0.0
    for round_ in range(3):
        timed = 0.0
        for n in range(batches):
            device_id, sensor_id = pairs[n % len(pairs)]
            first = start + timedelta(seconds=(round_ * batches + n) * BATCH)
            rows = [(sensor_id, first + timedelta(seconds=i), float(i % 50)) for i in range(BATCH)]
            began = time.perf_counter()
            with transaction.atomic():
                storage.readings_store(device_id=device_id, rows=rows, received_at=first)
            timed += time.perf_counter() - began
        best = max(best, batches * BATCH / timed)
    return best


def interleaved(pairs, sensor_id: int, now: datetime, batches: int, repeats: int) -> dict[str, float]:
    """Plain beside partitioned in alternation, so that both see the same load on the
    machine: plain copies of the readings and minute rollups (same rows, same indexes)
    in a schema `plain` that comes first on the search path for the plain turns. Ingest
    alternates batch by batch (same rows into each), queries call by call; returns the
    partitioned/plain ratios of the summed ingest time and of the fastest query times."""
    from django.db import connection, transaction

    from telemetry import storage
    from telemetry.models import Sensor
    from telemetry.selectors import reading_series

    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS plain CASCADE; CREATE SCHEMA plain")
        for table in ("telemetry_reading", "telemetry_minuterollup"):
            cursor.execute(f"CREATE TABLE plain.{table} (LIKE public.{table} INCLUDING ALL)")
            # As the real tables: LIKE copies the keys but not the foreign key.
            cursor.execute(
                f"ALTER TABLE plain.{table} ADD FOREIGN KEY (sensor_id) REFERENCES public.telemetry_sensor (id) "
                "DEFERRABLE INITIALLY DEFERRED"
            )
            cursor.execute(f"INSERT INTO plain.{table} SELECT * FROM public.{table}")
            cursor.execute(f"ANALYZE plain.{table}")

    def on(schema: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET search_path = plain, public" if schema == "plain" else "SET search_path = public")

    spent = {"plain": 0.0, "partitioned": 0.0}
    first = now + timedelta(days=2)
    for n in range(batches * 3):
        device_id, batch_sensor = pairs[n % len(pairs)]
        start = first + timedelta(seconds=n * BATCH)
        rows = [(batch_sensor, start + timedelta(seconds=i), float(i % 50)) for i in range(BATCH)]
        for schema in ("plain", "partitioned") if n % 2 else ("partitioned", "plain"):
            on(schema)
            began = time.perf_counter()
            with transaction.atomic():
                storage.readings_store(device_id=device_id, rows=rows, received_at=start)
            spent[schema] += time.perf_counter() - began
    figures = {"ab_ingest_ratio": round(spent["plain"] / spent["partitioned"], 3)}
    sensor = Sensor.objects.get(pk=sensor_id)
    spans = {
        "ab_query_1d": (now - timedelta(days=1, hours=3), now - timedelta(hours=3)),
        "ab_query_raw_15min": (now - timedelta(days=2, minutes=15), now - timedelta(days=2)),
    }
    for name, (start, end) in spans.items():
        best = {"plain": float("inf"), "partitioned": float("inf")}
        for _ in range(repeats):
            for schema in best:
                on(schema)
                began = time.perf_counter()
                reading_series(sensor=sensor, start=start, end=end, points=1000)
                best[schema] = min(best[schema], time.perf_counter() - began)
        figures[f"{name}_ratio"] = round(best["partitioned"] / best["plain"], 3)
    on("partitioned")
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA plain CASCADE")
    return figures


def query_ms(sensor_id: int, now: datetime, repeats: int) -> dict[str, float]:
    """Milliseconds of the series behind the plots: the fastest of `repeats` (other work
    on the machine only adds to a timing; the 30-day series reads the hour rollup, which
    partitioning leaves as it was: a control for that noise)."""
    from telemetry.models import Sensor
    from telemetry.selectors import reading_series

    sensor = Sensor.objects.get(pk=sensor_id)
    spans = {
        "query_30d_ms": (now - timedelta(days=30), now),
        "query_1d_ms": (now - timedelta(days=1, hours=3), now - timedelta(hours=3)),
        "query_raw_15min_ms": (now - timedelta(days=2, minutes=15), now - timedelta(days=2)),
    }
    figures = {}
    for name, (start, end) in spans.items():
        timings = []
        for _ in range(repeats):
            began = time.perf_counter()
            reading_series(sensor=sensor, start=start, end=end, points=1000)
            timings.append((time.perf_counter() - began) * 1000)
        figures[name] = round(min(timings), 2)
    return figures


def prune(now: datetime) -> tuple[float, int]:
    from django.conf import settings

    from telemetry.retention import readings_prune

    settings.RETENTION_DAYS = RETENTION_DAYS
    began = time.perf_counter()
    result = readings_prune(now=now)
    return time.perf_counter() - began, result.readings


def reading_count() -> int:
    with psycopg.connect(BENCH_URL) as connection:
        row = connection.execute("SELECT count(*) FROM telemetry_reading").fetchone()
    return row[0] if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1M readings instead of 10M")
    parser.add_argument("--readings", type=int, help="readings in the month to prune (default 10M, 1M quick)")
    parser.add_argument("--sensors", type=int, default=100)
    args = parser.parse_args()
    month_rows = args.readings or (1_000_000 if args.quick else 10_000_000)
    batches, repeats = (20, 10) if args.quick else (100, 30)

    django_setup()
    from django.core.management import call_command

    from telemetry import storage

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=DAYS)
    cutoff = now - timedelta(days=RETENTION_DAYS)
    pairs = make_sensors(args.sensors)
    sensor_ids = [sensor_id for _device_id, sensor_id in pairs]
    # The month to prune, and the week kept, loaded as one spread so both phases match.
    total_rows = month_rows * DAYS // (DAYS - RETENTION_DAYS)
    log(f"loading {total_rows:,} readings over {DAYS} days, {len(sensor_ids)} sensors (plain tables)")
    load_month(sensor_ids, total_rows, start, now)
    figures: dict[str, float | int | str] = {"readings_loaded": reading_count(), "sensors": len(sensor_ids)}

    log("plain: ingest, queries")
    figures["ingest_rows_per_s_plain"] = round(ingest_rate(pairs, now + timedelta(hours=1), batches))
    for name, value in query_ms(sensor_ids[0], now, repeats).items():
        figures[f"{name}_plain"] = value
    log("plain: prune (batched DELETE)")
    seconds, pruned = prune(now)
    figures.update(prune_delete_s=round(seconds, 2), prune_delete_rows=pruned)

    log("loading the pruned month again")
    ingested_plain = reading_count() - (int(figures["readings_loaded"]) - pruned)
    with psycopg.connect(BENCH_URL, autocommit=True) as connection:
        connection.execute("TRUNCATE telemetry_reading, telemetry_minuterollup, telemetry_hourrollup")
    load_month(sensor_ids, total_rows, start, now)
    before_migration = reading_count()
    log("migrating to weekly partitions")
    began = time.perf_counter()
    call_command("migrate", "telemetry", verbosity=0)
    figures["migrate_s"] = round(time.perf_counter() - began, 2)
    figures["migrate_rows"] = before_migration
    figures["migrate_rows_lost"] = before_migration - reading_count()
    assert storage.readings_partitioned()

    log("plain beside partitioned, in alternation: ingest, queries")
    figures.update(interleaved(pairs, sensor_ids[0], now, batches, repeats))
    log("partitioned: ingest, queries")
    figures["ingest_rows_per_s_partitioned"] = round(ingest_rate(pairs, now + timedelta(hours=1), batches))
    for name, value in query_ms(sensor_ids[0], now, repeats).items():
        figures[f"{name}_partitioned"] = value
    log("partitioned: prune (whole weeks dropped, the edge in batches)")
    weeks_before = len(storage.weeks_droppable(before=cutoff))
    seconds, pruned = prune(now)
    figures.update(prune_drop_s=round(seconds, 2), prune_drop_rows=pruned, weeks_dropped=weeks_before)
    figures["ingested_per_phase"] = ingested_plain

    figures["prune_speedup"] = round(float(figures["prune_delete_s"]) / max(float(figures["prune_drop_s"]), 1e-3), 1)
    figures["ingest_ratio"] = round(
        float(figures["ingest_rows_per_s_partitioned"]) / float(figures["ingest_rows_per_s_plain"]), 3
    )
    for name in ("query_30d_ms", "query_1d_ms", "query_raw_15min_ms"):
        figures[f"{name}_ratio"] = round(float(figures[f"{name}_partitioned"]) / float(figures[f"{name}_plain"]), 3)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
