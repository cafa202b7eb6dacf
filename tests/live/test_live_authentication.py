"""Who may open /ws/live/: a session or a valid access JWT; anyone else gets 4401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from iotsite.asgi import application
from tests.support.live import ORIGIN, access_token_for, close_code, connected, in_own_loop, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


@in_own_loop
async def test_a_browser_with_a_session_cookie_may_subscribe(session_cookie, device):
    communicator = await connected(cookie=session_cookie)
    assert await subscribe(communicator, device.pk) == {"type": "subscribed", "device": device.pk}
    await communicator.disconnect()


@in_own_loop
async def test_a_client_with_an_access_token_in_the_query_string_may_subscribe(user, device):
    communicator = await connected(token=access_token_for(user))
    assert await subscribe(communicator, device.pk) == {"type": "subscribed", "device": device.pk}
    await communicator.disconnect()


@in_own_loop
async def test_a_client_without_credentials_is_closed_with_4401():
    communicator = await connected()
    assert await close_code(communicator) == 4401


@in_own_loop
async def test_an_expired_access_token_is_closed_with_4401(user):
    communicator = await connected(token=access_token_for(user, lifetime=timedelta(seconds=-1)))
    assert await close_code(communicator) == 4401


@in_own_loop
async def test_a_forged_token_is_closed_with_4401_even_beside_a_valid_session(session_cookie):
    communicator = await connected(cookie=session_cookie, token="not.a.jwt")
    assert await close_code(communicator) == 4401


@pytest.fixture
def refresh_token(user) -> str:
    return str(RefreshToken.for_user(user))


@in_own_loop
async def test_a_refresh_token_is_not_accepted_in_place_of_an_access_token(refresh_token):
    communicator = await connected(token=refresh_token)
    assert await close_code(communicator) == 4401


@in_own_loop
async def test_the_connection_is_closed_with_4401_when_its_token_expires(user):
    communicator = await connected(token=access_token_for(user, lifetime=timedelta(seconds=1)))
    assert await subscribe(communicator, "*") == {"type": "subscribed", "device": "*"}
    output = await communicator.receive_output(timeout=3)
    assert output == {"type": "websocket.close", "code": 4401, "reason": "Token expired."}


@in_own_loop
async def test_a_client_may_pass_its_access_token_as_a_subprotocol(user, device):
    # Sec-WebSocket-Protocol: bearer, <JWT> keeps the token out of URLs and access logs.
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN], subprotocols=["bearer", access_token_for(user)]
    )
    accepted, subprotocol = await communicator.connect()
    assert (accepted, subprotocol) == (True, "bearer")
    assert await subscribe(communicator, device.pk) == {"type": "subscribed", "device": device.pk}
    await communicator.disconnect()


@in_own_loop
async def test_a_bad_token_as_a_subprotocol_is_closed_with_4401(session_cookie):
    communicator = WebsocketCommunicator(
        application,
        "/ws/live/",
        headers=[ORIGIN, (b"cookie", f"sessionid={session_cookie}".encode())],
        subprotocols=["bearer", "not.a.jwt"],
    )
    accepted, _ = await communicator.connect()
    assert accepted
    assert await close_code(communicator) == 4401


def log_out(session_cookie: str) -> int:
    from django.test import Client

    browser = Client()
    browser.cookies["sessionid"] = session_cookie
    return browser.post("/logout/").status_code


@in_own_loop
async def test_logging_out_closes_the_connections_opened_with_that_session(session_cookie, user, device):
    from channels.db import database_sync_to_async

    communicator = await connected(cookie=session_cookie)
    assert await subscribe(communicator, device.pk) == {"type": "subscribed", "device": device.pk}
    by_token = await connected(token=access_token_for(user))
    assert await database_sync_to_async(log_out)(session_cookie) == 302
    assert await close_code(communicator) == 4401
    # A connection authenticated by its own token is not the session's: it stays open.
    assert await subscribe(by_token, device.pk) == {"type": "subscribed", "device": device.pk}
    await by_token.disconnect()
