"""Request body size limits on every endpoint, answered as 413 JSON.

Django refuses a body past DATA_UPLOAD_MAX_MEMORY_SIZE only when a view reads it, and
then with a 400; DRF's JSON parser reads the stream and never checks. This refuses a
body whose declared size is too large before any view runs, whatever the endpoint.
Multipart uploads (device photos) may be larger: MAX_UPLOAD_BYTES. A body without a
Content-Length reads as empty under WSGI; under ASGI the front proxy's own body limit
(deploy/nginx.conf, client_max_body_size) is the first line.
"""

from __future__ import annotations

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
