"""WebSocket routes; each app contributes its own."""

from django.urls import URLPattern

from live.routing import websocket_urlpatterns as live_routes

websocket_urlpatterns: list[URLPattern] = [*live_routes]
