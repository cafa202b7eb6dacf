"""Create the demo user with two devices and a few days of history; safe to run on every start."""

import random
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from devices.models import Device
from devices.services import device_create
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest
from telemetry.simulation import signal_values

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "watch-the-gauges"
HISTORY = timedelta(days=3)
HISTORY_STEP = timedelta(minutes=1)
DEMO_DEVICES = [
    # name, type, config, {sensor: signal}
    ("Boiler pressure", "analog_gauge", {"unit": "bar", "min": 0, "max": 10}, {"value": "cosine"}),
    (
        "Weather station",
        "generic",
        {"units": {"temperature": "°C", "humidity": "%"}, "min": 0, "max": 40},
        {"temperature": "sine", "humidity": "noisy_cosine"},
    ),
]


class Command(BaseCommand):
    help = "Create the demo user (demo / watch-the-gauges) with simulated devices and history."

    def handle(self, *args, **options):
        user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        for name, device_type, config, plan in DEMO_DEVICES:
            device = Device.objects.filter(owner=user, name=name).first()
            if device is None:
                device, _token = device_create(owner=user, name=name, type=device_type, config=config)
                self._backfill(device, plan)
            self.stdout.write(f"Demo device {device.pk}: {device.name}")
        self.stdout.write(f"Demo user: {DEMO_USERNAME} / {DEMO_PASSWORD}")

    def _backfill(self, device: Device, plan: dict[str, str]) -> None:
        rng = random.Random(device.pk)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        readings: list[ParsedReading] = []
        at = now - HISTORY
        while at < now:
            values = signal_values(names=list(plan.values()), at=at, config=device.config, rng=rng)
            readings.extend(ParsedReading(sensor, at, values[signal]) for sensor, signal in plan.items())
            at += HISTORY_STEP
        for start in range(0, len(readings), 5000):
            readings_ingest(device=device, readings=readings[start : start + 5000], received_at=now)
