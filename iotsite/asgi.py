"""HTTP and WebSocket in one ASGI application."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iotsite.settings")
# Django must be set up before the routing imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from iotsite.request_limits import BodySizeLimitASGI  # noqa: E402
from iotsite.routing import websocket_urlpatterns  # noqa: E402
from live.auth import JwtQueryStringAuthMiddleware  # noqa: E402
from protocols.metrics import count_live_connections  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized bodies refused before Django reads (and spools) them.
        "http": BodySizeLimitASGI(django_asgi_app),
        # The session cookie (browsers), or an access JWT (scripts, apps): live/auth.py.
        "websocket": count_live_connections(
            AllowedHostsOriginValidator(
                AuthMiddlewareStack(JwtQueryStringAuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
