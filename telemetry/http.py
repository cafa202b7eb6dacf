"""A device's HTTP request, taken to ingest: body, limits, Idempotency-Key.

Shared by every device HTTP endpoint (ours and the compatible ones), so the rules of
what a request may carry live in one place.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from telemetry import payloads, services

IDEMPOTENCY_KEY_MAX_LENGTH = 255


def read_body(request) -> bytes:
    """The raw body, refused with 413 past TELEMETRY_MAX_BODY_BYTES even when the
    client sent no Content-Length."""
    limit = settings.TELEMETRY_MAX_BODY_BYTES
    too_large = payloads.PayloadError(f"The body exceeds {limit} bytes.", status=413)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise payloads.PayloadError("Content-Length is not a number.") from None
    if declared > limit:
        raise too_large
    body = request._request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
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
    """The readings of a request, stored; PayloadError for a bad one. Firmware written
    for ThingsBoard may not label its JSON, so that endpoint passes json_content_type=False."""
    if json_content_type and not is_json(request.content_type or ""):
        raise payloads.PayloadError("Send the body as application/json.", field="Content-Type", status=415)
    body = read_body(request)
    key = idempotency_key(request)
    now = timezone.now()
    readings = payloads.parse_readings(payloads.parse_json(body), now=now, limits=payloads.payload_limits())
    if key is None:
        return services.readings_ingest(device=device, readings=readings, received_at=now)
    return services.readings_ingest_once(
        device=device, readings=readings, received_at=now, idempotency_key=key, body=body
    )
