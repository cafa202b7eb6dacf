#!/usr/bin/env python
"""The batch path's statement: arrays bound in binary and `unnest` (what ingest does)
against COPY into a temporary staging table and the same statement reading from it;
beside them the raw COPY of bench/ingest.py (readings only: no rollups, counters or
duplicate check), the ceiling of any ingest path.

All three run on one connection, alternately, with the same 1,000-row batches (new rows
every time), each followed by a commit, so that load on the machine falls on both
alike. One JSON line: rows/s of each and the ratio copy/unnest.

    python bench/staging.py --quick
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import BATCH, BENCH_URL, T0, django_setup, fresh_database, log, make_devices  # noqa: E402

STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS incoming_readings (sensor_id bigint, ts timestamptz, value float8)
ON COMMIT DELETE ROWS
"""


def copy_statement() -> str:
    from telemetry.storage.postgresql import _POSTGRESQL_INGEST

    unnest = _POSTGRESQL_INGEST.split("), inserted AS (")[0]
    return _POSTGRESQL_INGEST.replace(unnest, "WITH incoming AS (SELECT sensor_id, ts, value FROM incoming_readings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 batches each")
    parser.add_argument("--batches", type=int)
    args = parser.parse_args()
    batches = args.batches or (100 if args.quick else 500)
    fresh_database()
    django_setup()
    from devices.models import Device
    from telemetry.services import sensor_ids_for
    from telemetry.storage.postgresql import _POSTGRESQL_INGEST

    device_id, _token = make_devices(1)[0]
    sensor_id = sensor_ids_for(device=Device.objects.get(pk=device_id), keys={"load"})["load"]
    with_copy = copy_statement()
    ways = ("unnest", "copy", "raw_copy")
    elapsed = dict.fromkeys(ways, 0.0)
    log(f"{batches} batches of {BATCH} rows each way")
    with psycopg.connect(BENCH_URL) as connection:
        connection.execute(STAGING)
        connection.commit()
        for n in range(len(ways) * batches):
            way = ways[n % len(ways)]
            start = T0 + timedelta(seconds=n * BATCH / 100)
            rows = [(sensor_id, start + timedelta(milliseconds=10 * i), (i % 100) / 10) for i in range(BATCH)]
            params = {"received_at": [start], "device_ids": [device_id], "row_count": BATCH}
            started = time.perf_counter()
            with connection.cursor() as cursor:
                if way == "unnest":
                    ids, ts, values = (list(column) for column in zip(*rows, strict=True))
                    cursor.execute(_POSTGRESQL_INGEST, {**params, "sensor_ids": ids, "ts": ts, "values": values})
                elif way == "raw_copy":
                    with cursor.copy("COPY telemetry_reading (sensor_id, ts, value) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute("SELECT %s::int", (BATCH,))
                else:
                    with cursor.copy(
                        "COPY incoming_readings (sensor_id, ts, value) FROM STDIN (FORMAT BINARY)"
                    ) as copy:
                        copy.set_types(["int8", "timestamptz", "float8"])
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute(with_copy, params)
                assert cursor.fetchone()[0] == BATCH
            connection.commit()
            elapsed[way] += time.perf_counter() - started
    figures = {
        "batch_size": BATCH,
        "batches": batches,
        "unnest_rows_per_s": round(batches * BATCH / elapsed["unnest"]),
        "copy_staging_rows_per_s": round(batches * BATCH / elapsed["copy"]),
    }
    figures["raw_copy_rows_per_s"] = round(batches * BATCH / elapsed["raw_copy"])
    figures["copy_vs_unnest"] = round(figures["copy_staging_rows_per_s"] / figures["unnest_rows_per_s"], 2)
    figures["unnest_vs_raw_copy"] = round(figures["unnest_rows_per_s"] / figures["raw_copy_rows_per_s"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
