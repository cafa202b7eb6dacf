"""The base of middleware that runs natively under WSGI and ASGI alike."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction


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
