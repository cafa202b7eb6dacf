"""Writes: alert rules, notification channels, alert events and their outbox rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
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


def alert_transitions_record(*, transitions: Sequence[Transition]) -> list[AlertEvent]:
    """An event per transition and an outbox row per channel of its rule, in the
    caller's transaction; the in-app message goes out after the commit."""
    now = timezone.now()
    events = [
        AlertEvent(
            rule=transition.rule,
            device=transition.rule.device,
            sensor=transition.rule.sensor,
            kind=transition.rule.kind,
            state=transition.state,
            value=transition.value,
            lower=transition.rule.lower,
            upper=transition.rule.upper,
            ts=transition.ts,
            acknowledged=False,
            created_at=now,
        )
        for transition in transitions
    ]
    channel_ids_by_rule = _channel_ids_by_rule([transition.rule for transition in transitions])
    if connection.vendor == "postgresql":
        _events_and_outbox_insert_postgresql(events, channel_ids_by_rule, now)
    else:
        AlertEvent.objects.bulk_create(events)
        Notification.objects.bulk_create(
            [
                Notification(event=event, channel_id=channel_id, next_attempt_at=now)
                for event in events
                for channel_id in channel_ids_by_rule[event.rule_id]  # type: ignore[index]
            ]
        )
    events_by_owner: dict[int, list[AlertEvent]] = defaultdict(list)
    for transition, event in zip(transitions, events, strict=True):
        events_by_owner[transition.rule.device.owner_id].append(event)
    for owner_id, owner_events in events_by_owner.items():
        transaction.on_commit(partial(_alerts_push, owner_id=owner_id, events=owner_events))
    return events


def _channel_ids_by_rule(rules: Sequence[AlertRule]) -> dict[int, list[int]]:
    """Rules from the ingest cache know their channels; others are looked up."""
    channel_ids: dict[int, list[int]] = defaultdict(list)
    for rule in rules:
        if hasattr(rule, "channel_ids"):
            channel_ids[rule.pk] = rule.channel_ids
    unknown = {rule.pk for rule in rules} - channel_ids.keys()
    if unknown:
        through = AlertRule.channels.through.objects.filter(alertrule_id__in=unknown)
        for rule_id, channel_id in through.values_list("alertrule_id", "notificationchannel_id"):
            channel_ids[rule_id].append(channel_id)
    return channel_ids


# Events and their outbox rows in one round trip: this runs inside ingest.
_EVENTS_AND_OUTBOX_INSERT = """
WITH incoming AS (
    SELECT * FROM unnest(%s::int[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[],
                         %s::float8[], %s::float8[], %s::float8[], %s::timestamptz[])
        AS e(position, rule_id, device_id, sensor, kind, state, value, lower, upper, ts)
), inserted AS (
    INSERT INTO alerts_alertevent (rule_id, device_id, sensor, kind, state, value, "lower", "upper", ts,
                                   acknowledged, created_at)
    SELECT rule_id, device_id, sensor, kind, state, value, lower, upper, ts, false, %s FROM incoming
    ORDER BY position
    RETURNING id, rule_id, ts
), events AS (
    -- A rule makes at most one transition at one instant: (rule, ts) names the event.
    SELECT inserted.id, incoming.position, inserted.rule_id
    FROM inserted JOIN incoming ON incoming.rule_id = inserted.rule_id AND incoming.ts = inserted.ts
), outbox AS (
    INSERT INTO alerts_notification (event_id, channel_id, status, attempts, next_attempt_at, last_error,
                                     claimed_by, created_at)
    SELECT events.id, channels.channel_id, 'pending', 0, %s, '', '', %s
    FROM events JOIN unnest(%s::bigint[], %s::bigint[]) AS channels(rule_id, channel_id)
        ON channels.rule_id = events.rule_id
)
SELECT position, id FROM events
"""


def _events_and_outbox_insert_postgresql(
    events: list[AlertEvent], channel_ids_by_rule: dict[int, list[int]], now
) -> None:
    pairs = [(rule_id, channel_id) for rule_id, ids in channel_ids_by_rule.items() for channel_id in ids]
    columns: list[list[Any]] = [
        list(range(len(events))),
        [e.rule_id for e in events],
        [e.device_id for e in events],
        [e.sensor for e in events],
        [e.kind for e in events],
        [e.state for e in events],
        [e.value for e in events],
        [e.lower for e in events],
        [e.upper for e in events],
        [e.ts for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS_AND_OUTBOX_INSERT,
            [*columns, now, now, now, [rule_id for rule_id, _ in pairs], [channel_id for _, channel_id in pairs]],
        )
        for position, event_id in cursor.fetchall():
            events[position].pk = event_id
            events[position]._state.adding = False
            events[position]._state.db = "default"


def _alerts_push(*, owner_id: int, events: list[AlertEvent]) -> None:
    from alerts.selectors import alert_event_message
    from telemetry.live import live_send

    for event in events:
        # No device group: every live connection of the owner hears of it (the badge is
        # on every page), whichever devices it watches; the message names the device.
        live_send(user_id=owner_id, device_id=None, message=alert_event_message(event=event))


def alert_acknowledge(*, event: AlertEvent) -> AlertEvent:
    if not event.acknowledged:
        AlertEvent.objects.filter(pk=event.pk, acknowledged=False).update(
            acknowledged=True, acknowledged_at=timezone.now()
        )
        event.refresh_from_db(fields=["acknowledged", "acknowledged_at"])
    return event
