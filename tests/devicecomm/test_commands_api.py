"""Commands: the owner sends, the device takes them over HTTP (ours and ThingsBoard's)
and answers; states, expiry, revocation and bad input."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from devicecomm import services
from devicecomm.models import Command
from devices.services import device_create, device_token_revoke

pytestmark = pytest.mark.django_db


def commands_url(device) -> str:
    return f"/api/devices/{device.pk}/commands/"


def send(api_client, device, **body):
    response = api_client.post(
        commands_url(device), {"method": "setRelay", "params": {"on": True}, **body}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_command_goes_queued_delivered_succeeded(api_client, device, device_client):
    created = send(api_client, device, timeout_s=30)
    assert created["state"] == "queued" and created["persistent"] is False and created["oneway"] is False

    taken = device_client.get("/api/device/commands/", {"timeout": 1})
    assert taken.status_code == 200
    assert taken.json()["id"] == created["id"]
    assert taken.json()["method"] == "setRelay" and taken.json()["params"] == {"on": True}
    # Taken once: polling again while working on it gives nothing.
    assert device_client.get("/api/device/commands/", {"timeout": 0.1}).status_code == 204
    assert api_client.get(f"{commands_url(device)}{created['id']}/").json()["state"] == "delivered"

    reply = device_client.post(f"/api/device/commands/{created['id']}/", {"relay": "on"}, format="json")
    assert reply.status_code == 200 and reply.json()["state"] == "succeeded"

    listed = api_client.get(commands_url(device)).json()["results"]
    assert [(c["id"], c["state"], c["response"]) for c in listed] == [(created["id"], "succeeded", {"relay": "on"})]
    # A second answer to a finished command is refused.
    assert device_client.post(f"/api/device/commands/{created['id']}/", {"x": 1}, format="json").status_code == 409


def test_an_error_reply_fails_the_command(api_client, device, device_client):
    created = send(api_client, device)
    device_client.get("/api/device/commands/", {"timeout": 1})
    reply = device_client.post(f"/api/device/commands/{created['id']}/", {"error": "relay stuck"}, format="json")
    assert reply.json()["state"] == "failed" and reply.json()["response"] == {"error": "relay stuck"}


def test_a_oneway_command_is_done_once_delivered(api_client, device, device_client):
    created = send(api_client, device, oneway=True)
    assert device_client.get("/api/device/commands/", {"timeout": 1}).json()["oneway"] is True
    command = Command.objects.get(pk=created["id"])
    assert command.state == "delivered" and command.finished_at is not None
    assert device_client.post(f"/api/device/commands/{created['id']}/", {}, format="json").status_code == 409


def test_an_unanswered_command_expires(api_client, device, device_client):
    created = send(api_client, device, timeout_s=5)
    Command.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert device_client.get("/api/device/commands/", {"timeout": 0}).status_code == 204
    assert api_client.get(f"{commands_url(device)}{created['id']}/").json()["state"] == "expired"
    assert device_client.post(f"/api/device/commands/{created['id']}/", {}, format="json").status_code == 409


def test_commands_come_oldest_first(api_client, device, device_client):
    first, second = send(api_client, device), send(api_client, device, method="reboot")
    assert device_client.get("/api/device/commands/").json()["id"] == first["id"]
    assert device_client.get("/api/device/commands/").json()["id"] == second["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {}}, "method"),
        ({"method": ""}, "method"),
        ({"method": "m" * 256}, "method"),
        ({"method": "x", "timeout_s": 0}, "timeout_s"),
        ({"method": "x", "timeout_s": 10**9}, "timeout_s"),
        ({"method": "x", "timeout_s": "soon"}, "timeout_s"),
        ({"method": "x", "persistent": "maybe"}, "persistent"),
    ],
)
def test_bad_commands_name_the_field(api_client, device, body, field):
    response = api_client.post(commands_url(device), body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Command.objects.exists()


def test_oversized_params_are_refused(api_client, device, settings):
    settings.COMMAND_MAX_PARAMS_BYTES = 50
    response = api_client.post(commands_url(device), {"method": "x", "params": {"blob": "y" * 100}}, format="json")
    assert response.status_code == 400 and "params" in response.json()


def test_an_oversized_response_is_refused(api_client, device, device_client, settings):
    settings.COMMAND_MAX_RESPONSE_BYTES = 50
    created = send(api_client, device)
    reply = device_client.post(f"/api/device/commands/{created['id']}/", {"blob": "y" * 100}, format="json")
    assert reply.status_code == 400 and "response" in reply.json()


def test_a_command_to_another_users_device_is_a_404(other_client, device):
    assert other_client.post(commands_url(device), {"method": "x"}, format="json").status_code == 404
    assert other_client.get(commands_url(device)).status_code == 404


def test_a_device_cannot_answer_another_devices_command(api_client, user, device):
    created = send(api_client, device)
    _other, other_token = device_create(owner=user, name="Other", type="generic")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Device {other_token}")
    assert other.post(f"/api/device/commands/{created['id']}/", {}, format="json").status_code == 404
    assert other.post("/api/device/commands/nonsense/", {}, format="json").status_code == 404
    assert other.get("/api/device/commands/", {"timeout": 0}).status_code == 204


def test_revoking_the_token_stops_its_commands(api_client, device, device_client, django_capture_on_commit_callbacks):
    created = send(api_client, device)
    with django_capture_on_commit_callbacks(execute=True):
        device_token_revoke(device=device)
    command = Command.objects.get(pk=created["id"])
    assert command.state == "failed" and command.response == services.REVOKED
    assert device_client.get("/api/device/commands/", {"timeout": 0}).status_code == 401


def test_thingsboard_http_rpc_poll_and_reply(api_client, device, device_token):
    tb = APIClient()
    assert tb.get(f"/api/v1/{device_token}/rpc", {"timeout": 100}).status_code == 408
    created = send(api_client, device, method="setGpio", params={"pin": 23, "value": 1})
    taken = tb.get(f"/api/v1/{device_token}/rpc", {"timeout": 1000})
    assert taken.json() == {"id": created["id"], "method": "setGpio", "params": {"pin": 23, "value": 1}}
    reply = tb.post(f"/api/v1/{device_token}/rpc/{created['id']}", b'{"result": "ok"}', content_type="application/json")
    assert reply.status_code == 200
    assert Command.objects.get(pk=created["id"]).response == {"result": "ok"}


def test_thingsboard_http_client_side_rpc(device_token):
    tb = APIClient()
    limits = tb.post(
        f"/api/v1/{device_token}/rpc", b'{"method": "getSessionLimits", "params": {}}', content_type="application/json"
    )
    assert limits.status_code == 200 and "rateLimits" in limits.json() and limits.json()["maxPayloadSize"] > 0
    now = tb.post(
        f"/api/v1/{device_token}/rpc", b'{"method": "getCurrentTime", "params": {}}', content_type="application/json"
    )
    assert abs(now.json()["time"] / 1000 - time.time()) < 60
    unknown = tb.post(f"/api/v1/{device_token}/rpc", b'{"method": "launch"}', content_type="application/json")
    assert "error" in unknown.json()
    bad = tb.post(f"/api/v1/{device_token}/rpc", b'{"params": {}}', content_type="application/json")
    assert bad.status_code == 400 and "method" in bad.json()


def test_our_client_side_rpc(device_client):
    assert "rateLimits" in device_client.post("/api/device/rpc/", {"method": "getSessionLimits"}, format="json").json()


@pytest.mark.django_db(transaction=True)
def test_a_waiting_poll_gets_a_command_sent_while_it_waits(user):
    device, token = device_create(owner=user, name="Waiter", type="generic")

    def send_later():
        time.sleep(0.3)
        services.command_create(device=device, method="ping")
        connections.close_all()

    sender = threading.Thread(target=send_later)
    started = time.monotonic()
    sender.start()
    response = APIClient().get(f"/api/v1/{token}/rpc", {"timeout": 4000})
    sender.join()
    assert response.status_code == 200 and response.json()["method"] == "ping"
    assert 0.25 < time.monotonic() - started < 3


def test_the_wait_is_capped(device_client, settings):
    settings.DEVICE_LONG_POLL_MAX_S = 0.2
    started = time.monotonic()
    assert device_client.get("/api/device/commands/", {"timeout": 3600}).status_code == 204
    assert time.monotonic() - started < 2


def test_long_polls_count_against_the_device_rate(device_client, device_token, settings):
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**original, "device": "2/min"}
    try:
        codes = [device_client.get("/api/device/commands/", {"timeout": 0}).status_code for _ in range(3)]
        assert codes == [204, 204, 429]
        response = APIClient().get(f"/api/v1/{device_token}/rpc", {"timeout": 0})
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
