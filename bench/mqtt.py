#!/usr/bin/env python
"""MQTT ingest end to end: devices → Mosquitto → mqtt_ingest workers → PostgreSQL.

Devices publish at QoS 1 as fast as the broker acknowledges (paho keeps up to
--inflight messages unacknowledged per device); the workers store and acknowledge
after each commit. A rate is the readings stored, divided by the time from the first
publish until the last reading is committed:

  mqtt_rows_per_s.single   one reading per message ({"ts", "values": {"load"}})
  mqtt_rows_per_s.batch    --batch readings per message (a JSON array)

The broker is started from deploy/mosquitto/mosquitto.conf on a spare port, the
workers are `manage.py mqtt_ingest` processes, and the publishers other processes.

    python bench/mqtt.py --quick     # about half a minute
    python bench/mqtt.py
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.mqtt_broker import SERVER_PASSWORD, SERVER_USERNAME, Broker, broker_start  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "iotsite_bench_mqtt"
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
T0_MS = 1_735_689_600_000  # 2025-01-01


def log(message: str) -> None:
    print(f"[mqtt] {message}", file=sys.stderr, flush=True)


def server_env(broker: Broker) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": BENCH_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 40,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
        "TELEMETRY_FUTURE_MARGIN": "3650d",
        "MQTT_HOST": broker.host,
        "MQTT_PORT": str(broker.port),
        "MQTT_USERNAME": SERVER_USERNAME,
        "MQTT_PASSWORD": SERVER_PASSWORD,
    }


def fresh_database(env: dict[str, str]) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def make_devices(env: dict[str, str], count: int) -> list[tuple[int, str]]:
    """Devices made through the service, so their credentials reach the broker."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from devices.services import device_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    return [
        (device.pk, token)
        for device, token in (device_create(owner=user, name=f"mqtt-{i}", type="generic") for i in range(count))
    ]


@contextmanager
def workers(env: dict[str, str], count: int, logs: Path):
    processes, log_paths = [], []
    for i in range(count):
        log_paths.append(logs / f"ingest-{i}.log")
        with log_paths[-1].open("w") as worker_log:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "mqtt_ingest", "--client-id", f"bench-ingest-{i}"],
                    cwd=ROOT,
                    env={**env, "LOG_LEVEL": "INFO"},
                    stderr=worker_log,
                )
            )
    try:
        deadline = time.monotonic() + 60
        while not all(" subscribed to " in path.read_text() for path in log_paths):
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise RuntimeError("an mqtt_ingest worker did not start: " + log_paths[0].read_text()[-2000:])
            time.sleep(0.1)
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        for path in log_paths:
            log(path.read_text().strip().splitlines()[-1])  # the worker's counts


def publisher(
    port: int, devices: list[tuple[int, str]], messages: int, per_message: int, inflight: int, first: int, ready, go
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    clients = []
    for device_id, token in devices:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.username_pw_set(str(device_id), token)
        client.max_inflight_messages_set(inflight)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", port)
        client.loop_start()
        clients.append((device_id, client))
    bodies = [
        orjson.dumps(
            [{"ts": T0_MS + (first + i) * per_message + j, "values": {"load": j % 100}} for j in range(per_message)]
            if per_message > 1
            else {"ts": T0_MS + first + i, "values": {"load": i % 100}}
        )
        for i in range(messages)
    ]
    ready.put(True)
    go.wait()
    pending = []
    for body in bodies:
        for device_id, client in clients:
            pending.append(client.publish(f"devices/{device_id}/telemetry", body, qos=1))
    for info in pending:
        info.wait_for_publish(timeout=120)
    for _device_id, client in clients:
        client.disconnect()
        client.loop_stop()


def stored_rows() -> int:
    with psycopg.connect(BENCH_URL) as connection:
        return connection.execute("SELECT count(*) FROM telemetry_reading").fetchone()[0]


def ingest_rate(
    port: int,
    devices: list[tuple[int, str]],
    *,
    publishers: int,
    messages: int,
    per_message: int,
    inflight: int,
    first: int,
) -> tuple[float, int]:
    """Rows per second from the first publish to the last commit, and the rows stored."""
    before = stored_rows()
    expected = len(devices) * messages * per_message
    ready, go = multiprocessing.Queue(), multiprocessing.Event()
    processes = [
        multiprocessing.Process(
            target=publisher, args=(port, devices[i::publishers], messages, per_message, inflight, first, ready, go)
        )
        for i in range(publishers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=120)
    started = time.monotonic()
    go.set()
    deadline = started + 600
    while (rows := stored_rows() - before) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {rows} of {expected} readings arrived")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(timeout=60)
    return expected / elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="about half a minute")
    parser.add_argument("--devices", type=int, default=32)
    parser.add_argument("--publishers", type=int, default=4, help="publishing processes")
    # Workers sharing the subscription store readings of the same devices, so they
    # queue on the same rows: more workers buy availability more than speed.
    parser.add_argument("--workers", type=int, default=1, help="mqtt_ingest processes")
    parser.add_argument("--batch", type=int, default=100, help="readings per message in the batch run")
    parser.add_argument("--inflight", type=int, default=100, help="unacknowledged messages per device")
    parser.add_argument("--messages", type=int, help="single-reading messages per device")
    args = parser.parse_args()
    single_messages = args.messages or (600 if args.quick else 3000)  # per device
    batch_messages = 60 if args.quick else 300

    with tempfile.TemporaryDirectory(prefix="iotsite-bench-mqtt-") as scratch:
        broker = broker_start(Path(scratch) / "broker")
        try:
            env = server_env(broker)
            log("creating a fresh database")
            fresh_database(env)
            devices = make_devices(env, args.devices)
            figures: dict[str, object] = {
                "workers": args.workers,
                "devices": args.devices,
                "publishers": args.publishers,
                "qos": 1,
                "batch_size": args.batch,
            }
            with workers(env, args.workers, Path(scratch)):
                log(f"single: {args.devices} devices x {single_messages} messages")
                single, _ = ingest_rate(
                    broker.port,
                    devices,
                    publishers=args.publishers,
                    messages=single_messages,
                    per_message=1,
                    inflight=args.inflight,
                    first=0,
                )
                log(f"batch: {args.devices} devices x {batch_messages} messages of {args.batch}")
                batch, _ = ingest_rate(
                    broker.port,
                    devices,
                    publishers=args.publishers,
                    messages=batch_messages,
                    per_message=args.batch,
                    inflight=args.inflight,
                    first=10_000_000,
                )
            figures["mqtt_rows_per_s"] = {"single": round(single), "batch": round(batch)}
            figures["mqtt_single_rows_per_s"], figures["mqtt_batch_rows_per_s"] = round(single), round(batch)
        finally:
            broker.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
