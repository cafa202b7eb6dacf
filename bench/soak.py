#!/usr/bin/env python
"""Soak: 200 devices post through two WSGI workers on PostgreSQL while one worker is
killed (SIGKILL) midway and started again; nothing acknowledged may be lost or doubled.

Each device posts {"value": n} with n counting up, without a timestamp (the server
assigns it), and an Idempotency-Key per reading. A request that fails in any way (a
reset connection from the killed worker, a timeout, a 5xx, a 429) is retried with the
same key and body until it is answered 201; only then is the reading acknowledged.
Since the server picks the time, only the Idempotency-Key stands between a retry and
a doubled reading. At the end every acknowledged (device, n) must be stored exactly once.

    python bench/soak.py            # 2 minutes of load
    python bench/soak.py --quick    # 30 s of load, under a minute in all

Prints ONE JSON line: acknowledged, stored, lost (must be 0), duplicated, errors_5xx,
latency_ms_p50, latency_ms_p99, and what happened to the workers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import bench_database, free_port, worker_pids  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
SOAK_DB = bench_database("iotsite_soak")
SOAK_URL = f"postgres://postgres@127.0.0.1:5432/{SOAK_DB}"
REDIS_URL = "redis://127.0.0.1:6379/13"
WORKERS = 2
RETRY_BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0)


def log(message: str) -> None:
    print(f"[soak] {message}", file=sys.stderr, flush=True)


def server_env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": SOAK_URL,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": "soak-" + "k" * 45,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
        "DB_CONN_MAX_AGE": "60",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "CHANNEL_LAYER_PREFIX": "soak",
    }


def fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SOAK_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SOAK_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=server_env(), check=True)


def make_devices(count: int) -> list[tuple[int, str]]:
    os.environ.update(server_env())
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from devices.services import device_create

    owner = get_user_model().objects.create_user(username="soak", password="soak-password-1")
    return [
        (device.pk, token)
        for device, token in (device_create(owner=owner, name=f"soak-{i}", type="generic") for i in range(count))
    ]


def start_server(port: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "iotsite.wsgi:application",
        "-c",
        "deploy/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=server_env(), start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
                and len(worker_pids(process.pid)) == WORKERS
            ):
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("the server did not start")


class Tally:
    def __init__(self):
        self.acknowledged: dict[int, set[int]] = {}
        self.latencies_ms: list[float] = []
        self.requests = self.retries = self.errors_5xx = self.connection_errors = self.throttled = 0

    def lost_and_duplicated(self, stored: dict[int, list[float]]) -> tuple[int, int]:
        """Acknowledged readings missing from `stored` (values by device), and readings stored twice."""
        lost = duplicated = 0
        for device_id, values in stored.items():
            counted: dict[int, int] = {}
            for value in values:
                counted[int(value)] = counted.get(int(value), 0) + 1
            duplicated += sum(count - 1 for count in counted.values() if count > 1)
            lost += len(self.acknowledged.get(device_id, set()) - counted.keys())
        return lost, duplicated

    def count_refusal(self, device_id: int, response: httpx.Response) -> None:
        """An answer other than 201, to be retried; one a device should never get stops the run."""
        if response.status_code >= 500:
            self.errors_5xx += 1
        elif response.status_code == 429:
            self.throttled += 1
        else:
            raise RuntimeError(f"device {device_id} got {response.status_code}: {response.text[:200]}")


async def device_loop(
    client: httpx.AsyncClient,
    device_id: int,
    token: str,
    tally: Tally,
    stop_at: float,
    interval: float,
    give_up_at: float,
    key_prefix: str = "soak",
) -> None:
    """One device posting a reading every `interval` s until `stop_at`, retrying each (same
    Idempotency-Key) until acknowledged or `give_up_at`."""
    headers = {"Authorization": f"Device {token}", "Content-Type": "application/json"}
    acknowledged = tally.acknowledged.setdefault(device_id, set())
    n = 0
    # Spread the first posts so 200 devices do not all start in the same millisecond.
    await asyncio.sleep(interval * (device_id % 100) / 100)
    while time.monotonic() < stop_at:
        n += 1
        body = json.dumps({"value": n}).encode()
        key = f"{key_prefix}-{device_id}-{n}"
        attempt = 0
        while time.monotonic() < give_up_at:  # retries continue after stop_at: drain in-flight readings
            started = time.perf_counter()
            tally.requests += 1
            try:
                response = await client.post(
                    "/api/telemetry/", content=body, headers={**headers, "Idempotency-Key": key}
                )
            except httpx.TransportError:
                tally.connection_errors += 1
            else:
                if response.status_code == 201:
                    tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                    acknowledged.add(n)
                    break
                tally.count_refusal(device_id, response)
            tally.retries += 1
            await asyncio.sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
            attempt += 1
        await asyncio.sleep(interval)


async def load(base: str, devices: list[tuple[int, str]], seconds: float, interval: float, tally: Tally) -> None:
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(devices), max_keepalive_connections=len(devices))
    async with httpx.AsyncClient(base_url=base, timeout=15, limits=limits) as client:
        await asyncio.gather(
            *(
                device_loop(client, device_id, token, tally, stop_at, interval, stop_at + 60)
                for device_id, token in devices
            )
        )


def kill_one_worker_midway(master_pid: int, delay: float, events: dict) -> None:
    time.sleep(delay)
    victim = worker_pids(master_pid)[0]
    os.kill(victim, signal.SIGKILL)
    events["killed_worker_pid"] = victim
    killed_at = time.monotonic()
    while time.monotonic() - killed_at < 30:  # gunicorn's master starts a new worker
        fresh = [pid for pid in worker_pids(master_pid) if pid != victim]
        if len(fresh) == WORKERS:
            events["restarted_worker_pid"] = max(fresh)
            events["restart_s"] = round(time.monotonic() - killed_at, 2)
            return
        time.sleep(0.05)


def stored_values(device_ids: list[int]) -> dict[int, list[float]]:
    stored: dict[int, list[float]] = {device_id: [] for device_id in device_ids}
    with psycopg.connect(SOAK_URL) as connection:
        rows = connection.execute(
            "SELECT s.device_id, r.value FROM telemetry_reading r JOIN telemetry_sensor s ON s.id = r.sensor_id"
        ).fetchall()
    for device_id, value in rows:
        stored[device_id].append(value)
    return stored


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 s of load: under a minute in all")
    parser.add_argument("--seconds", type=float, help="seconds of load (default 120, 30 with --quick)")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds each device waits between readings")
    args = parser.parse_args()
    seconds = args.seconds or (30 if args.quick else 120)

    log("creating a fresh database")
    fresh_database()
    devices = make_devices(args.devices)
    port = free_port()
    server = start_server(port)
    events: dict = {}
    tally = Tally()
    import threading

    killer = threading.Thread(target=kill_one_worker_midway, args=(server.pid, seconds / 2, events))
    try:
        log(
            f"{len(devices)} devices posting for {seconds:.0f} s through {WORKERS} workers;"
            f" one killed at {seconds / 2:.0f} s"
        )
        killer.start()
        started = time.monotonic()
        asyncio.run(load(f"http://127.0.0.1:{port}", devices, seconds, args.interval, tally))
        elapsed = time.monotonic() - started
        killer.join()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    stored = stored_values([device_id for device_id, _token in devices])
    lost, duplicated = tally.lost_and_duplicated(stored)
    acknowledged = sum(len(values) for values in tally.acknowledged.values())
    print(
        json.dumps(
            {
                "devices": len(devices),
                "workers": WORKERS,
                "seconds": round(elapsed, 1),
                "acknowledged": acknowledged,
                "stored": sum(len(values) for values in stored.values()),
                "lost": lost,
                "duplicated": duplicated,
                "errors_5xx": tally.errors_5xx,
                "connection_errors": tally.connection_errors,
                "throttled": tally.throttled,
                "retries": tally.retries,
                "requests": tally.requests,
                "acknowledged_per_s": round(acknowledged / elapsed, 1),
                "latency_ms_p50": round(statistics.median(tally.latencies_ms), 1) if tally.latencies_ms else 0,
                "latency_ms_p99": round(percentile(tally.latencies_ms, 0.99), 1),
                **events,
            }
        )
    )


if __name__ == "__main__":
    main()
