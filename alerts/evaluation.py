"""Alert evaluation: bounds rules on ingest, silence rules on the worker's schedule.

The ingest hook must cost next to nothing, so each process caches a device's enabled
bounds rules, with their evaluation state, per sensor. The cache is dropped when the
RuleSetVersion row moves (checked at most once a second, one indexed read) and at
once in the process that changed a rule.

On PostgreSQL a batch then costs one statement: the new state of every rule it
touched, written with a conditional UPDATE that only matches rows still as the cache
saw them (same evaluated_ts, same updated_at). A row that moved meanwhile (another
worker evaluated it, the rule was edited, a transaction rolled back) is read again
under a row lock and evaluated afresh, so a stale cache costs a round trip, never a
wrong transition, and two workers ingesting for one device take turns on its rows.
SQLite, one writer at a time, always takes the locked path.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alerts import storage
from alerts.events import Transition, alert_transitions_record
from alerts.models import AlertEvent, AlertRule, RuleSetVersion
from devices.models import Device
from telemetry.models import Sensor
from telemetry.payloads import ParsedReading

VERSION_CHECK_INTERVAL_S = 1.0

# device id → sensor key → its enabled bounds rules (absent: not loaded yet). A
# sensor's tuple is replaced whole, never changed in place: a thread reading it while
# another ingests sees one consistent state.
_rules_by_device: dict[int, dict[str, tuple[AlertRule, ...]]] = {}
_seen_version: int | None = None
_version_checked_at = float("-inf")
RULE_CACHE_DEVICES = 50_000


def rule_cache_forget() -> None:
    global _version_checked_at
    _rules_by_device.clear()
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


def _rules_for_device(device_id: int) -> dict[str, tuple[AlertRule, ...]]:
    global _seen_version, _version_checked_at
    now = time.monotonic()
    if now - _version_checked_at >= VERSION_CHECK_INTERVAL_S:
        version = rule_set_version()
        if version != _seen_version:
            _rules_by_device.clear()
            _seen_version = version
        _version_checked_at = now
    cached = _rules_by_device.get(device_id)
    if cached is None:
        by_sensor: dict[str, list[AlertRule]] = defaultdict(list)
        # alerts_rule_device_sensor serves this, once per device per process.
        rules = AlertRule.objects.filter(device_id=device_id, kind=AlertRule.BOUNDS, enabled=True)
        for rule in rules.prefetch_related("channels").order_by("id"):
            rule.channel_ids = [channel.pk for channel in rule.channels.all()]  # type: ignore[attr-defined]
            rule._prefetched_objects_cache = {}  # type: ignore[attr-defined]
            by_sensor[rule.sensor].append(rule)
        cached = {sensor: tuple(rules) for sensor, rules in by_sensor.items()}
        if len(_rules_by_device) >= RULE_CACHE_DEVICES:
            _rules_by_device.clear()
        _rules_by_device[device_id] = cached
    return cached


def readings_evaluate(device: Device, readings: Sequence[ParsedReading]) -> None:
    """The in-transaction ingest hook: apply the stored readings to the device's rules."""
    if not readings:
        return
    rules_by_sensor = _rules_for_device(device.pk)
    if not rules_by_sensor:
        return
    watched: dict[str, list[ParsedReading]] = defaultdict(list)
    for reading in readings:
        if reading.sensor in rules_by_sensor:
            watched[reading.sensor].append(reading)
    if not watched:
        return
    for series in watched.values():
        series.sort(key=_reading_ts)
    transitions: list[Transition] = []
    if connection.vendor == "postgresql":
        stale_ids = _evaluate_from_cache(rules_by_sensor, watched, transitions)
    else:
        stale_ids = [rule.pk for sensor in watched for rule in rules_by_sensor[sensor]]
    if stale_ids:
        rules = storage.rules_locked(stale_ids)
        for rule in rules:
            transitions.extend(rule_apply_readings(rule, watched.get(rule.sensor, ())))
        storage.rules_save_state(rules)
        if connection.vendor == "postgresql":
            _rules_by_device.pop(device.pk, None)  # reloaded with the state as it is now
    if transitions:
        for transition in transitions:
            transition.rule.device = device  # spare a query per event for the owner and name
        alert_transitions_record(transitions=transitions)


def _evaluate_from_cache(
    rules_by_sensor: dict[str, tuple[AlertRule, ...]], watched: dict[str, list[ParsedReading]], transitions: list
) -> list[int]:
    """Evaluate copies of the cached rules and write them back in one statement; the
    ids of the rules whose rows had moved (to evaluate again under a lock)."""
    evaluated: dict[str, tuple[AlertRule, ...]] = {}
    changed: list[tuple[AlertRule, AlertRule]] = []  # (as cached, as evaluated)
    found: dict[int, list[Transition]] = {}
    for sensor, series in watched.items():
        updated = []
        for cached in rules_by_sensor[sensor]:
            rule = copy.copy(cached)
            found[rule.pk] = rule_apply_readings(rule, series)
            if rule.evaluated_ts != cached.evaluated_ts:
                changed.append((cached, rule))
            updated.append(rule)
        evaluated[sensor] = tuple(updated)
    if not changed:
        return []  # every reading was older than what the rules had seen
    saved = storage.rules_save_if_unchanged(changed)
    for _cached, rule in changed:
        if rule.pk in saved:
            transitions.extend(found[rule.pk])
    # Ahead of the commit: a batch that rolls back leaves the cache ahead of the rows,
    # which the next batch's conditional UPDATE notices.
    rules_by_sensor.update(evaluated)
    return [rule.pk for _cached, rule in changed if rule.pk not in saved]


def _reading_ts(reading: ParsedReading) -> datetime:
    return reading.ts


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
    for _sensor, ts, value, _stamped in readings:
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
    now = now or timezone.now()
    rules = _silence_rules()
    sensor_keys = {(rule.device_id, rule.sensor) for rule in rules if rule.sensor}
    last_ts_by_sensor = {}
    if sensor_keys:
        sensors = Sensor.objects.filter(
            device_id__in={device_id for device_id, _key in sensor_keys},
            key__in={key for _device_id, key in sensor_keys},
        )
        last_ts_by_sensor = {
            (device_id, key): ts for device_id, key, ts in sensors.values_list("device_id", "key", "last_ts")
        }
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
