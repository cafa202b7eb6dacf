#!/usr/bin/env python
"""Ingest, query and export through the API, each beside the database's own limit.

Every figure is measured in the same run as its baseline (straight psycopg, no Django),
with the same rows, batch size and concurrency, against PostgreSQL:

  api_batch_rows_per_s   POST /api/telemetry/ with 1,000-reading batches, C clients
  api_batch_rows_per_s_with_rules   the same with 3 alert rules on every sensor
  lp_batch_rows_per_s    POST /api/v2/write (InfluxDB line protocol), the same 1,000 readings per body
  copy_batch_rows_per_s  COPY of 1,000 rows + COMMIT, C connections
  api_single_req_per_s   one reading per POST, 32 connections (wrk)
  insert_commit_per_s    INSERT of one row + COMMIT, 32 connections
  query_ms_p50           GET /api/devices/{id}/readings/?points=1000 over a sensor of N rows
  raw_aggregate_ms       the plain GROUP BY over the raw rows, same buckets
  export_rows_per_s      GET /api/export.csv of those N rows, and the server's peak RSS
  copy_out_rows_per_s    COPY (SELECT ...) TO STDOUT CSV of the same rows
  mqtt_single_rows_per_s, mqtt_batch_rows_per_s   bench/mqtt.py, folded in (--mqtt)

The server runs as in production (`make serve`): gunicorn with 2 threaded WSGI workers,
the device route and group commit (--server asgi: uvicorn with a psycopg pool; --server
wsgi: gunicorn sync workers). The load comes from other processes.

    python bench/ingest.py --quick     # under a minute: 1M-row sensor, 4 s per rate
    python bench/ingest.py             # 10M-row sensor, 15 s per rate
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import bench_database, free_port, wait_until_serving, worker_pids  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = bench_database("iotsite_bench")
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
BATCH = 1000
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def log(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


# --- database and Django set-up -------------------------------------------------------


def fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    env = server_env()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def server_env(**extra) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": BENCH_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
        "TELEMETRY_FUTURE_MARGIN": "3650d",
        # Throughput is measured here, not the rate limits (each worker would count apart).
        "THROTTLE_DEVICE": "10000000/min",
        "THROTTLE_USER": "10000000/min",
        **extra,
    }


def django_setup() -> None:
    os.environ.update(server_env())
    import django

    django.setup()


def make_devices(count: int) -> list[tuple[int, str]]:
    from django.contrib.auth import get_user_model

    from devices.services import device_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    devices = [device_create(owner=user, name=f"bench-{i}", type="generic") for i in range(count)]
    return [(device.pk, token) for device, token in devices]


def user_access_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import RefreshToken

    return str(RefreshToken.for_user(get_user_model().objects.get(username="bench")).access_token)


# --- the server under test --------------------------------------------------------------


@contextmanager
def server(kind: str, workers: int, *, threads: int = 32, **env_extra: str):
    """uvicorn (asgi), gunicorn sync workers (wsgi) or gunicorn threaded workers
    (gthread, `threads` each, as `make serve` runs), on a free port."""
    port = free_port()
    if kind == "asgi":
        command = [
            str(Path(sys.executable).parent / "uvicorn"),
            "iotsite.asgi:application",
            "--workers",
            str(workers),
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        env = server_env(DB_POOL_MAX_SIZE="4", **env_extra)
    else:
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "iotsite.wsgi:application",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ]
        if kind == "gthread":
            command += ["-k", "gthread", "--threads", str(threads)]
        env = server_env(**{"DB_CONN_MAX_AGE": "300", **env_extra})
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process)
        yield base, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- load generators (each in its own process) -----------------------------------------


def batch_body(client_index: int, batch_index: int) -> bytes:
    # Each batch spans 10 s (a reading every 10 ms); each client its own 115 days.
    start_ms = int(T0.timestamp() * 1000) + (client_index * 1_000_000 + batch_index) * BATCH * 10
    return orjson.dumps([{"ts": start_ms + i * 10, "values": {"load": (i % 100) / 10}} for i in range(BATCH)])


def api_batch_client(base: str, token: str, client_index: int, first_batch: int, seconds: float, results) -> None:
    rows = 0
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Device {token}", "Content-Type": "application/json"}, timeout=60
    ) as client:
        deadline = time.monotonic() + seconds
        batch_index = first_batch
        while time.monotonic() < deadline:
            response = client.post("/api/telemetry/", content=batch_body(client_index, batch_index))
            if response.status_code != 201:
                raise RuntimeError(f"batch answered {response.status_code}: {response.text[:200]}")
            rows += response.json()["accepted"]
            batch_index += 1
    results.put(rows)


def line_protocol_body(client_index: int, batch_index: int) -> bytes:
    # The same readings as batch_body, one line each: `load value=<v> <epoch ms>`.
    start_ms = int(T0.timestamp() * 1000) + (client_index * 1_000_000 + batch_index) * BATCH * 10
    return "".join(f"load value={(i % 100) / 10} {start_ms + i * 10}\n" for i in range(BATCH)).encode()


def lp_batch_client(base: str, token: str, client_index: int, first_batch: int, seconds: float, results) -> None:
    rows = 0
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Token {token}", "Content-Type": "text/plain"}, timeout=60
    ) as client:
        deadline = time.monotonic() + seconds
        batch_index = first_batch
        while time.monotonic() < deadline:
            body = line_protocol_body(client_index, batch_index)
            response = client.post("/api/v2/write?bucket=bench&precision=ms", content=body)
            if response.status_code != 204:
                raise RuntimeError(f"line protocol batch answered {response.status_code}: {response.text[:200]}")
            rows += BATCH
            batch_index += 1
    results.put(rows)


def lp_batch_rate(base: str, tokens: list[str], clients: int, seconds: float, round_: int) -> float:
    started = time.monotonic()
    rows = run_processes(lp_batch_client, [(base, tokens[i], i, 500_000 * round_, seconds) for i in range(clients)])
    return sum(rows) / (time.monotonic() - started)


def run_processes(target, arguments: list[tuple]) -> list:
    results = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=target, args=(*args, results)) for args in arguments]
    for process in processes:
        process.start()
    collected = [results.get() for _ in processes]
    for process in processes:
        process.join()
    return collected


def api_batch_rate(base: str, tokens: list[str], clients: int, seconds: float, round_: int = 0) -> float:
    started = time.monotonic()
    # round_ moves each client's timestamps on (58 days), so a second run stores new readings.
    rows = run_processes(api_batch_client, [(base, tokens[i], i, 500_000 * round_, seconds) for i in range(clients)])
    return sum(rows) / (time.monotonic() - started)


def copy_batch_connection(sensor_id: int, client_index: int, seconds: float, results) -> None:
    rows = 0
    with psycopg.connect(BENCH_URL) as connection:
        deadline = time.monotonic() + seconds
        batch_index = 0
        while time.monotonic() < deadline:
            start = T0 + timedelta(seconds=(client_index * 1_000_000 + batch_index) * BATCH / 100)
            with (
                connection.cursor() as cursor,
                cursor.copy("COPY telemetry_reading (sensor_id, ts, value) FROM STDIN") as copy,
            ):
                for i in range(BATCH):
                    copy.write_row((sensor_id, start + timedelta(milliseconds=10 * i), (i % 100) / 10))
            connection.commit()
            rows += BATCH
            batch_index += 1
    results.put(rows)


def copy_batch_rate(sensor_ids: list[int], seconds: float) -> float:
    started = time.monotonic()
    rows = run_processes(copy_batch_connection, [(sid, i, seconds) for i, sid in enumerate(sensor_ids)])
    return sum(rows) / (time.monotonic() - started)


def insert_commit_threads(sensor_ids: list[int], seconds: float, results) -> None:
    counts = [0] * len(sensor_ids)

    def insert_loop(slot: int) -> None:
        with psycopg.connect(BENCH_URL) as connection:
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline:
                connection.execute(
                    "INSERT INTO telemetry_reading (sensor_id, ts, value) VALUES (%s, %s, %s)",
                    (sensor_ids[slot], T0 + timedelta(milliseconds=n), 1.0),
                )
                connection.commit()
                n += 1
            counts[slot] = n

    threads = [threading.Thread(target=insert_loop, args=(slot,)) for slot in range(len(sensor_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(sum(counts))


def insert_commit_rate(sensor_ids: list[int], seconds: float) -> float:
    halves = [sensor_ids[: len(sensor_ids) // 2], sensor_ids[len(sensor_ids) // 2 :]]
    started = time.monotonic()
    counts = run_processes(insert_commit_threads, [(half, seconds) for half in halves])
    return sum(counts) / (time.monotonic() - started)


WRK_SCRIPT = """
local tokens = {%s}
local counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("POST", "/api/telemetry/",
    {["Authorization"] = "Device " .. token, ["Content-Type"] = "application/json"},
    '{"value": ' .. (counter %% 100) .. '}')
end
"""
# Appended to each wrk script: one line the benchmarks read the figures from.
WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("WRK_RESULT %d %d %d %d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(99)))
end
"""


def ensure_wrk() -> str:
    if not shutil.which("wrk"):
        log("installing wrk from Debian")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def api_single_rate(base: str, tokens: list[str], connections: int, seconds: float) -> tuple[float, int, float]:
    """Requests answered 201 per second, errors, and the p99 latency in ms."""
    return wrk_rate(base, WRK_SCRIPT % ", ".join(f'"{token}"' for token in tokens), connections, seconds)


def wrk_rate(base: str, requests_script: str, connections: int, seconds: float) -> tuple[float, int, float]:
    """wrk with two threads running `requests_script` (Lua): answered requests per second,
    errors, and the p99 latency in ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(requests_script + WRK_DONE)
    output = subprocess.run(
        [ensure_wrk(), "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s", script.name, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests, errors, duration_us, p99_us = (int(x) for x in output.split("WRK_RESULT")[1].split())
    return (requests - errors) / (duration_us / 1e6), errors, p99_us / 1000


# --- query and export ------------------------------------------------------------------


def load_big_sensor(sensor_id: int, rows: int) -> None:
    from telemetry.services import rollups_rebuild

    with psycopg.connect(BENCH_URL, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO telemetry_reading (sensor_id, ts, value) "
            "SELECT %s, %s + i * interval '100 milliseconds', cos(i / 3000.0) * 5 + 5"
            " FROM generate_series(0, %s - 1) i",
            (sensor_id, T0, rows),
        )
        connection.execute("VACUUM ANALYZE telemetry_reading")
    rollups_rebuild(sensor_ids=[sensor_id])
    with psycopg.connect(BENCH_URL, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE telemetry_minuterollup")
        connection.execute("VACUUM ANALYZE telemetry_hourrollup")


def query_p50(base: str, access: str, device_id: int, rows: int, repeats: int) -> tuple[float, dict]:
    end = T0 + timedelta(milliseconds=100 * rows)
    params = {"sensor": "big", "start": T0.isoformat(), "end": end.isoformat(), "points": 1000}
    timings = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {access}"}, timeout=120) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(f"/api/devices/{device_id}/readings/", params=params)
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    body = response.json()
    return statistics.median(timings), {
        "bucket_seconds": body["bucket_seconds"],
        "source": body["source"],
        "buckets": len(body["points"]),
    }


def raw_aggregate_ms(sensor_id: int, rows: int, width: int, repeats: int) -> float:
    end = T0 + timedelta(milliseconds=100 * rows)
    timings = []
    with psycopg.connect(BENCH_URL) as connection:
        for _ in range(repeats):
            started = time.perf_counter()
            connection.execute(
                "SELECT floor(extract(epoch FROM ts) / %s) * %s AS b, min(value), max(value), avg(value), count(*) "
                "FROM telemetry_reading WHERE sensor_id = %s AND ts >= %s AND ts < %s GROUP BY b ORDER BY b",
                (width, width, sensor_id, T0, end),
            ).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def export_rate(base: str, access: str, device_id: int, master_pid: int) -> tuple[float, int, float, float]:
    pids = worker_pids(master_pid) or [master_pid]
    before = max(rss_mb(pid) for pid in pids)
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], *(rss_mb(pid) for pid in pids))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    lines = 0
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{base}/api/export.csv",
        params={"device": device_id},
        headers={"Authorization": f"Bearer {access}"},
        timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    rows = lines - 1
    return rows / elapsed, rows, peak[0], before


def copy_out_rate(sensor_id: int) -> tuple[float, int]:
    query = (
        "COPY (SELECT s.device_id, d.name, s.key, to_char(r.ts AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), r.value FROM telemetry_reading r '
        "JOIN telemetry_sensor s ON s.id = r.sensor_id JOIN devices_device d ON d.id = s.device_id "
        f"WHERE r.sensor_id = {int(sensor_id)} ORDER BY r.ts) TO STDOUT (FORMAT csv)"
    )
    lines = 0
    started = time.perf_counter()
    with psycopg.connect(BENCH_URL) as connection, connection.cursor() as cursor, cursor.copy(query) as copy:
        for block in copy:
            lines += bytes(block).count(b"\n")
    return lines / (time.perf_counter() - started), lines


# --- the run ---------------------------------------------------------------------------


def rules_on_every_sensor(device_ids: list[int], rules_per_sensor: int = 3) -> int:
    """Three bounds rules per sensor, wide enough that readings stay inside them: the
    cost measured is evaluation on the hot path, not alert delivery."""
    from alerts.services import alert_rule_create
    from telemetry.models import Sensor

    created = 0
    for sensor in Sensor.objects.filter(device_id__in=device_ids).select_related("device"):
        for n in range(rules_per_sensor):
            alert_rule_create(device=sensor.device, sensor=sensor.key, lower=-1000.0 - n, upper=1000.0 + n)
            created += 1
    return created


def mqtt_figures() -> dict:
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "mqtt.py"), "--quick"], cwd=ROOT, capture_output=True, text=True
    )
    if output.returncode != 0:
        return {"mqtt_error": output.stderr.strip().splitlines()[-1][:200] if output.stderr else "failed"}
    figures = json.loads(output.stdout.strip().splitlines()[-1])
    return {key: figures[key] for key in ("mqtt_single_rows_per_s", "mqtt_batch_rows_per_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--seconds", type=float, help="seconds per rate measurement")
    parser.add_argument("--rows", type=int, help="readings of the big sensor for query and export")
    parser.add_argument("--clients", type=int, default=4, help="concurrent batch clients")
    parser.add_argument("--connections", type=int, default=32, help="concurrent single-reading connections")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--server", choices=["asgi", "wsgi", "gthread"], default="gthread")
    parser.add_argument("--threads", type=int, default=32, help="threads per gthread worker")
    parser.add_argument("--mqtt", action="store_true", help="also run bench/mqtt.py --quick and fold it in")
    args = parser.parse_args()
    seconds = args.seconds or (4 if args.quick else 15)
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    repeats = 5 if args.quick else 20

    log("creating a fresh database")
    fresh_database()
    django_setup()
    # Device 0 holds the baseline sensors, device 1 the big sensor, the rest take the load.
    devices = make_devices(2 + max(100, args.clients))
    tokens = [token for _, token in devices[2:]]
    big_device_id = devices[1][0]
    access = user_access_token()

    from devices.models import Device
    from telemetry.services import sensor_ids_for

    baseline_device = Device.objects.get(pk=devices[0][0])
    baseline_sensors = list(
        sensor_ids_for(
            device=baseline_device, keys={f"baseline-{i}" for i in range(args.clients + args.connections)}
        ).values()
    )
    big_sensor = sensor_ids_for(device=Device.objects.get(pk=big_device_id), keys={"big"})["big"]

    figures: dict[str, float | int | str] = {
        "server": f"{args.server} x{args.workers}",
        "batch_size": BATCH,
        "batch_clients": args.clients,
        "single_connections": args.connections,
    }
    log(f"loading {rows} readings into one sensor")
    load_big_sensor(big_sensor, rows)

    with server(args.server, args.workers, threads=args.threads) as (base, master_pid):
        log("api batch")
        figures["api_batch_rows_per_s"] = round(api_batch_rate(base, tokens, args.clients, seconds))
        log("line protocol batch")
        # Before the alert rules, like the JSON figure; round 2 stores new readings.
        figures["lp_batch_rows_per_s"] = round(lp_batch_rate(base, tokens, args.clients, seconds, round_=2))
        log("api batch with 3 alert rules on every sensor")
        figures["alert_rules"] = rules_on_every_sensor([device_id for device_id, _ in devices[2 : 2 + args.clients]])
        figures["api_batch_rows_per_s_with_rules"] = round(
            api_batch_rate(base, tokens, args.clients, seconds, round_=1)
        )
        log("api single")
        # One second first, not counted: each device's first reading creates its sensor
        # (a fleet that has been posting for a while has them all).
        api_single_rate(base, tokens[:100], args.connections, 1)
        rate, errors, p99 = api_single_rate(base, tokens[:100], args.connections, seconds)
        figures["api_single_req_per_s"], figures["api_single_errors"] = round(rate), errors
        figures["api_single_p99_ms"] = round(p99, 1)
        log("query")
        figures["query_ms_p50"], shape = query_p50(base, access, big_device_id, rows, repeats)
        figures["query_ms_p50"] = round(figures["query_ms_p50"], 1)
        figures.update({f"query_{key}": value for key, value in shape.items()})
        log("export")
        rate, exported, peak, before = export_rate(base, access, big_device_id, master_pid)
        figures.update(
            export_rows_per_s=round(rate),
            export_rows=exported,
            export_peak_rss_mb=round(peak, 1),
            export_rss_growth_mb=round(peak - before, 1),
        )

    log("baselines")
    figures["copy_batch_rows_per_s"] = round(copy_batch_rate(baseline_sensors[: args.clients], seconds))
    figures["insert_commit_per_s"] = round(insert_commit_rate(baseline_sensors[args.clients :], seconds))
    figures["raw_aggregate_ms"] = round(
        raw_aggregate_ms(big_sensor, rows, shape["bucket_seconds"], 1 if args.quick else 3), 1
    )
    rate, copied = copy_out_rate(big_sensor)
    figures["copy_out_rows_per_s"] = round(rate)

    if args.mqtt:
        log("mqtt")
        figures.update(mqtt_figures())
        if "mqtt_single_rows_per_s" in figures:
            figures["mqtt_single_vs_api_single"] = round(
                figures["mqtt_single_rows_per_s"] / figures["api_single_req_per_s"], 1
            )
    figures["rules_ratio"] = round(figures["api_batch_rows_per_s_with_rules"] / figures["api_batch_rows_per_s"], 2)
    figures["lp_vs_json_batch"] = round(figures["lp_batch_rows_per_s"] / figures["api_batch_rows_per_s"], 2)
    figures["batch_ratio"] = round(figures["api_batch_rows_per_s"] / figures["copy_batch_rows_per_s"], 2)
    figures["single_ratio"] = round(figures["api_single_req_per_s"] / figures["insert_commit_per_s"], 2)
    figures["query_speedup"] = round(figures["raw_aggregate_ms"] / figures["query_ms_p50"], 1)
    figures["export_ratio"] = round(figures["export_rows_per_s"] / figures["copy_out_rows_per_s"], 2)
    figures["big_sensor_rows"] = rows
    print(json.dumps(figures))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
