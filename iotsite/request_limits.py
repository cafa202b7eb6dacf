"""Request body size limits on every endpoint, answered as 413 JSON.

Django refuses a body past DATA_UPLOAD_MAX_MEMORY_SIZE only when a view reads it, and
then with a 400; DRF's JSON parser reads the stream and never checks. This refuses a
body whose declared size is too large before any view runs, whatever the endpoint.
Multipart uploads (device photos) may be larger: MAX_UPLOAD_BYTES. A body without a
Content-Length reads as empty under WSGI.

Under ASGI, Django reads the whole body (spooled to disk past 2.5 MB) before any
middleware runs, so BodySizeLimitASGI wraps the application: a declared length past
the limit is answered 413 at once, without reading a byte of the body, and a chunked
body is read only until it passes the limit.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse

from iotsite.middleware import SyncAndAsyncMiddleware


def body_limit_for(content_type: str) -> int:
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return max(settings.MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def body_too_large(request) -> JsonResponse | None:
    raw = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared = int(raw)
    except ValueError:
        return JsonResponse({"detail": "Content-Length is not a number.", "field": "Content-Length"}, status=400)
    limit = body_limit_for(request.META.get("CONTENT_TYPE", ""))
    if declared > limit:
        return JsonResponse({"detail": f"The body exceeds {limit} bytes.", "field": None}, status=413)
    return None


class BodySizeLimitMiddleware(SyncAndAsyncMiddleware):
    def call(self, request):
        return body_too_large(request) or self.get_response(request)

    async def acall(self, request):
        return body_too_large(request) or await self.get_response(request)


def _limit_answer(status: int, detail: str, field: str | None) -> tuple[dict, dict]:
    body = json.dumps({"detail": detail, "field": field}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The rest of the body is never read: the connection cannot carry another request.
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class BodySizeLimitASGI:
    """Pure ASGI: refuse an oversized HTTP body before the application reads it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        limit = body_limit_for(headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                return await self._answer(send, 400, "Content-Length is not a number.", "Content-Length")
            if too_large:
                return await self._answer(send, 413, f"The body exceeds {limit} bytes.", None)
            return await self.app(scope, receive, send)
        # No length given (chunked): read up to the limit, then hand the messages on.
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                return await self._answer(send, 413, f"The body exceeds {limit} bytes.", None)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)

    @staticmethod
    async def _answer(send, status: int, detail: str, field: str | None) -> None:
        start, body = _limit_answer(status, detail, field)
        await send(start)
        await send(body)
