"""The alerts' hand-written SQL: the statements ingest adds per batch.

Compiling the ORM's select_for_update and bulk_update (a CASE per field) cost more than
running them, and these run inside every ingest transaction that touches a rule.
PostgreSQL gets one statement per step; SQLite (make run, the tests) plain ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from django.db import connection

from alerts.models import AlertEvent, AlertRule, Notification

_RULES_SAVE_IF_UNCHANGED = """
UPDATE alerts_alertrule AS r SET state = v.state, state_since = v.state_since,
    pending_since = v.pending_since, evaluated_ts = v.evaluated_ts
FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::text[], %s::timestamptz[],
            %s::timestamptz[], %s::timestamptz[])
    AS v(id, seen_evaluated_ts, seen_updated_at, state, state_since, pending_since, evaluated_ts)
WHERE r.id = v.id AND r.enabled
    AND r.evaluated_ts IS NOT DISTINCT FROM v.seen_evaluated_ts AND r.updated_at = v.seen_updated_at
RETURNING r.id
"""


def rules_save_if_unchanged(changed: list[tuple[AlertRule, AlertRule]]) -> set[int]:
    """Write back rules evaluated from the cache, (as cached, as evaluated) pairs, where
    their rows are still as cached; the ids of the rules saved. PostgreSQL only."""
    connection.ensure_connection()
    # A plain psycopg cursor binds the arrays as parameters, and after a few batches
    # runs the statement prepared (Django's cursor would quote every value into the SQL).
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            _RULES_SAVE_IF_UNCHANGED,
            [
                [rule.pk for _cached, rule in changed],
                [cached.evaluated_ts for cached, _rule in changed],
                [cached.updated_at for cached, _rule in changed],
                [rule.state for _cached, rule in changed],
                [rule.state_since for _cached, rule in changed],
                [rule.pending_since for _cached, rule in changed],
                [rule.evaluated_ts for _cached, rule in changed],
            ],
        )
        return {row[0] for row in cursor.fetchall()}


_RULES_LOCKED_SQL = (
    'SELECT id, device_id, kind, sensor, "lower", "upper", hysteresis, duration_s, state, state_since, '
    "pending_since, evaluated_ts FROM alerts_alertrule WHERE id IN ({ids}) AND enabled AND kind = %s ORDER BY id{lock}"
)


def rules_locked(rule_ids: list[int]) -> list[AlertRule]:
    """The rules' rows, locked until the ingest transaction ends, in id order (two
    batches of one device never deadlock); filtered again because the cache may be a
    second behind a disabled or deleted rule."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = _RULES_LOCKED_SQL.format(ids=", ".join(["%s"] * len(rule_ids)), lock=lock)
    return list(AlertRule.objects.raw(sql, [*rule_ids, AlertRule.BOUNDS]))


_RULES_SAVE_POSTGRESQL = """
UPDATE alerts_alertrule AS r SET state = v.state, state_since = v.state_since,
    pending_since = v.pending_since, evaluated_ts = v.evaluated_ts
FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
    AS v(id, state, state_since, pending_since, evaluated_ts)
WHERE r.id = v.id
"""


def rules_save_state(rules: list[AlertRule]) -> None:
    if not rules:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _RULES_SAVE_POSTGRESQL,
                [
                    [rule.pk for rule in rules],
                    [rule.state for rule in rules],
                    [rule.state_since for rule in rules],
                    [rule.pending_since for rule in rules],
                    [rule.evaluated_ts for rule in rules],
                ],
            )
            return
        adapt = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            "UPDATE alerts_alertrule SET state = %s, state_since = %s, pending_since = %s, evaluated_ts = %s"
            " WHERE id = %s",
            [
                (rule.state, adapt(rule.state_since), adapt(rule.pending_since), adapt(rule.evaluated_ts), rule.pk)
                for rule in rules
            ],
        )


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


def events_and_outbox_insert(
    events: list[AlertEvent], channel_ids_by_rule: dict[int, list[int]], now: datetime
) -> None:
    """Insert the events, and an outbox row per channel of each event's rule."""
    if connection.vendor == "postgresql":
        _events_and_outbox_insert_postgresql(events, channel_ids_by_rule, now)
        return
    AlertEvent.objects.bulk_create(events)
    Notification.objects.bulk_create(
        [
            Notification(event=event, channel_id=channel_id, next_attempt_at=now)
            for event in events
            for channel_id in channel_ids_by_rule[event.rule_id]  # type: ignore[index]
        ]
    )
