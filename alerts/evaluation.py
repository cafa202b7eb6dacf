"""Alert evaluation: bounds rules on ingest, silence rules on the worker's schedule.

The ingest hook must cost next to nothing for sensors without rules, so which rules
watch which sensor is cached per process: a dict per device, dropped when the
RuleSetVersion row moves (checked at most once a second, one indexed read) and at once
in the process that changed a rule. The cache only says which rule ids to look at;
their bounds and state are read from the rule rows themselves, locked for the rest of
the ingest transaction, so a stale cache can delay a brand-new rule by a second but
never evaluate against old bounds, and two workers ingesting for one device evaluate
one after the other.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from alerts.models import AlertEvent, AlertRule, RuleSetVersion
from devices.models import Device
from telemetry.models import Sensor
from telemetry.payloads import ParsedReading

VERSION_CHECK_INTERVAL_S = 1.0

# device id → sensor key → ids of its enabled bounds rules (absent: not loaded yet).
_rule_ids_by_device: dict[int, dict[str, tuple[int, ...]]] = {}
_seen_version: int | None = None
_version_checked_at = float("-inf")
RULE_CACHE_DEVICES = 50_000


@dataclass(frozen=True)
class Transition:
    rule: AlertRule
    state: str  # AlertEvent.FIRING or AlertEvent.RESOLVED
    ts: datetime
    value: float | None


def rule_cache_forget() -> None:
    global _version_checked_at
    _rule_ids_by_device.clear()
    _version_checked_at = float("-inf")


def rule_set_version() -> int:
    version = RuleSetVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return version or 0


def rule_set_changed() -> None:
    """Call in the transaction that changes a rule: every process drops its cache."""
    if not RuleSetVersion.objects.filter(pk=1).update(version=F("version") + 1):
        RuleSetVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    rule_cache_forget()
    # Again after commit: a load in between may have cached the rules as they were.
    transaction.on_commit(rule_cache_forget)


def _rule_ids_for_device(device_id: int) -> dict[str, tuple[int, ...]]:
    global _seen_version, _version_checked_at
    now = time.monotonic()
    if now - _version_checked_at >= VERSION_CHECK_INTERVAL_S:
        version = rule_set_version()
        if version != _seen_version:
            _rule_ids_by_device.clear()
            _seen_version = version
        _version_checked_at = now
    cached = _rule_ids_by_device.get(device_id)
    if cached is None:
        by_sensor: dict[str, list[int]] = defaultdict(list)
        # alerts_rule_device_sensor serves this, once per device per process.
        rules = AlertRule.objects.filter(device_id=device_id, kind=AlertRule.BOUNDS, enabled=True)
        for rule_id, sensor in rules.values_list("id", "sensor"):
            by_sensor[sensor].append(rule_id)
        cached = {sensor: tuple(ids) for sensor, ids in by_sensor.items()}
        if len(_rule_ids_by_device) >= RULE_CACHE_DEVICES:
            _rule_ids_by_device.clear()
        _rule_ids_by_device[device_id] = cached
    return cached


def readings_evaluate(device: Device, readings: Sequence[ParsedReading]) -> None:
    """The in-transaction ingest hook: apply the stored readings to the device's rules."""
    if not readings:
        return
    rule_ids_by_sensor = _rule_ids_for_device(device.pk)
    if not rule_ids_by_sensor:
        return
    watched: dict[str, list[ParsedReading]] = defaultdict(list)
    for reading in readings:
        if reading.sensor in rule_ids_by_sensor:
            watched[reading.sensor].append(reading)
    if not watched:
        return
    rule_ids = [rule_id for sensor in watched for rule_id in rule_ids_by_sensor[sensor]]
    # Locked in id order (no deadlock between two batches of one device); filtered
    # again because the cache may be a second behind a disabled or deleted rule.
    rules = list(
        AlertRule.objects.select_for_update()
        .filter(id__in=rule_ids, kind=AlertRule.BOUNDS, enabled=True)
        .order_by("id")
    )
    transitions: list[Transition] = []
    for rule in rules:
        series = sorted(watched.get(rule.sensor, ()), key=lambda reading: reading.ts)
        transitions.extend(rule_apply_readings(rule, series))
    AlertRule.objects.bulk_update(rules, ["state", "state_since", "pending_since", "evaluated_ts"])
    if transitions:
        from alerts.services import alert_transitions_record

        for transition in transitions:
            transition.rule.device = device  # spare a query per event for the owner and name
        alert_transitions_record(transitions=transitions)


def value_outside(rule: AlertRule, value: float) -> bool:
    return (rule.lower is not None and value < rule.lower) or (rule.upper is not None and value > rule.upper)


def value_cleared(rule: AlertRule, value: float) -> bool:
    """Back inside the bounds by the hysteresis margin."""
    return (rule.lower is None or value >= rule.lower + rule.hysteresis) and (
        rule.upper is None or value <= rule.upper - rule.hysteresis
    )


def rule_apply_readings(rule: AlertRule, readings: Sequence[ParsedReading]) -> list[Transition]:
    """Advance one rule over readings sorted by time; changes the rule in memory only.

    A reading no newer than the last one evaluated arrived late (a device's buffer
    flushed after a newer reading): it is stored but never flips the state, since the
    state already reflects what came after it.
    """
    transitions = []
    duration = timedelta(seconds=rule.duration_s)
    for _sensor, ts, value in readings:
        if rule.evaluated_ts is not None and ts <= rule.evaluated_ts:
            continue
        rule.evaluated_ts = ts
        if rule.state == AlertRule.OK:
            if not value_outside(rule, value):
                rule.pending_since = None
                continue
            if rule.pending_since is None:
                rule.pending_since = ts
            if ts - rule.pending_since >= duration:
                rule.state, rule.state_since, rule.pending_since = AlertRule.FIRING, ts, None
                transitions.append(Transition(rule, AlertEvent.FIRING, ts, value))
        elif value_cleared(rule, value):
            rule.state, rule.state_since = AlertRule.OK, ts
            rule.pending_since = None if not value_outside(rule, value) else ts
            transitions.append(Transition(rule, AlertEvent.RESOLVED, ts, value))
    return transitions


def _silence_rules() -> list[AlertRule]:
    # alerts_rule_silence: a partial index over the enabled silence rules only.
    return list(AlertRule.objects.filter(kind=AlertRule.SILENCE, enabled=True).select_related("device"))


def silence_rules_check(*, now: datetime | None = None) -> list[Transition]:
    """Fire silence rules whose device or sensor has gone quiet; resolve those that
    report again. Run by sendalerts on a schedule; each change is claimed with a
    conditional UPDATE, so several workers checking at once record it once."""
    from alerts.services import alert_transitions_record

    now = now or timezone.now()
    rules = _silence_rules()
    sensor_keys = {(rule.device_id, rule.sensor) for rule in rules if rule.sensor}
    last_ts_by_sensor = {}
    if sensor_keys:
        sensors = Sensor.objects.filter(
            device_id__in={device_id for device_id, _key in sensor_keys},
            key__in={key for _device_id, key in sensor_keys},
        )
        last_ts_by_sensor = {(device_id, key): ts for device_id, key, ts in sensors.values_list("device_id", "key", "last_ts")}
    transitions = []
    for rule in rules:
        last = rule.device.last_seen_at if not rule.sensor else last_ts_by_sensor.get((rule.device_id, rule.sensor))
        # A device never heard from is quiet from the moment the rule was made.
        quiet = now - (last or rule.created_at) >= timedelta(seconds=rule.duration_s)
        if quiet and rule.state == AlertRule.OK:
            new_state, event_state, ts = AlertRule.FIRING, AlertEvent.FIRING, now
        elif not quiet and rule.state == AlertRule.FIRING and last is not None:
            new_state, event_state, ts = AlertRule.OK, AlertEvent.RESOLVED, max(last, rule.state_since or last)
        else:
            continue
        with transaction.atomic():
            claimed = AlertRule.objects.filter(pk=rule.pk, state=rule.state, enabled=True).update(
                state=new_state, state_since=ts
            )
            if claimed != 1:
                continue  # another worker recorded it, or the rule changed meanwhile
            rule.state, rule.state_since = new_state, ts
            transition = Transition(rule, event_state, ts, None)
            alert_transitions_record(transitions=[transition])
        transitions.append(transition)
    return transitions
