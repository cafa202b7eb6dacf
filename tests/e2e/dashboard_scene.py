"""A dashboard with one of each card the alerts touch: a gauge with alert bounds, a
device whose "no data" alert fires, and a digital display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alerts.evaluation import rule_cache_forget, silence_rules_check
from alerts.services import alert_rule_create
from devices.models import Device
from devices.services import device_create
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest


@dataclass
class Scene:
    gauge: Device
    quiet: Device
    display: Device


def send(device: Device, value: float, *, ago: timedelta = timedelta(0), sensor: str = "value") -> None:
    now = datetime.now(UTC)
    readings_ingest(device=device, readings=[ParsedReading(sensor, now - ago, value)], received_at=now - ago)


def dashboard_scene(user) -> Scene:
    rule_cache_forget()  # ids of rolled-back rows come back: no rules cached from another test
    gauge, _ = device_create(
        owner=user, name="Boiler pressure", type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10}
    )
    alert_rule_create(device=gauge, sensor="value", lower=2, upper=8)
    send(gauge, 6.5)

    quiet, _ = device_create(owner=user, name="Cellar pump", type="generic", config={"unit": "°C"})
    send(quiet, 14.2, ago=timedelta(minutes=20), sensor="temperature")
    alert_rule_create(device=quiet, sensor="", kind="silence", duration_s=600)
    silence_rules_check()

    display, _ = device_create(owner=user, name="Flow meter", type="digital_display", config={"unit": "L/min"})
    send(display, -12.5)
    return Scene(gauge=gauge, quiet=quiet, display=display)
