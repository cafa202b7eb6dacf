"""InfluxDB line protocol, parsed into the readings telemetry.services stores.

A line is `measurement[,tag=value...] field=value[,field=value...] [timestamp]`. Each
field becomes one reading; its sensor key is the measurement, the values of the tags
the device keeps (its config `line_protocol_tags`: "drop" by default, "keep", or a list
of tag keys), and the field key, joined by dots, in tag-key order:

    weather,room=kitchen temp=21.5,hum=40i   →  weather.temp, weather.hum          (drop)
                                              →  weather.kitchen.temp, ...          (keep)

A field named `value` adds nothing: `temperature value=21.5` is sensor `temperature`.
Floats and integers (`1i`, `1u`) are stored as numbers, booleans as 1 and 0; string
fields have nowhere to go and refuse the request. Keys, values, batch size and
timestamps pass the same checks as every other ingest form (telemetry.payloads).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telemetry import payloads
from telemetry.payloads import EPOCH, ParsedReading, PayloadError, PayloadLimits

# Nanoseconds per unit of each precision the two write APIs name.
PRECISIONS_V2 = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
PRECISIONS_V1 = {
    "n": 1,
    "ns": 1,
    "u": 1_000,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
TAGS_DROP = "drop"
TAGS_KEEP = "keep"
# Before this (1973-03-03) a timestamp is almost surely in another unit than the
# precision says: the JSON API's rule for epoch milliseconds, as an instant.
TIMESTAMP_FLOOR = EPOCH + timedelta(milliseconds=payloads.EPOCH_MS_FLOOR)
INT64 = 2**63
UINT64 = 2**64
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"[-+]?\d+")
_TRUE = {"t", "T", "true", "True", "TRUE"}
_FALSE = {"f", "F", "false", "False", "FALSE"}
ERROR_LINE_CHARS = 200


class LineProtocolError(Exception):
    """A request InfluxDB would refuse, with the status and `code` it answers."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid", line: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.line = line

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.line is not None:
            body["line"] = self.line
        return body


@dataclass(frozen=True)
class Line:
    measurement: str
    tags: list[tuple[str, str]]
    fields: list[tuple[str, Any]]
    timestamp: int | None


class _Malformed(Exception):
    pass


def tag_mode_of(config: Any) -> str | frozenset[str]:
    """The device's tag setting: "drop", "keep", or the tag keys it keeps."""
    setting = config.get("line_protocol_tags") if isinstance(config, dict) else None
    if setting == TAGS_KEEP:
        return TAGS_KEEP
    if isinstance(setting, list):
        return frozenset(tag for tag in setting if isinstance(tag, str))
    return TAGS_DROP


def sensor_key(measurement: str, tags: list[tuple[str, str]], field: str, tag_mode: str | frozenset[str]) -> str:
    parts = [measurement]
    if tag_mode != TAGS_DROP and tags:
        parts.extend(value for key, value in sorted(tags) if tag_mode == TAGS_KEEP or key in tag_mode)
    if field != "value":
        parts.append(field)
    return ".".join(parts)


def parse_body(
    text: str,
    *,
    precision_ns: int,
    tag_mode: str | frozenset[str],
    now: datetime,
    limits: PayloadLimits,
) -> list[ParsedReading]:
    """Every reading of a line-protocol body, or LineProtocolError for the first bad line:
    one bad line refuses the whole request, as InfluxDB OSS does, and nothing is stored."""
    readings: list[ParsedReading] = []
    checked_keys: set[str] = set()
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            line = parse_line(stripped)
        except _Malformed as error:
            raise _invalid(stripped, str(error), number) from None
        ts = now if line.timestamp is None else _instant(line.timestamp, precision_ns, stripped, number)
        try:
            payloads.check_not_future(ts, now=now, limits=limits, index=number)
            values = {sensor_key(line.measurement, line.tags, key, tag_mode): value for key, value in line.fields}
            payloads.add_values(
                values, ts=ts, index=number, readings=readings, checked_keys=checked_keys, stamped=ts is now
            )
            payloads.check_batch_size(readings, limits=limits)
        except PayloadError as error:
            raise _from_payload_error(error, stripped, number) from None
    if not readings:
        raise LineProtocolError("writing requires points")
    return readings


def _instant(timestamp: int, precision_ns: int, line: str, number: int) -> datetime:
    nanoseconds = timestamp * precision_ns
    try:
        ts = EPOCH + timedelta(microseconds=nanoseconds // 1000)
    except OverflowError:
        raise _invalid(line, "timestamp out of range", number) from None
    if ts < TIMESTAMP_FLOOR:
        raise LineProtocolError(
            f"line {number}: timestamp {timestamp} lies before 1973 at this precision; "
            "set precision= to the unit the device sends (s, ms, us or ns)",
            status=422,
            code="unprocessable entity",
            line=number,
        )
    return ts


def _invalid(line: str, reason: str, number: int) -> LineProtocolError:
    shown = line if len(line) <= ERROR_LINE_CHARS else line[:ERROR_LINE_CHARS] + "…"
    return LineProtocolError(f"unable to parse '{shown}': {reason} (line {number})", line=number)


def _from_payload_error(error: PayloadError, line: str, number: int) -> LineProtocolError:
    if error.status == 413:
        return LineProtocolError(error.message, status=413, code="request too large")
    if error.field == "ts":
        # A point the server will not keep, like one outside a bucket's retention.
        return LineProtocolError(
            f"line {number}: timestamp {error.message[0].lower()}{error.message[1:]}",
            status=422,
            code="unprocessable entity",
            line=number,
        )
    where = f"sensor {error.field!r}: " if error.field else ""
    return _invalid(line, where + error.message, number)


# --- one line ---------------------------------------------------------------------------


def parse_line(line: str) -> Line:
    if "\\" not in line and '"' not in line:
        return _parse_plain(line)
    return _parse_escaped(line)


def _parse_plain(line: str) -> Line:
    """Most lines hold no escapes nor strings: split them."""
    parts = line.split()
    if len(parts) < 2:
        raise _Malformed("missing fields")
    if len(parts) > 3:
        raise _Malformed("bad timestamp" if len(parts) == 4 else "invalid field format")
    series = parts[0].split(",")
    measurement = series[0]
    if not measurement:
        raise _Malformed("missing measurement")
    tags = []
    for tag in series[1:]:
        key, equals, value = tag.partition("=")
        if not key:
            raise _Malformed("missing tag key")
        if not equals or not value:
            raise _Malformed(f"missing tag value for {key!r}")
        tags.append((key, value))
    fields = []
    for field in parts[1].split(","):
        key, equals, value = field.partition("=")
        if not key:
            raise _Malformed("missing field key")
        if not equals or not value:
            raise _Malformed(f"missing field value for {key!r}")
        fields.append((key, _field_value(key, value)))
    return Line(measurement, tags, fields, _timestamp(parts[2]) if len(parts) == 3 else None)


def _parse_escaped(line: str) -> Line:
    """The general case: backslash escapes in names, quoted string field values."""
    measurement, pos = _scan(line, 0, ", ")
    if not measurement:
        raise _Malformed("missing measurement")
    tags = []
    while pos < len(line) and line[pos] == ",":
        key, pos = _scan(line, pos + 1, ",= ")
        if not key:
            raise _Malformed("missing tag key")
        if pos >= len(line) or line[pos] != "=":
            raise _Malformed(f"missing tag value for {key!r}")
        value, pos = _scan(line, pos + 1, ", ")
        if not value:
            raise _Malformed(f"missing tag value for {key!r}")
        tags.append((key, value))
    pos = _skip_spaces(line, pos)
    if pos >= len(line):
        raise _Malformed("missing fields")
    fields = []
    while True:
        key, pos = _scan(line, pos, ",= ")
        if not key:
            raise _Malformed("missing field key")
        if pos >= len(line) or line[pos] != "=":
            raise _Malformed(f"missing field value for {key!r}")
        pos += 1
        if pos < len(line) and line[pos] == '"':
            pos = _skip_string(line, pos)
            raise _Malformed(f"field {key!r} is a string; only numbers and booleans are stored")
        raw, pos = _scan(line, pos, ", ")
        if not raw:
            raise _Malformed(f"missing field value for {key!r}")
        fields.append((key, _field_value(key, raw)))
        if pos < len(line) and line[pos] == ",":
            pos += 1
            continue
        break
    pos = _skip_spaces(line, pos)
    rest = line[pos:].strip()
    if not rest:
        return Line(measurement, tags, fields, None)
    if " " in rest:
        raise _Malformed("bad timestamp")
    return Line(measurement, tags, fields, _timestamp(rest))


def _scan(line: str, pos: int, stops: str) -> tuple[str, int]:
    """Text up to the first unescaped stop character; `\\x` is x for x in `, =`."""
    out = []
    end = len(line)
    while pos < end:
        char = line[pos]
        if char == "\\" and pos + 1 < end and line[pos + 1] in ", =":
            out.append(line[pos + 1])
            pos += 2
            continue
        if char in stops:
            break
        out.append(char)
        pos += 1
    return "".join(out), pos


def _skip_spaces(line: str, pos: int) -> int:
    while pos < len(line) and line[pos] == " ":
        pos += 1
    return pos


def _skip_string(line: str, pos: int) -> int:
    pos += 1
    while pos < len(line):
        if line[pos] == "\\":
            pos += 2
            continue
        if line[pos] == '"':
            return pos + 1
        pos += 1
    raise _Malformed("unbalanced quotes")


def _field_value(key: str, raw: str) -> Any:
    last = raw[-1]
    if last == "i" and _INTEGER.fullmatch(raw, 0, len(raw) - 1):
        number = int(raw[:-1])
        if not -INT64 <= number < INT64:
            raise _Malformed(f"value out of range for integer field {key!r}")
        return number
    if last == "u" and _INTEGER.fullmatch(raw, 0, len(raw) - 1) and raw[0] != "-":
        number = int(raw[:-1])
        if number >= UINT64:
            raise _Malformed(f"value out of range for unsigned field {key!r}")
        return number
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    if raw[0] == '"':
        raise _Malformed(f"field {key!r} is a string; only numbers and booleans are stored")
    if not _FLOAT.fullmatch(raw):
        raise _Malformed(f"invalid field value {raw[:40]!r} for {key!r}")
    return float(raw)  # an overflow to inf is refused by the shared value check


def _timestamp(raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise _Malformed(f"bad timestamp {raw[:40]!r}")
    value = int(raw)
    if not -INT64 <= value < INT64:
        raise _Malformed("timestamp out of range")
    return value
