"""A device's HTTP request, taken to ingest: body, limits, Idempotency-Key.

Shared by every device HTTP endpoint (ours and the compatible ones), so the rules of
what a request may carry live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from telemetry import group_commit, payloads, services

IDEMPOTENCY_KEY_MAX_LENGTH = 255


@dataclass(frozen=True)
class DeviceBody:
    """What ingest needs of a device's HTTP request, whichever server carried it: the
    DRF views and the device route in front of Django (telemetry/device_route.py)."""

    content_type: str
    content_length: str | None  # as sent, unchecked
    idempotency_key: str | None  # the Idempotency-Key header, unchecked
    read: Callable[[int], bytes]  # read(n): at most n bytes of the body

    @classmethod
    def of_request(cls, request) -> DeviceBody:
        return cls(
            content_type=request.content_type or "",
            content_length=request.META.get("CONTENT_LENGTH"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            read=request._request.read,
        )


def read_body(request) -> bytes:
    """A DRF request's raw body, refused with 413 past TELEMETRY_MAX_BODY_BYTES even
    when the client sent no Content-Length."""
    return read_device_body(DeviceBody.of_request(request))


def idempotency_key(request) -> str | None:
    """A DRF request's Idempotency-Key, checked."""
    return idempotency_key_checked(request.headers.get("Idempotency-Key"))


def read_device_body(body: DeviceBody) -> bytes:
    """The raw body, refused with 413 past TELEMETRY_MAX_BODY_BYTES even when the
    client sent no Content-Length."""
    limit = settings.TELEMETRY_MAX_BODY_BYTES
    too_large = payloads.PayloadError(f"The body exceeds {limit} bytes.", status=413)
    try:
        declared = int(body.content_length or 0)
    except ValueError:
        raise payloads.PayloadError("Content-Length is not a number.") from None
    if declared > limit:
        raise too_large
    raw = body.read(limit + 1)
    if len(raw) > limit:
        raise too_large
    return raw


def idempotency_key_checked(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise payloads.PayloadError(
            f"Must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters.", field="Idempotency-Key"
        )
    return key


def is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def ingest_request(request, device) -> Response:
    """Parse, validate and store a telemetry body: shared by every device HTTP endpoint."""
    result = ingest_body(request, device)
    return Response(result.as_json(), status=status.HTTP_201_CREATED)


def ingest_body(request, device, *, json_content_type: bool = True) -> services.IngestResult:
    """ingest_device_body for a DRF request."""
    return ingest_device_body(device, DeviceBody.of_request(request), json_content_type=json_content_type)


def ingest_device_body(device, body: DeviceBody, *, json_content_type: bool = True) -> services.IngestResult:
    """The readings of a device's request, stored (grouped with other requests' when it
    can, telemetry/group_commit.py); PayloadError for a bad one. Firmware written for
    ThingsBoard may not label its JSON, so that endpoint passes json_content_type=False."""
    if json_content_type and not is_json(body.content_type):
        raise payloads.PayloadError("Send the body as application/json.", field="Content-Type", status=415)
    raw = read_device_body(body)
    key = idempotency_key_checked(body.idempotency_key)
    now = timezone.now()
    readings = payloads.parse_readings(payloads.parse_json(raw), now=now, limits=payloads.payload_limits())
    digest = None if key is None else services.body_sha256(raw)
    return group_commit.ingest(services.IngestEntry(device, readings, now, key, digest))
