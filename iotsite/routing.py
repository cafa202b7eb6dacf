"""WebSocket routes; each app contributes its own."""

from django.urls import path

from telemetry.consumers import LiveConsumer, LiveDemoConsumer

websocket_urlpatterns: list = [
    path("ws/live/", LiveConsumer.as_asgi()),
    path("ws/live/demo/", LiveDemoConsumer.as_asgi()),
]
