"""Alerts tests: readings go in through the real ingest service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.evaluation import rule_cache_forget
from telemetry.payloads import ParsedReading
from telemetry.services import readings_ingest

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    # Rolled-back test data reuses ids; the rule cache must not outlive a test.
    rule_cache_forget()
    yield
    rule_cache_forget()


@pytest.fixture(autouse=True)
def loopback_webhooks(settings):
    # The webhook receivers of these tests listen on 127.0.0.1, which a webhook reaches
    # only once an operator opens it (alerts/webhooks.py); test_webhook_ssrf.py closes it.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ingest(device, *readings: tuple[str, float, float]) -> None:
    """Store (sensor, seconds after T0, value) readings as one batch."""
    batch = [ParsedReading(sensor, at(seconds), float(value)) for sensor, seconds, value in readings]
    readings_ingest(device=device, readings=batch, received_at=datetime.now(UTC))


def states(device) -> list[tuple[str, float | None]]:
    from alerts.models import AlertEvent

    return [(event.state, event.value) for event in AlertEvent.objects.filter(device=device).order_by("ts", "id")]
