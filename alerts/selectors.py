"""Reads: a user's rules, channels and alert history, always scoped to their owner."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Min, QuerySet
from django.shortcuts import get_object_or_404

from alerts.models import AlertEvent, AlertRule, NotificationChannel
from telemetry.selectors import iso_utc as telemetry_iso_utc


def alert_rules_of_user(*, user, device_id: int | None = None) -> QuerySet[AlertRule]:
    rules = AlertRule.objects.filter(device__owner=user).select_related("device").prefetch_related("channels")
    if device_id is not None:
        rules = rules.filter(device_id=device_id)
    return rules


def alert_rule_get_for_user(*, user, rule_id) -> AlertRule:
    return get_object_or_404(alert_rules_of_user(user=user), pk=rule_id)


def notification_channels_of_user(*, user) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(owner=user)


def notification_channel_get_for_user(*, user, channel_id) -> NotificationChannel:
    return get_object_or_404(notification_channels_of_user(user=user), pk=channel_id)


def alert_events_of_user(
    *,
    user,
    device_id: int | None = None,
    state: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    acknowledged: bool | None = None,
) -> QuerySet[AlertEvent]:
    """Newest first; alerts_event_device_ts serves a device's history."""
    events = AlertEvent.objects.filter(device__owner=user).select_related("device")
    if device_id is not None:
        events = events.filter(device_id=device_id)
    if state:
        events = events.filter(state=state)
    if start is not None:
        events = events.filter(ts__gte=start)
    if end is not None:
        events = events.filter(ts__lt=end)
    if acknowledged is not None:
        events = events.filter(acknowledged=acknowledged)
    return events.order_by("-ts", "-id")


def alert_event_get_for_user(*, user, event_id) -> AlertEvent:
    return get_object_or_404(alert_events_of_user(user=user), pk=event_id)


def alerts_unacknowledged_count(*, user_id: int) -> int:
    """The badge: firing alerts nobody has acknowledged (alerts_event_unacked)."""
    return AlertEvent.objects.filter(device__owner_id=user_id, state=AlertEvent.FIRING, acknowledged=False).count()


def devices_silenced(*, user) -> set[int]:
    """Ids of the user's devices a firing silence rule says are offline."""
    return set(
        AlertRule.objects.filter(
            device__owner=user, kind=AlertRule.SILENCE, enabled=True, state=AlertRule.FIRING
        ).values_list("device_id", flat=True)
    )


def alert_bounds_by_device(*, user, sensor: str) -> dict[int, tuple[float | None, float | None]]:
    """Per device of the user, where its enabled bounds rules on one sensor fire: below
    the highest lower bound, above the lowest upper bound (None: no such bound)."""
    rows = (
        AlertRule.objects.filter(device__owner=user, kind=AlertRule.BOUNDS, enabled=True, sensor=sensor)
        .order_by()
        .values("device_id")
        .annotate(lower=Max("lower"), upper=Min("upper"))
    )
    return {row["device_id"]: (row["lower"], row["upper"]) for row in rows}


def iso_utc(ts: datetime | None) -> str | None:
    return None if ts is None else telemetry_iso_utc(ts)


def alert_event_message(*, event: AlertEvent) -> dict:
    """An event as JSON: the webhook body and the in-app live message share it."""
    return {
        "type": "alert",
        "id": event.pk,
        "rule": event.rule_id,
        "device": event.device_id,
        "device_name": event.device.name,
        "sensor": event.sensor,
        "kind": event.kind,
        "state": event.state,
        "value": event.value,
        "lower": event.lower,
        "upper": event.upper,
        "ts": iso_utc(event.ts),
    }
