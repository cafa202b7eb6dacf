"""WebSocket authentication by access JWT, for clients without a session.

The token comes as a subprotocol pair, `Sec-WebSocket-Protocol: bearer, <access JWT>`
(in a browser: `new WebSocket(url, ["bearer", token])`), which no access log writes;
or as `?token=<access JWT>`, kept for simple clients (the logs mask it). The
connection is accepted with the subprotocol `bearer`, as the handshake requires.

Sits inside AuthMiddlewareStack: a token, when given, decides alone (a bad or expired
one leaves the connection anonymous even with a session cookie, so the consumer
closes it with 4401). `scope["token_expires_at"]` lets the consumer close the
connection when the token runs out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError


@database_sync_to_async
def user_for_access_token(raw_token: str):
    """(user, expiry) for a valid access token, else (AnonymousUser, None)."""
    authentication = JWTAuthentication()
    try:
        token = authentication.get_validated_token(raw_token.encode())
        user = authentication.get_user(token)
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser(), None
    if not user.is_active:
        return AnonymousUser(), None
    return user, datetime.fromtimestamp(token["exp"], tz=UTC)


BEARER_SUBPROTOCOL = "bearer"


def token_of_subprotocols(subprotocols: list[str]) -> str | None:
    """The entry after `bearer`, or None."""
    if BEARER_SUBPROTOCOL in subprotocols:
        position = subprotocols.index(BEARER_SUBPROTOCOL)
        if position + 1 < len(subprotocols):
            return subprotocols[position + 1]
        return ""  # `bearer` without a token: a bad token, not none
    return None


class JwtQueryStringAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        token = token_of_subprotocols(list(scope.get("subprotocols") or []))
        if token is not None:
            scope = {**scope, "accepted_subprotocol": BEARER_SUBPROTOCOL}
        else:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            token = query["token"][0] if "token" in query else None
        if token is not None:
            scope = dict(scope)
            scope["user"], scope["token_expires_at"] = await user_for_access_token(token)
        return await super().__call__(scope, receive, send)
