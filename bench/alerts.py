#!/usr/bin/env python
"""What alert evaluation costs batch ingest, on PostgreSQL.

Batches of 1,000 readings (10 sensors × 100 readings) go through
telemetry.services.readings_ingest directly, alternately to a device without rules
and to a device with 3 rules on every sensor (a lower bound, an upper bound, and a
band with hysteresis and duration), in the same run, so both rates see the same
database and machine; halfway the rules move to the other device, so neither side
keeps whatever favours one device's rows.

Two signals, each a slow sine per sensor:
  steady     inside every bound: the cost of evaluation itself, what every batch pays
  flapping   leaving and re-entering the bounds so often that about one alert event
             (with its outbox rows and in-app push) is written per batch

    python bench/alerts.py --quick     # under a minute
    python bench/alerts.py             # longer, steadier

Prints ONE JSON line last, with both rates and their ratio for each signal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.serving import bench_database  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
BENCH_DB = bench_database("iotsite_bench_alerts")
BENCH_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
SENSORS = 10
READINGS_PER_SENSOR = 100
BATCH = SENSORS * READINGS_PER_SENSOR  # 1,000 readings
T0 = datetime(2025, 1, 1, tzinfo=UTC)
AMPLITUDES = {"steady": 0.5, "flapping": 1.0}  # the bounds are at ±0.8 and ±0.9


def log(message: str) -> None:
    print(f"[alerts] {message}", file=sys.stderr, flush=True)


def fresh_database(env: dict[str, str]) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def batches(amplitude: float):
    """Endless 1,000-reading batches of a slow sine per sensor."""
    from telemetry.payloads import ParsedReading

    index = 0
    while True:
        batch = []
        for step in range(READINGS_PER_SENSOR):
            ts = T0 + timedelta(seconds=index + step)
            for sensor in range(SENSORS):
                batch.append(ParsedReading(f"s{sensor}", ts, amplitude * math.sin((index + step) / 1600 + sensor)))
        index += READINGS_PER_SENSOR
        yield batch


def measure(*, user, channel, signal: str, batches_each: int, label: str = "") -> dict:
    from alerts.models import AlertEvent, AlertRule
    from alerts.services import alert_rule_create
    from devices.services import device_create
    from telemetry.services import readings_ingest

    label = label or signal
    first, _token = device_create(owner=user, name=f"{label} 1", type="generic")
    second, _token = device_create(owner=user, name=f"{label} 2", type="generic")

    def put_rules_on(device) -> None:
        AlertRule.objects.all().delete()
        for sensor in range(SENSORS):
            key = f"s{sensor}"
            alert_rule_create(device=device, sensor=key, lower=-0.8, channels=[channel])
            alert_rule_create(device=device, sensor=key, upper=0.8, channels=[channel])
            alert_rule_create(device=device, sensor=key, lower=-0.9, upper=0.9, hysteresis=0.05, duration_s=30)

    streams = {first.pk: batches(AMPLITUDES[signal]), second.pk: batches(AMPLITUDES[signal])}
    for device in (first, second):  # warm up: sensors created, caches filled
        for _ in range(3):
            readings_ingest(device=device, readings=next(streams[device.pk]), received_at=datetime.now(UTC))

    # Finely interleaved (a batch each, in turn) so the load of anything else running
    # on the machine falls on both sides alike.
    events_before = AlertEvent.objects.count()
    elapsed = {"with": 0.0, "without": 0.0}
    for watched, plain in ((first, second), (second, first)):
        put_rules_on(watched)
        for index in range(batches_each // 2):
            for device in (plain, watched) if index % 2 == 0 else (watched, plain):
                batch = next(streams[device.pk])
                started = time.perf_counter()
                readings_ingest(device=device, readings=batch, received_at=datetime.now(UTC))
                elapsed["with" if device is watched else "without"] += time.perf_counter() - started
    without_rules = batches_each * BATCH / elapsed["without"]
    with_rules = batches_each * BATCH / elapsed["with"]
    log(f"{label}: without rules {without_rules:,.0f} rows/s, with 3 rules per sensor {with_rules:,.0f} rows/s")
    return {
        "batch_rows_per_s_without_rules": round(without_rules),
        "batch_rows_per_s_with_rules": round(with_rules),
        "ratio": round(with_rules / without_rules, 3),
        "events_per_batch": round((AlertEvent.objects.count() - events_before) / batches_each, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer batches (under a minute)")
    args = parser.parse_args()
    batches_each = 200 if args.quick else 1000

    env = {
        **os.environ,
        "DATABASE_URL": BENCH_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "iotsite.settings",
    }
    fresh_database(env)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from alerts.services import notification_channel_create

    user = get_user_model().objects.create_user(username="bench", password="bench-password-1")
    # Never sent: the bench measures ingestion, which only queues notifications.
    channel = notification_channel_create(owner=user, kind="webhook", url="http://127.0.0.1:9/never-sent")
    result = {
        "bench": "alerts",
        "quick": args.quick,
        "batch_size": BATCH,
        "rules_per_sensor": 3,
        "batches_each": batches_each,
    }
    # Untimed first: the first minute on a fresh database runs slower (whichever side
    # happens to run first then loses by 10-20%).
    measure(user=user, channel=channel, signal="flapping", batches_each=batches_each // 2, label="warm-up")
    for signal in AMPLITUDES:
        result[signal] = measure(user=user, channel=channel, signal=signal, batches_each=batches_each)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
