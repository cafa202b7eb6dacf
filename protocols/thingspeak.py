"""ThingSpeak's update API: `field1`…`field8` of one entry, stored as readings.

Each field becomes a reading of the sensor the device's config names for it
(`thingspeak_fields`: {"field1": "temperature", ...}), or of sensor `fieldN`. Values
must be numbers, as for every ingest form; an empty field is skipped, as ThingSpeak
leaves it null. `created_at` (ISO 8601, UTC unless it carries an offset or a
`timezone` parameter names an IANA zone) stamps the entry. Every update gets the next
entry number of the device, counted like a ThingSpeak channel's entry_id.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from django.db import IntegrityError, transaction
from django.db.models import F

from devices.device_types import THINGSPEAK_FIELDS
from devices.models import Device
from protocols.models import ThingSpeakChannel
from telemetry import payloads, services
from telemetry.payloads import PayloadError, PayloadLimits

FIELDS = [f"field{number}" for number in range(1, 9)]
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Entry:
    channel_id: int
    entry_id: int
    created_at: datetime
    fields: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "channel_id": self.channel_id,
            "created_at": self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "entry_id": self.entry_id,
            **{name: self.fields.get(name) for name in FIELDS},
        }


def form_of(body: bytes, *, content_type: str) -> dict[str, Any]:
    """The parameters of a POST body: form-encoded, or a JSON object."""
    if not body.strip():
        return {}
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json":
        document = payloads.parse_json(body)
        if not isinstance(document, dict):
            raise PayloadError("Send a JSON object of api_key, field1 … field8.")
        return {
            key: value if isinstance(value, str) else orjson.dumps(value).decode() for key, value in document.items()
        }
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=100))
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("The body is not form-encoded UTF-8.") from None


def sensor_names(device: Device) -> dict[str, str]:
    config = device.config if isinstance(device.config, dict) else {}
    named = config.get(THINGSPEAK_FIELDS)
    named = named if isinstance(named, dict) else {}
    return {name: named.get(name) or name for name in FIELDS}


def update(*, device: Device, params: dict[str, Any], now: datetime, limits: PayloadLimits) -> Entry:
    """Store one entry and return it with its number; PayloadError when it cannot be stored."""
    ts = _created_at(params, now=now, limits=limits)
    names = sensor_names(device)
    values: dict[str, float] = {}
    sent: dict[str, str] = {}
    for name in FIELDS:
        raw = params.get(name)
        if raw is None or not str(raw).strip():
            continue
        sent[name] = str(raw)
        values[names[name]] = _number(str(raw), field=name)
    if not values:
        raise PayloadError("An update needs at least one of field1 … field8.")
    readings: list[payloads.ParsedReading] = []
    payloads.add_values(values, ts=ts, index=None, readings=readings, checked_keys=set(), stamped=ts is now)
    with transaction.atomic():
        services.readings_ingest(device=device, readings=readings, received_at=now)
        entry_id = _next_entry_id(device)
    return Entry(channel_id=device.pk, entry_id=entry_id, created_at=ts, fields=sent)


def _number(raw: str, *, field: str) -> float:
    # Python's float() also takes "1_000", "nan" and "infinity": a decimal number only.
    if not NUMBER.fullmatch(raw.strip()):
        raise PayloadError(f"Must be a number, not {raw[:40]!r}.", field=field)
    number = float(raw)
    if not math.isfinite(number):
        raise PayloadError("Must be a finite number.", field=field)
    return number


def _created_at(params: dict[str, Any], *, now: datetime, limits: PayloadLimits) -> datetime:
    raw = params.get("created_at")
    if raw is None or not str(raw).strip():
        return now
    try:
        ts = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise PayloadError(f"{str(raw)[:40]!r} is not an ISO 8601 time.", field="created_at") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_zone(params.get("timezone")))
    return payloads.check_not_future(ts.astimezone(UTC), now=now, limits=limits, field="created_at")


def _zone(name: Any):
    if not name:
        return UTC
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise PayloadError(f"{str(name)[:40]!r} is not a time zone.", field="timezone") from None


def _next_entry_id(device: Device) -> int:
    """The device's next entry number, counted in the transaction that stores the entry."""
    for _attempt in range(2):
        if ThingSpeakChannel.objects.filter(device=device).update(last_entry_id=F("last_entry_id") + 1):
            return ThingSpeakChannel.objects.values_list("last_entry_id", flat=True).get(device=device)
        try:
            with transaction.atomic():
                ThingSpeakChannel.objects.create(device=device, last_entry_id=1)
            return 1
        except IntegrityError:
            continue  # a concurrent first update created it: count on it
    raise RuntimeError("unreachable: the counter row exists after a failed create")
