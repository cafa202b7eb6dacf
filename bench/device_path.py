#!/usr/bin/env python
"""Which device ingest path and worker model: one-reading POSTs (wrk, 32 connections)
against each way of serving them, in one run, on one database.

  today          gunicorn sync workers, through Django and DRF, a commit per request
  drf_group      gunicorn threaded workers, through Django and DRF, group commit
  route_single   gunicorn threaded workers, the device route, a commit per request
  route_group    gunicorn threaded workers, the device route, group commit
  route_group_pool  the same with a pool of 8 connections per process (make serve)
  asgi_route_group  uvicorn, the device route (a thread per request), group commit
  asgi_drf_group    uvicorn, through Django and DRF, group commit

Each figure is req/s and p99 ms; the ratios are against `today` in the same run.
Where the time goes, per request: CPU microseconds of the server's processes, of the
PostgreSQL backends serving it, and of wrk, and how busy the whole machine was (other
work on it included): `<name>_cpu_us_server`, `_cpu_us_postgres`, `_cpu_us_wrk`,
`_machine_busy`.

    python bench/device_path.py --quick
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from bench.ingest import (  # noqa: E402
    BENCH_DB,
    BENCH_URL,
    api_single_rate,
    django_setup,
    fresh_database,
    log,
    make_devices,
    server,
)
from bench.serving import worker_pids  # noqa: E402

OFF = "false"
CONFIGURATIONS = {
    "today": ("wsgi", {"DEVICE_ROUTE": OFF, "TELEMETRY_GROUP_COMMIT": OFF}),
    "drf_group": ("gthread", {"DEVICE_ROUTE": OFF}),
    "route_single": ("gthread", {"TELEMETRY_GROUP_COMMIT": OFF}),
    "route_group": ("gthread", {}),
    "route_group_pool": ("gthread", {"DB_CONN_MAX_AGE": "0", "DB_POOL_MAX_SIZE": "8"}),
    "asgi_route_group": ("asgi", {}),
    "asgi_drf_group": ("asgi", {"DEVICE_ROUTE": OFF}),
}


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / CLOCK_TICKS, sum(ticks) / CLOCK_TICKS


def postgres_backends() -> list[int]:
    with psycopg.connect(BENCH_URL) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (BENCH_DB,)
        ).fetchall()
    return [pid for (pid,) in rows]


def measured(base: str, master_pid: int, tokens: list[str], connections: int, seconds: float) -> dict:
    """The rate, and the CPU it cost per request by process kind."""
    server_pids = [master_pid, *worker_pids(master_pid)]
    backends = postgres_backends()
    before = (cpu_seconds(server_pids), cpu_seconds(backends), resource.getrusage(resource.RUSAGE_CHILDREN))
    busy_before, total_before = machine_busy_seconds()
    rate, errors, p99 = api_single_rate(base, tokens, connections, seconds)
    busy_after, total_after = machine_busy_seconds()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = max(1.0, rate * seconds)
    wrk_cpu = children.ru_utime + children.ru_stime - before[2].ru_utime - before[2].ru_stime
    return {
        "req_per_s": round(rate),
        "p99_ms": round(p99, 1),
        "errors": errors,
        "cpu_us_server": round((cpu_seconds(server_pids) - before[0]) / requests * 1e6),
        "cpu_us_postgres": round((cpu_seconds(backends) - before[1]) / requests * 1e6),
        "cpu_us_wrk": round(wrk_cpu / requests * 1e6),
        "machine_busy": round((busy_after - busy_before) / (total_after - total_before), 2),
    }


def sensors_create(device_ids) -> None:
    """Each device's sensor exists before the first run, as in a fleet that has been
    posting for a while."""
    from devices.models import Device
    from telemetry.services import sensor_ids_for

    for device in Device.objects.filter(pk__in=list(device_ids)):
        sensor_ids_for(device=device, keys={"value"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 s per configuration")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the threaded and ASGI servers")
    parser.add_argument("--threads", type=int, default=32, help="threads per gthread worker")
    parser.add_argument("--only", nargs="*", choices=list(CONFIGURATIONS), help="these configurations only")
    args = parser.parse_args()
    seconds = args.seconds or (4 if args.quick else 15)

    log("creating a fresh database")
    fresh_database()
    django_setup()
    devices = make_devices(100)
    tokens = [token for _, token in devices]
    sensors_create(device_id for device_id, _ in devices)
    figures: dict[str, float | int | str] = {"connections": args.connections, "workers": args.workers}
    for name in args.only or CONFIGURATIONS:
        kind, env = CONFIGURATIONS[name]
        # The sync workers of today: 4 (make serve's former default); the others as asked.
        workers = 4 if name == "today" else args.workers
        with server(kind, workers, threads=args.threads, **env) as (base, master_pid):
            log(name)
            api_single_rate(base, tokens, args.connections, 1)  # warm up: connections, caches
            result = measured(base, master_pid, tokens, args.connections, seconds)
        figures.update({f"{name}_{key}": value for key, value in result.items()})
    if "today_req_per_s" in figures:
        for name in args.only or CONFIGURATIONS:
            if name != "today":
                figures[f"{name}_vs_today"] = round(figures[f"{name}_req_per_s"] / figures["today_req_per_s"], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
