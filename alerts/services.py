"""Writes: alert rules, notification channels, alert events and their outbox rows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from alerts.evaluation import rule_set_changed
from alerts.events import Transition, alert_transitions_record
from alerts.models import AlertEvent, AlertRule, NotificationChannel, webhook_secret
from devices.models import Device

# A change to any of these restarts evaluation: the old state says nothing about the new rule.
_REDEFINING_FIELDS = {"kind", "sensor", "enabled"}


@transaction.atomic
def alert_rule_create(
    *,
    device: Device,
    sensor: str,
    kind: str = AlertRule.BOUNDS,
    lower: float | None = None,
    upper: float | None = None,
    hysteresis: float = 0,
    duration_s: int = 0,
    enabled: bool = True,
    channels: Iterable[NotificationChannel] = (),
) -> AlertRule:
    rule = AlertRule.objects.create(
        device=device,
        sensor=sensor,
        kind=kind,
        lower=lower,
        upper=upper,
        hysteresis=hysteresis,
        duration_s=duration_s,
        enabled=enabled,
    )
    channels = list(channels)
    if channels:
        rule.channels.set(channels)
    rule_set_changed()
    return rule


@transaction.atomic
def alert_rule_update(*, rule: AlertRule, **fields: Any) -> AlertRule:
    channels = fields.pop("channels", None)
    redefined = any(name in fields and fields[name] != getattr(rule, name) for name in _REDEFINING_FIELDS)
    rule = AlertRule.objects.select_for_update().select_related("device").get(pk=rule.pk)
    for name, value in fields.items():
        setattr(rule, name, value)
    if redefined:
        if rule.state == AlertRule.FIRING:
            # Whoever was told it fired is told it is over, not left waiting.
            rule.state = AlertRule.OK
            alert_transitions_record(transitions=[Transition(rule, AlertEvent.RESOLVED, timezone.now(), None)])
        rule.state_since = rule.pending_since = rule.evaluated_ts = None
    rule.save()
    if channels is not None:
        rule.channels.set(channels)
    rule_set_changed()
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    rule.delete()
    rule_set_changed()


def notification_channel_create(
    *, owner: User, kind: str, name: str = "", address: str = "", url: str = "", secret: str = ""
) -> NotificationChannel:
    if kind == NotificationChannel.WEBHOOK and not secret:
        secret = webhook_secret()
    return NotificationChannel.objects.create(
        owner=owner, kind=kind, name=name, address=address, url=url, secret=secret
    )


def notification_channel_update(*, channel: NotificationChannel, **fields: Any) -> NotificationChannel:
    for name, value in fields.items():
        setattr(channel, name, value)
    if channel.kind == NotificationChannel.WEBHOOK and not channel.secret:
        channel.secret = webhook_secret()
    channel.save()
    return channel


def notification_channel_delete(*, channel: NotificationChannel) -> None:
    channel.delete()


def alert_acknowledge(*, event: AlertEvent) -> AlertEvent:
    if not event.acknowledged:
        AlertEvent.objects.filter(pk=event.pk, acknowledged=False).update(
            acknowledged=True, acknowledged_at=timezone.now()
        )
        event.refresh_from_db(fields=["acknowledged", "acknowledged_at"])
    return event
