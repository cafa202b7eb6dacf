"""The WebSocket routes of live push."""

from django.urls import URLPattern, path

from live.consumers import LiveConsumer, LiveDemoConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/live/demo/", LiveDemoConsumer.as_asgi()),
]
