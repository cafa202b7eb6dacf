"""Alert events: what a rule's change of state records, and who hears of it.

Evaluation (in the ingest transaction, and the silence check of sendalerts) and the
rule services both record transitions here; this module imports neither of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from alerts import storage
from alerts.models import AlertEvent, AlertRule


@dataclass(frozen=True)
class Transition:
    rule: AlertRule
    state: str  # AlertEvent.FIRING or AlertEvent.RESOLVED
    ts: datetime
    value: float | None


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
    storage.events_and_outbox_insert(events, channel_ids_by_rule, now)
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


def _alerts_push(*, owner_id: int, events: list[AlertEvent]) -> None:
    from alerts.selectors import alert_event_message
    from live.push import live_send

    for event in events:
        # No device group: every live connection of the owner hears of it (the badge is
        # on every page), whichever devices it watches; the message names the device.
        live_send(user_id=owner_id, device_id=None, message=alert_event_message(event=event))
