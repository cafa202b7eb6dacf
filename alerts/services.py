"""Writes: alert rules, notification channels, alert events and their outbox rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from alerts.evaluation import Transition, rule_set_changed
from alerts.models import AlertEvent, AlertRule, Notification, NotificationChannel, webhook_secret
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
        device=device, sensor=sensor, kind=kind, lower=lower, upper=upper,
        hysteresis=hysteresis, duration_s=duration_s, enabled=enabled,
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
    *, owner: AbstractBaseUser, kind: str, name: str = "", address: str = "", url: str = "", secret: str = ""
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


def alert_transitions_record(*, transitions: Sequence[Transition]) -> list[AlertEvent]:
    """An event per transition and an outbox row per channel of its rule, in the
    caller's transaction; the in-app message goes out after the commit."""
    now = timezone.now()
    events = AlertEvent.objects.bulk_create(
        [
            AlertEvent(
                rule=transition.rule, device=transition.rule.device, sensor=transition.rule.sensor,
                kind=transition.rule.kind, state=transition.state, value=transition.value,
                lower=transition.rule.lower, upper=transition.rule.upper, ts=transition.ts,
            )
            for transition in transitions
        ]
    )
    rule_ids = {transition.rule.pk for transition in transitions}
    channel_ids_by_rule: dict[int, list[int]] = defaultdict(list)
    for rule_id, channel_id in AlertRule.channels.through.objects.filter(alertrule_id__in=rule_ids).values_list(
        "alertrule_id", "notificationchannel_id"
    ):
        channel_ids_by_rule[rule_id].append(channel_id)
    Notification.objects.bulk_create(
        [
            Notification(event=event, channel_id=channel_id, next_attempt_at=now)
            for event in events
            for channel_id in channel_ids_by_rule[event.rule_id]
        ]
    )
    for transition, event in zip(transitions, events, strict=True):
        transaction.on_commit(partial(_alert_push, owner_id=transition.rule.device.owner_id, event=event))
    return events


def _alert_push(*, owner_id: int, event: AlertEvent) -> None:
    from alerts.selectors import alert_event_message, alerts_unacknowledged_count
    from telemetry.live import live_send

    message = alert_event_message(event=event)
    message["unacknowledged"] = alerts_unacknowledged_count(user_id=owner_id)
    live_send(user_id=owner_id, device_id=event.device_id, message=message)


def alert_acknowledge(*, event: AlertEvent) -> AlertEvent:
    if not event.acknowledged:
        AlertEvent.objects.filter(pk=event.pk, acknowledged=False).update(
            acknowledged=True, acknowledged_at=timezone.now()
        )
        event.refresh_from_db(fields=["acknowledged", "acknowledged_at"])
    return event
