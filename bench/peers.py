#!/usr/bin/env python
"""iotsite beside InfluxDB 1.x (Debian's `influxdb`, the store of the usual Telegraf +
InfluxDB + Grafana set-up), on the shapes of bench/ingest.py, in one run:

  batch_rows_per_s     1,000-point batches, C clients (InfluxDB: POST /write, line protocol)
  single_req_per_s     one point per request, 32 connections (wrk), and its p99
  query_ms_p50         min/max/mean/count in the same buckets over one series of N points
  export_rows_per_s    that series as CSV (InfluxDB: SELECT with Accept: application/csv)

bench/ingest.py runs first (its own server and database); then InfluxDB is started on
a free port with its own data directory under a temporary folder and
`wal-fsync-delay = "0s"` (a write is on disk before it is answered, as a commit is),
measured, and stopped. It is installed from Debian when missing, like wrk.
One JSON line: both sides and the ratios (iotsite / InfluxDB; for the query,
InfluxDB's time / iotsite's).

    python bench/peers.py --quick     # 1M-point series, 4 s per rate
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import BATCH, T0, run_processes, wrk_rate  # noqa: E402
from bench.serving import free_port  # noqa: E402

DATABASE = "bench"
T0_MS = int(T0.timestamp() * 1000)
START_TIMEOUT = 60

CONFIG = """
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{home}/meta"
  logging-enabled = false
[data]
  dir = "{home}/data"
  wal-dir = "{home}/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false
[retention]
  enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  auth-enabled = false
  log-enabled = false
  max-body-size = 0
  max-row-limit = 0
[logging]
  level = "error"
"""


def log(message: str) -> None:
    print(f"[peers] {message}", file=sys.stderr, flush=True)


def ensure_influxd() -> str:
    if not shutil.which("influxd"):
        log("installing influxdb from Debian")
        subprocess.run(["apt-get", "install", "-y", "-qq", "influxdb"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("influxd") or "/usr/bin/influxd"


@contextmanager
def influxdb():
    """A fresh InfluxDB on free ports; its base URL. Stopped (by its pid) and its data
    removed on exit."""
    home = Path(tempfile.mkdtemp(prefix="iotsite-influxdb-"))
    port, rpc_port = free_port(), free_port()
    config = home / "influxdb.conf"
    config.write_text(CONFIG.format(home=home, port=port, rpc_port=rpc_port))
    process = subprocess.Popen(
        [ensure_influxd(), "-config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(home / "influxd.log").open("w"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{base}/ping", timeout=1).status_code == 204:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"influxd did not start: {(home / 'influxd.log').read_text()[-2000:]}")
            time.sleep(0.2)
        httpx.post(f"{base}/query", params={"q": f"CREATE DATABASE {DATABASE}"}).raise_for_status()
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)


# --- the same shapes as bench/ingest.py ----------------------------------------------------


def batch_lines(client_index: int, batch_index: int) -> bytes:
    # As bench/ingest.py's batch_body: a reading every 10 ms, each client its own series.
    start_ms = T0_MS + (client_index * 1_000_000 + batch_index) * BATCH * 10
    return "\n".join(
        f"load,device=c{client_index} value={(i % 100) / 10} {start_ms + i * 10}" for i in range(BATCH)
    ).encode()


def batch_client(base: str, client_index: int, seconds: float, results) -> None:
    rows = 0
    with httpx.Client(base_url=base, timeout=60) as client:
        deadline = time.monotonic() + seconds
        batch_index = 0
        while time.monotonic() < deadline:
            response = client.post(
                "/write", params={"db": DATABASE, "precision": "ms"}, content=batch_lines(client_index, batch_index)
            )
            if response.status_code != 204:
                raise RuntimeError(f"write answered {response.status_code}: {response.text[:200]}")
            rows += BATCH
            batch_index += 1
    results.put(rows)


def batch_rate(base: str, clients: int, seconds: float) -> float:
    started = time.monotonic()
    rows = run_processes(batch_client, [(base, i, seconds) for i in range(clients)])
    return sum(rows) / (time.monotonic() - started)


WRK_SCRIPT = """
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/write?db=%s", {["Content-Type"] = "text/plain"},
    "load,device=d" .. (counter %% 100) .. " value=" .. (counter %% 100))
end
"""


def single_rate(base: str, connections: int, seconds: float) -> tuple[float, int, float]:
    return wrk_rate(base, WRK_SCRIPT % DATABASE, connections, seconds)


def load_big_series(base: str, rows: int) -> None:
    """One series of N points, a point every 100 ms from T0 (bench/ingest.py's big sensor)."""
    chunk = 10_000
    with httpx.Client(base_url=base, timeout=120) as client:
        for start in range(0, rows, chunk):
            lines = "\n".join(
                f"big value={_big_value(i)} {T0_MS + i * 100}" for i in range(start, min(rows, start + chunk))
            )
            client.post("/write", params={"db": DATABASE, "precision": "ms"}, content=lines).raise_for_status()


def _big_value(i: int) -> float:
    import math

    return math.cos(i / 3000.0) * 5 + 5


def query_p50(base: str, rows: int, bucket_seconds: int, repeats: int) -> tuple[float, int]:
    end_ms = T0_MS + rows * 100
    query = (
        "SELECT min(value), max(value), mean(value), count(value) FROM big "
        f"WHERE time >= {T0_MS}ms AND time < {end_ms}ms GROUP BY time({bucket_seconds}s)"
    )
    timings = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get("/query", params={"db": DATABASE, "q": query})
            timings.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    series = response.json()["results"][0]["series"][0]
    return statistics.median(timings), len(series["values"])


def export_rate(base: str) -> tuple[float, int]:
    rows = 0
    tail = b""
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{base}/query",
        params={"db": DATABASE, "q": "SELECT value FROM big", "chunked": "true", "chunk_size": "10000"},
        headers={"Accept": "application/csv"},
        timeout=600,
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            # Rows start with the measurement's name; each chunk repeats the header line.
            rows += (tail + chunk).count(b"\nbig,")
            tail = chunk[-4:]
    return rows / (time.perf_counter() - started), rows


# --- the run ---------------------------------------------------------------------------------


def iotsite_figures(args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        str(ROOT / "bench" / "ingest.py"),
        "--seconds",
        str(args.seconds),
        "--rows",
        str(args.rows),
        "--clients",
        str(args.clients),
        "--connections",
        str(args.connections),
        "--server",
        args.server,
        "--workers",
        str(args.workers),
    ]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if output.returncode != 0:
        raise RuntimeError(f"bench/ingest.py failed: {output.stderr[-2000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1M-point series, 4 s per rate")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server", default="gthread", help="bench/ingest.py's --server")
    parser.add_argument("--workers", type=int, default=2, help="bench/ingest.py's --workers")
    args = parser.parse_args()
    args.seconds = args.seconds or (4 if args.quick else 15)
    args.rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    repeats = 5 if args.quick else 20

    log("iotsite: bench/ingest.py")
    ours = iotsite_figures(args)
    theirs: dict[str, float | int] = {}
    with influxdb() as base:
        log("influxdb: batch")
        theirs["batch_rows_per_s"] = round(batch_rate(base, args.clients, args.seconds))
        log("influxdb: single")
        single_rate(base, args.connections, 1)  # as bench/ingest.py: one second first, not counted
        rate, errors, p99 = single_rate(base, args.connections, args.seconds)
        theirs.update(single_req_per_s=round(rate), single_errors=errors, single_p99_ms=round(p99, 1))
        log(f"influxdb: loading {args.rows} points into one series")
        load_big_series(base, args.rows)
        log("influxdb: query")
        query_ms, buckets = query_p50(base, args.rows, int(ours["query_bucket_seconds"]), repeats)
        theirs.update(query_ms_p50=round(query_ms, 1), query_buckets=buckets)
        log("influxdb: export")
        rate, exported = export_rate(base)
        theirs.update(export_rows_per_s=round(rate), export_rows=exported)

    iotsite = {
        "server": ours["server"],
        "batch_rows_per_s": ours["api_batch_rows_per_s"],
        "single_req_per_s": ours["api_single_req_per_s"],
        "single_errors": ours["api_single_errors"],
        "single_p99_ms": ours["api_single_p99_ms"],
        "query_ms_p50": ours["query_ms_p50"],
        "query_buckets": ours["query_buckets"],
        "export_rows_per_s": ours["export_rows_per_s"],
        "copy_batch_rows_per_s": ours["copy_batch_rows_per_s"],
        "batch_vs_copy": ours["batch_ratio"],
        "rules_ratio": ours["rules_ratio"],
    }
    ratios = {
        "batch": round(iotsite["batch_rows_per_s"] / theirs["batch_rows_per_s"], 2),
        "single": round(iotsite["single_req_per_s"] / theirs["single_req_per_s"], 2),
        "query_speedup": round(theirs["query_ms_p50"] / iotsite["query_ms_p50"], 1),
        "export": round(iotsite["export_rows_per_s"] / theirs["export_rows_per_s"], 2),
    }
    shape = {"batch_size": BATCH, "clients": args.clients, "connections": args.connections, "rows": args.rows}
    print(json.dumps({**shape, "iotsite": iotsite, "influxdb": theirs, "ratios": ratios}))


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
