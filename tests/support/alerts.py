"""Readings for alerts tests, stored through the real ingest service, and the alert
events they caused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ingest(device, *readings: tuple[str, float, float]) -> None:
    """Store (sensor, seconds after T0, value) readings as one batch."""
    batch = [ParsedReading(sensor, at(seconds), float(value)) for sensor, seconds, value in readings]
    readings_ingest(device=device, readings=batch, received_at=datetime.now(UTC))


def states(device) -> list[tuple[str, float | None]]:
    from alerts.models import AlertEvent

    return [(event.state, event.value) for event in AlertEvent.objects.filter(device=device).order_by("ts", "id")]
