"""Our HTTP device API and ThingsBoard's, driven by clients nobody here wrote: curl, and
ThingsBoard's Python HTTP SDK, against a real server (the live_server thread)."""

import json
import subprocess
import threading
import time

import pytest
from rest_framework.test import APIClient
from tb_device_http import TBHTTPDevice

from devicecomm import services
from devicecomm.models import Attribute, Command
from devices.services import device_create
from telemetry.models import Reading
from tests.support.mqtt import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def device_and_token(user):
    return device_create(owner=user, name="Relay", type="generic")


def curl(*args: str) -> tuple[int, str]:
    """(HTTP status, body) of a curl call."""
    result = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30, check=True
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


@pytest.mark.processes  # curl
def test_our_device_api_with_curl(live_server, device_and_token):
    device, token = device_and_token
    auth = ["-H", f"Authorization: Device {token}"]
    base = f"{live_server.url}/api/device"

    status, body = curl(
        *auth, "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"fw": "3.1"}', f"{base}/attributes/"
    )
    assert status == 200 and json.loads(body) == {"client": {"fw": "3.1"}}
    services.attributes_set(device=device, scope="shared", attributes={"interval": 15})
    assert json.loads(curl(*auth, f"{base}/attributes/")[1]) == {"client": {"fw": "3.1"}, "shared": {"interval": 15}}

    assert curl(*auth, f"{base}/commands/?timeout=0.2") == (204, "")
    command = services.command_create(device=device, method="setInterval", params={"s": 30}, timeout_s=60)
    status, body = curl(*auth, f"{base}/commands/?timeout=5")
    assert status == 200 and json.loads(body)["id"] == command.pk and json.loads(body)["params"] == {"s": 30}
    status, body = curl(
        *auth,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"ok": true}',
        f"{base}/commands/{command.pk}/",
    )
    assert status == 200 and json.loads(body)["state"] == "succeeded"

    assert curl("-H", "Authorization: Device iotd_" + "x" * 43, f"{base}/commands/?timeout=1")[0] == 401


@pytest.mark.processes  # curl
def test_thingsboard_http_api_with_curl(live_server, device_and_token):
    device, token = device_and_token
    base = f"{live_server.url}/api/v1/{token}"
    json_post = ["-X", "POST", "-H", "Content-Type: application/json", "-d"]

    assert curl(*json_post, '{"attribute1": "value1"}', f"{base}/attributes")[0] == 200
    services.attributes_set(device=device, scope="shared", attributes={"shared1": "value2"})
    status, body = curl(f"{base}/attributes?clientKeys=attribute1&sharedKeys=shared1")
    assert json.loads(body) == {"client": {"attribute1": "value1"}, "shared": {"shared1": "value2"}}

    assert curl(f"{base}/rpc?timeout=200")[0] == 408
    command = services.command_create(device=device, method="setGpio", params={"pin": 23, "value": 1})
    status, body = curl(f"{base}/rpc?timeout=5000")
    assert json.loads(body) == {"id": command.pk, "method": "setGpio", "params": {"pin": 23, "value": 1}}
    assert curl(*json_post, '{"result": "ok"}', f"{base}/rpc/{command.pk}")[0] == 200
    assert Command.objects.get(pk=command.pk).state == "succeeded"

    status, body = curl(*json_post, '{"method": "getSessionLimits", "params": {}}', f"{base}/rpc")
    assert status == 200 and "maxPayloadSize" in json.loads(body)


@pytest.mark.processes  # curl
def test_thingsboard_attribute_updates_long_poll_sees_a_change_made_while_waiting(live_server, device_and_token):
    device, token = device_and_token
    changer = threading.Timer(
        0.5, lambda: services.attributes_set(device=device, scope="shared", attributes={"mode": "eco"})
    )
    changer.start()
    status, body = curl(f"{live_server.url}/api/v1/{token}/attributes/updates?timeout=5000")
    changer.join()
    assert status == 200 and json.loads(body) == {"mode": "eco"}


def test_thingsboard_python_http_sdk(live_server, device_and_token, settings):
    settings.DEVICE_LONG_POLL_MAX_S = 1  # the SDK asks for 30 s at a time
    device, token = device_and_token
    sdk = TBHTTPDevice(live_server.url, token)
    assert sdk.connect()  # it posts {} as telemetry to test the connection

    sdk.send_telemetry({"temperature": 19.5}, queued=False)
    assert list(Reading.objects.filter(sensor__device=device).values_list("value", flat=True)) == [19.5]
    sdk.send_attributes({"fw_version": "0.9"})
    assert Attribute.objects.get(device=device, scope="client", key="fw_version").value == "0.9"
    services.attributes_set(device=device, scope="shared", attributes={"interval": 10})
    assert sdk.request_attributes(client_keys=["fw_version"], shared_keys=["interval"]) == {
        "client": {"fw_version": "0.9"},
        "shared": {"interval": 10},
    }

    def answer(request: dict) -> None:
        sdk.send_rpc(name="done", params={"echo": request["params"]}, rpc_id=request["id"])

    sdk.subscribe("rpc", answer)
    command = services.command_create(device=device, method="ping", params={"n": 1})
    wait_until(lambda: Command.objects.get(pk=command.pk).state == "succeeded", timeout=15, what="the SDK's answer")
    assert Command.objects.get(pk=command.pk).response == {"method": "done", "params": {"echo": {"n": 1}}}
    sdk.unsubscribe("rpc")
    sdk.stop_publish_worker()
    time.sleep(1.5)  # the SDK's poll in flight ends before the test database goes
    # The SDK keeps its HTTP session (and so a server thread) open and has no close():
    # close it here, or the server thread ends in a later test, on its database.
    sdk._TBHTTPDevice__session.close()


def test_an_empty_telemetry_object_is_thingsboards_connection_test(device_token):
    response = APIClient().post(f"/api/v1/{device_token}/telemetry", b"{}", content_type="application/json")
    assert response.status_code == 200
