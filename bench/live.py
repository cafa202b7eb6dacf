#!/usr/bin/env python
"""Live push latency: from a device's POST to a browser's WebSocket receiving it.

Two uvicorn server processes (two ports) share PostgreSQL and the Redis channel layer.
100 devices send 1,000 readings/s in all: each posts a batch of 10 readings once a
second, the devices spread evenly over the second, each POST to one worker or the
other in turn. 50 browsers (WebSocket clients, half on each worker) each watch two
devices, so about half of the readings cross from one worker to the other through
Redis. Latency runs from just before the POST is sent to the moment its batch is read
from the browser's socket, all timed by one clock in this process.

    python bench/live.py --quick     # under a minute: 10 s measured
    python bench/live.py             # 60 s measured

Prints one JSON line last: latency_ms_p50, latency_ms_p99 (goal: under 50 ms), the
rates achieved and how many batches never arrived.
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
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import psycopg
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import bench_database, free_port, wait_until_serving  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = bench_database("iotsite_bench_live")
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
REDIS_URL = "redis://127.0.0.1:6379/14"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def log(message: str) -> None:
    print(f"[live] {message}", file=sys.stderr, flush=True)


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
        "REDIS_URL": REDIS_URL,
        **extra,
    }


def fresh_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=server_env(), check=True)


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def make_devices(count: int) -> tuple[str, list[tuple[int, str]]]:
    """(the owner's access JWT, [(device id, device token)])."""
    os.environ.update(server_env())
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.tokens import RefreshToken

    from devices.services import device_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    devices = [device_create(owner=user, name=f"bench-{i}", type="generic") for i in range(count)]
    access = str(RefreshToken.for_user(user).access_token)
    return access, [(device.pk, token) for device, token in devices]


@contextmanager
def servers(count: int, prefix: str):
    ports = [free_port() for _ in range(count)]
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    env = server_env(DB_POOL_MAX_SIZE="4", CHANNEL_LAYER_PREFIX=prefix)
    processes = [
        subprocess.Popen(
            [uvicorn, "iotsite.asgi:application", "--port", str(port), "--no-access-log", "--log-level", "warning"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, process in zip(bases, processes, strict=True):
            wait_until_serving(base, process)
        yield bases
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)


class Run:
    def __init__(self) -> None:
        # (device, batch number) → (clock when posted, posted while measuring)
        self.sent_at: dict[tuple[int, int], tuple[float, bool]] = {}
        self.latencies_ms: list[float] = []
        self.post_ms: list[float] = []  # the POST's own round trip, for comparison
        self.measuring = False
        self.posts = 0
        self.failed_posts = 0


async def browser(
    base: str, access: str, device_ids: list[int], run: Run, ready: asyncio.Event, count: list[int]
) -> None:
    url = base.replace("http://", "ws://") + f"/ws/live/?token={access}"
    async with websockets.connect(url, origin=base, max_queue=None) as socket_:
        for device_id in device_ids:
            await socket_.send(json.dumps({"action": "subscribe", "device": device_id}))
            await socket_.recv()
        count[0] += 1
        if count[0] == run.browsers:
            ready.set()
        async for text in socket_:
            received = time.perf_counter()
            message = orjson.loads(text)
            if message.get("type") != "reading":
                continue
            batch = int(message["readings"][0]["value"]) // 100
            sent = run.sent_at.pop((message["device"], batch), None)
            if sent is not None and sent[1]:
                run.latencies_ms.append((received - sent[0]) * 1000)


async def device(
    bases: list[str],
    index: int,
    token: str,
    per_post: int,
    run: Run,
    stop: asyncio.Event,
    clients: list[httpx.AsyncClient],
    device_id: int,
) -> None:
    await asyncio.sleep(index / 100)  # spread the devices over the second
    batch = 0
    next_at = time.perf_counter()
    while not stop.is_set():
        base_ts = T0 + timedelta(seconds=batch)
        body = orjson.dumps(
            [
                {"ts": (base_ts + timedelta(milliseconds=10 * k)).isoformat(), "values": {"level": batch * 100 + k}}
                for k in range(per_post)
            ]
        )
        worker = (index + batch) % len(bases)
        sent = time.perf_counter()
        measuring = run.measuring
        run.sent_at[(device_id, batch)] = (sent, measuring)
        try:
            response = await clients[worker].post(
                f"{bases[worker]}/api/telemetry/",
                content=body,
                headers={"Authorization": f"Device {token}", "Content-Type": "application/json"},
            )
            if measuring:
                run.post_ms.append((time.perf_counter() - sent) * 1000)
            run.posts += 1
            if response.status_code != 201:
                run.failed_posts += 1
                run.sent_at.pop((device_id, batch), None)
                log(f"POST answered {response.status_code}: {response.text[:200]}")
        except httpx.HTTPError as error:
            log(f"POST failed: {error!r}")
            run.failed_posts += 1
            run.sent_at.pop((device_id, batch), None)
        batch += 1
        next_at += 1.0
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


async def measure(bases: list[str], access: str, devices: list[tuple[int, str]], args) -> dict:
    run = Run()
    run.browsers = args.browsers
    ready = asyncio.Event()
    count = [0]
    per_browser = max(1, len(devices) // args.browsers)
    browsers = [
        asyncio.create_task(
            browser(
                bases[i % len(bases)],
                access,
                [d for d, _ in devices[i * per_browser : (i + 1) * per_browser]],
                run,
                ready,
                count,
            )
        )
        for i in range(args.browsers)
    ]
    await asyncio.wait_for(ready.wait(), 60)
    log(f"{args.browsers} browsers attached; warming up {args.warmup:.0f} s")
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    clients = [httpx.AsyncClient(limits=limits, timeout=10) for _ in bases]
    devices_tasks = [
        asyncio.create_task(device(bases, i, token, args.readings_per_post, run, stop, clients, device_id))
        for i, (device_id, token) in enumerate(devices)
    ]
    await asyncio.sleep(args.warmup)
    run.measuring = True
    posts_before = run.posts
    started = time.perf_counter()
    log(f"measuring {args.seconds:.0f} s")
    await asyncio.sleep(args.seconds)
    elapsed = time.perf_counter() - started
    posts = run.posts - posts_before
    run.measuring = False
    stop.set()
    # Every POST sent while measuring finishes, then its readings have 2 s to arrive;
    # what has not arrived by then counts as lost.
    await asyncio.wait(devices_tasks, timeout=60)
    deadline = time.perf_counter() + 2
    while time.perf_counter() < deadline and any(measured for _, measured in run.sent_at.values()):
        await asyncio.sleep(0.05)
    for task in devices_tasks + browsers:
        task.cancel()
    await asyncio.gather(*devices_tasks, *browsers, return_exceptions=True)
    for client in clients:
        await client.aclose()
    latencies = sorted(run.latencies_ms)
    if not latencies:
        raise RuntimeError("no reading reached a browser")

    def percentile(fraction: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(fraction * len(latencies)))], 1)

    return {
        "latency_ms_p50": round(statistics.median(latencies), 1),
        "latency_ms_p99": percentile(0.99),
        "latency_ms_max": round(latencies[-1], 1),
        "post_ms_p50": round(statistics.median(run.post_ms), 1) if run.post_ms else None,
        "readings_per_s": round(posts * args.readings_per_post / elapsed),
        "posts_per_s": round(posts / elapsed),
        "batches_measured": len(latencies),
        "batches_lost": sum(1 for _, measured in run.sent_at.values() if measured),
        "failed_posts": run.failed_posts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a run under a minute")
    parser.add_argument("--seconds", type=float, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--browsers", type=int, default=50)
    parser.add_argument("--readings-per-post", type=int, default=10, help="each device posts once a second")
    parser.add_argument("--workers", type=int, default=2, help="server processes, each on its own port")
    args = parser.parse_args()
    args.seconds = args.seconds or (10 if args.quick else 60)

    log("fresh database")
    fresh_database()
    try:
        access, devices = make_devices(args.devices)
        with servers(args.workers, prefix=f"bench{uuid.uuid4().hex}") as bases:
            result = asyncio.run(measure(bases, access, devices, args))
    finally:
        drop_database()
    result = {
        "bench": "live",
        **result,
        "devices": args.devices,
        "browsers": args.browsers,
        "workers": args.workers,
        "readings_per_post": args.readings_per_post,
        "seconds": args.seconds,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
