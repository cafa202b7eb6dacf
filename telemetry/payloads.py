"""Parse and validate telemetry bodies in one pass over the parsed JSON.

No DRF serializer per reading: a batch of 10,000 readings is checked here in a few
milliseconds. Every error names the item index and the field. The same parser serves
HTTP, MQTT and the ThingsBoard-compatible endpoint.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from django.conf import settings

from iotsite.errors import DomainError

DEFAULT_SENSOR = "value"
SENSOR_KEY_MAX_LENGTH = 64
# Epoch milliseconds below this (1973-03-03) are almost surely epoch seconds sent by
# mistake; storing them would put the reading in January 1970.
EPOCH_MS_FLOOR = 100_000_000_000
TS_VALUES_KEYS = {"ts", "values"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_EXACT_INT = 2**53


class ParsedReading(NamedTuple):
    # A tuple, not a dataclass: a batch builds 10,000 of them on the hot path.
    sensor: str
    ts: datetime
    value: float
    # The server gave it its time (the device sent none): a new value whatever it meets,
    # never taken for the duplicate of a reading stored at the same instant.
    stamped: bool = False


class PayloadError(DomainError):
    """A body that cannot be stored; `index` is the batch item (None for the body)."""

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None, status: int = 400):
        super().__init__(message, field=field, status=status)
        self.index = index

    def as_json(self) -> dict[str, Any]:
        where = []
        if self.index is not None:
            where.append(f"item {self.index}")
        if self.field:
            where.append(self.field)
        detail = f"{', '.join(where)}: {self.message}" if where else self.message
        return {"detail": detail, "index": self.index, "field": self.field}


@dataclass(frozen=True)
class PayloadLimits:
    max_readings: int
    future_margin: timedelta


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise PayloadError("The body is empty; send a JSON object or array.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # NaN and Infinity are not JSON, so they fail here too.
        raise PayloadError(f"Malformed JSON: {error}.") from None


def parse_readings(document: Any, *, now: datetime, limits: PayloadLimits) -> list[ParsedReading]:
    """All readings of a parsed body, or PayloadError for the first bad item."""
    items = document if isinstance(document, list) else [document]
    indexed = isinstance(document, list)
    if not items:
        raise PayloadError("The batch is empty.")
    readings: list[ParsedReading] = []
    checked_keys: set[str] = set()  # a batch repeats a few sensor names many times
    # The latest epoch milliseconds allowed, once per body, not once per item (a
    # quarter of the parse of a 1,000-item batch).
    latest_ms = _epoch_ms(now + limits.future_margin)
    for position, item in enumerate(items):
        index = position if indexed else None
        _parse_item(
            item,
            index=index,
            now=now,
            limits=limits,
            latest_ms=latest_ms,
            readings=readings,
            checked_keys=checked_keys,
        )
        check_batch_size(readings, limits=limits)
    return readings


def _parse_item(
    item: Any,
    *,
    index: int | None,
    now: datetime,
    limits: PayloadLimits,
    latest_ms: int,
    readings: list[ParsedReading],
    checked_keys: set[str],
) -> None:
    if not isinstance(item, dict):
        raise PayloadError(f"Expected a JSON object, got {_json_type(item)}.", index=index)
    if not item:
        raise PayloadError("The object holds no readings.", index=index)
    if "values" in item:
        if len(item) > 2 or (len(item) == 2 and "ts" not in item):
            extra = sorted(set(item) - TS_VALUES_KEYS)
            raise PayloadError(
                'Beside "values" only "ts" is allowed; put sensors inside "values".', index=index, field=extra[0]
            )
        values = item["values"]
        if not isinstance(values, dict) or not values:
            raise PayloadError("Must be a non-empty object of sensor: number.", index=index, field="values")
        if "ts" not in item:
            ts = now
        elif type(raw := item["ts"]) is int and EPOCH_MS_FLOOR <= raw <= latest_ms:
            ts = EPOCH + timedelta(milliseconds=raw)  # the common case, as parse_timestamp checks it
        else:
            ts = parse_timestamp(raw, now=now, limits=limits, index=index)
        prefix = "values."
    elif "ts" in item:
        raise PayloadError('A timestamp needs the form {"ts": ..., "values": {...}}.', index=index, field="ts")
    else:
        values, ts, prefix = item, now, ""
    add_values(
        values, ts=ts, index=index, readings=readings, checked_keys=checked_keys, prefix=prefix, stamped=ts is now
    )


def add_values(
    values: dict[str, Any],
    *,
    ts: datetime,
    index: int | None,
    readings: list[ParsedReading],
    checked_keys: set[str],
    prefix: str = "",
    stamped: bool = False,
) -> None:
    """Append one reading per sensor: value, checking keys and values by the rules every
    ingest form shares (JSON bodies, MQTT, line protocol, ThingSpeak)."""
    for key, value in values.items():
        if key not in checked_keys:
            checked_keys.add(_check_sensor_key(key, index=index, prefix=prefix))
        kind = type(value)
        if kind is float and math.isfinite(value):
            readings.append(ParsedReading(key, ts, value, stamped))
        elif kind is int and -MAX_EXACT_INT <= value <= MAX_EXACT_INT:
            readings.append(ParsedReading(key, ts, float(value), stamped))
        else:
            readings.append(ParsedReading(key, ts, _check_value(value, index, prefix + key), stamped))


def check_batch_size(readings: list[ParsedReading], *, limits: PayloadLimits) -> None:
    if len(readings) > limits.max_readings:
        raise PayloadError(f"The batch holds more than {limits.max_readings} readings; split it.", status=413)


def _check_sensor_key(key: str, *, index: int | None, prefix: str) -> str:
    field = prefix + key
    if not key.strip():
        raise PayloadError("A sensor name cannot be blank.", index=index, field=field)
    if len(key) > SENSOR_KEY_MAX_LENGTH:
        raise PayloadError(
            f"Sensor names are at most {SENSOR_KEY_MAX_LENGTH} characters.", index=index, field=field[:80]
        )
    if any(unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} for char in key):
        raise PayloadError("Sensor names cannot hold control characters.", index=index, field=repr(field)[1:-1])
    return key


def _check_value(value: Any, index: int | None, field: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isfinite(number):
            return number
        raise PayloadError("Must be a finite number.", index=index, field=field)
    raise PayloadError(f"Must be a number, not {_json_type(value)}.", index=index, field=field)


def parse_timestamp(raw: Any, *, now: datetime, limits: PayloadLimits, index: int | None = None) -> datetime:
    """ISO 8601 with an offset, or epoch milliseconds; never in the future past the margin."""
    if type(raw) is int and EPOCH_MS_FLOOR <= raw <= _epoch_ms(now + limits.future_margin):
        return EPOCH + timedelta(milliseconds=raw)  # the common case, checked cheaply
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise PayloadError("Must be an ISO 8601 string or epoch milliseconds.", index=index, field="ts")
    if isinstance(raw, str):
        ts = _parse_iso(raw, index)
    else:
        ts = _parse_epoch_ms(raw, index)
    hint = " (microseconds? send milliseconds)" if isinstance(raw, (int, float)) else ""
    return check_not_future(ts, now=now, limits=limits, index=index, hint=hint)


def check_not_future(
    ts: datetime, *, now: datetime, limits: PayloadLimits, index: int | None = None, field: str = "ts", hint: str = ""
) -> datetime:
    if ts - now > limits.future_margin:
        raise PayloadError(
            f"Lies more than {int(limits.future_margin.total_seconds())} s in the future{hint}.",
            index=index,
            field=field,
        )
    return ts


def _epoch_ms(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(milliseconds=1)


def _parse_iso(raw: str, index: int | None) -> datetime:
    try:
        ts = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise PayloadError(f"{raw[:40]!r} is not an ISO 8601 timestamp.", index=index, field="ts") from None
    if ts.tzinfo is None:
        raise PayloadError(
            "An ISO 8601 timestamp needs a UTC offset (e.g. 2026-01-31T12:00:00Z).", index=index, field="ts"
        )
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+05:00 lies before year 1 in UTC, 9999-12-31T23:59-05:00 after 9999.
        raise PayloadError(f"{raw[:40]!r} is out of range once converted to UTC.", index=index, field="ts") from None


def _parse_epoch_ms(raw: int | float, index: int | None) -> datetime:
    if not math.isfinite(raw) or raw < 0:
        raise PayloadError("Epoch milliseconds must be a positive number.", index=index, field="ts")
    if raw < EPOCH_MS_FLOOR:
        raise PayloadError(
            "This looks like epoch seconds; send epoch milliseconds (seconds × 1000).", index=index, field="ts"
        )
    try:
        return EPOCH + timedelta(milliseconds=raw)  # exact, unlike float seconds
    except OverflowError:
        raise PayloadError("Epoch milliseconds out of range.", index=index, field="ts") from None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", type(None): "null", bool: "a boolean"}
    return names.get(type(value), "a number")


def payload_limits() -> PayloadLimits:
    """The limits the settings put on one request or message."""
    return PayloadLimits(max_readings=settings.TELEMETRY_MAX_BATCH, future_margin=settings.TELEMETRY_FUTURE_MARGIN)
