"""The base of middleware that runs natively under WSGI and ASGI alike, and the
Content-Security-Policy middleware built on it."""

from functools import wraps

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings


class SyncAndAsyncMiddleware:
    """Django adapts a sync-only middleware under ASGI with a thread hop per request;
    this one is called the way its stack calls it. Subclasses write `call(request)`
    and `acall(request)` (a coroutine)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.acall(request)
        return self.call(request)


class ContentSecurityPolicyMiddleware(SyncAndAsyncMiddleware):
    """Content-Security-Policy (CONTENT_SECURITY_POLICY) on every answer that has none:
    the pages load scripts, styles and images from this server only, so an injected
    inline script or a foreign one does not run. A view may set a policy of its own."""

    def call(self, request):
        return self._add(self.get_response(request))

    async def acall(self, request):
        return self._add(await self.get_response(request))

    @staticmethod
    def _add(response):
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


def content_security_policy(policy: str):
    """A view's own policy (the API docs: Swagger UI and Redoc style their elements inline)."""

    def decorate(view):
        @wraps(view)
        def with_policy(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response["Content-Security-Policy"] = policy
            return response

        return with_policy

    return decorate
