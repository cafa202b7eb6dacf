"""Post simulated readings through the real HTTP API, as a device would."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import httpx
from django.core.management.base import BaseCommand, CommandError

from devices.models import Device
from devices.services import device_token_plain
from telemetry.simulation import SIGNALS, signal_values

BACKFILL_BATCH = 1000


def signal_plan(spec: str) -> dict[str, str]:
    """'temperature=sine,humidity' → {"temperature": "sine", "humidity": "humidity"};
    a bare "value" is the cosine under the name a single-sensor device uses."""
    plan = {}
    for part in filter(None, (part.strip() for part in spec.split(","))):
        sensor, _, signal = part.partition("=")
        plan[sensor.strip()] = signal.strip() or ("cosine" if sensor == "value" else sensor.strip())
    unknown = set(plan.values()) - set(SIGNALS)
    if unknown or not plan:
        raise CommandError(f"Unknown signals: {', '.join(sorted(unknown)) or '(none given)'}; use {', '.join(SIGNALS)}")
    return plan


class Command(BaseCommand):
    help = "Send a cosine and other signals for a device through POST /api/telemetry/."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--device", type=int, help="device id")
        who.add_argument("--device-name", help="device name (with --owner)")
        parser.add_argument("--owner", default="demo", help="owner of --device-name (default: demo)")
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--signals",
            default="value",
            help=f"comma-separated sensor=signal pairs, or signal names, of: {', '.join(SIGNALS)} "
            "(default: value=cosine)",
        )
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
        parser.add_argument("--count", type=int, default=0, help="stop after this many posts (0: run until stopped)")
        parser.add_argument("--backfill-hours", type=float, default=0, help="first send this much history")
        parser.add_argument("--backfill-step", type=float, default=60, help="seconds between history readings")
        parser.add_argument("--wait", type=float, default=30, help="seconds to wait for the server to come up")

    def handle(self, *args, **options):
        if options["interval"] < 0 or options["backfill_step"] <= 0:
            raise CommandError("--interval must be >= 0 and --backfill-step > 0.")
        device = self._device(options)
        token = device_token_plain(device=device)
        if token is None:
            raise CommandError(f"Device {device.pk} has no token (revoked); rotate one first.")
        plan = signal_plan(options["signals"])
        with httpx.Client(
            base_url=options["server"], headers={"Authorization": f"Device {token}"}, timeout=10
        ) as client:
            self._wait_for_server(client, options["wait"])
            if options["backfill_hours"]:
                self._backfill(client, device, plan, hours=options["backfill_hours"], step=options["backfill_step"])
            self._run(client, device, plan, interval=options["interval"], count=options["count"])

    def _device(self, options) -> Device:
        devices = Device.objects.all()
        if options["device"] is not None:
            device = devices.filter(pk=options["device"]).first()
        else:
            device = devices.filter(
                owner__username__iexact=options["owner"], name__iexact=options["device_name"]
            ).first()
        if device is None:
            raise CommandError("No such device.")
        return device

    def _wait_for_server(self, client: httpx.Client, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                client.get("/api/device/")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise CommandError(f"The server at {client.base_url} does not answer.") from None
                time.sleep(0.5)

    def _items(self, device, plan, at: datetime, rng) -> dict:
        values = signal_values(names=list(plan.values()), at=at, config=device.config, rng=rng)
        return {"ts": at.isoformat(), "values": {name: values[signal] for name, signal in plan.items()}}

    def _post(self, client: httpx.Client, body) -> None:
        response = client.post("/api/telemetry/", json=body)
        if response.status_code >= 400:
            raise CommandError(f"The server answered {response.status_code}: {response.text[:300]}")

    def _backfill(self, client, device, plan, *, hours: float, step: float) -> None:
        rng = random.Random(device.pk)
        now = datetime.now(UTC)
        times = [now - timedelta(hours=hours) + timedelta(seconds=i * step) for i in range(int(hours * 3600 / step))]
        for start in range(0, len(times), BACKFILL_BATCH):
            self._post(client, [self._items(device, plan, at, rng) for at in times[start : start + BACKFILL_BATCH]])
        self.stdout.write(f"Sent {len(times)} readings of history per sensor.")

    def _run(self, client, device, plan, *, interval: float, count: int) -> None:
        rng = random.Random()
        sent = 0
        self.stdout.write(f"Simulating device {device.pk} ({device.name}): {', '.join(plan)} every {interval} s")
        while not count or sent < count:
            self._post(client, self._items(device, plan, datetime.now(UTC), rng))
            sent += 1
            time.sleep(interval)
