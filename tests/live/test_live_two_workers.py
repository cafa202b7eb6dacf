"""With Redis, a reading posted to one server process reaches a browser on another."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import websockets

from tests.support.live import RECEIVE_TIMEOUT, in_own_loop
from tests.support.live_servers import server_env, uvicorn_servers

pytestmark = pytest.mark.processes  # two uvicorn workers

# A database number no other test uses, and a prefix of this run's own: pub/sub
# channels ignore the database number, the prefix keeps parallel runs apart.
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def two_workers(server_database):
    env = server_env(DATABASE_URL=server_database, REDIS_URL=REDIS_URL, CHANNEL_LAYER_PREFIX=f"test{uuid.uuid4().hex}")
    with uvicorn_servers(env=env, count=2) as urls:
        yield urls


def registered_device(base_url: str) -> tuple[str, int, str]:
    """(access JWT, device id, device token) of a new account with one device."""
    username = f"watcher{uuid.uuid4().hex[:8]}"
    registered = httpx.post(
        f"{base_url}/api/auth/register/", json={"username": username, "password": "correct-horse-battery"}
    )
    assert registered.status_code == 201, registered.text
    access = registered.json()["tokens"]["access"]
    created = httpx.post(
        f"{base_url}/api/devices/",
        json={"name": "Boiler", "type": "generic"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert created.status_code == 201, created.text
    return access, created.json()["id"], created.json()["token"]


@in_own_loop
async def test_a_reading_posted_to_one_worker_reaches_a_browser_on_the_other(two_workers):
    first, second = two_workers
    access, device_id, device_token = registered_device(first)
    ws_url = second.replace("http://", "ws://") + f"/ws/live/?token={access}"
    async with websockets.connect(ws_url, origin=second, open_timeout=5) as browser:
        await browser.send(json.dumps({"action": "subscribe", "device": device_id}))
        assert json.loads(await asyncio.wait_for(browser.recv(), RECEIVE_TIMEOUT)) == {
            "type": "subscribed",
            "device": device_id,
        }
        async with httpx.AsyncClient() as client:
            posted = await client.post(
                f"{first}/api/telemetry/",
                json={"ts": "2026-01-01T00:00:00Z", "values": {"pressure": 2.5}},
                headers={"Authorization": f"Device {device_token}"},
            )
        assert posted.status_code == 201, posted.text
        message = json.loads(await asyncio.wait_for(browser.recv(), RECEIVE_TIMEOUT))
    assert message["device"] == device_id
    assert message["readings"] == [{"sensor": "pressure", "ts": "2026-01-01T00:00:00Z", "value": 2.5}]
