"""ThingsBoard's own Python SDK as the device, through the real broker with the iotsite_me
plugin: it connects with its access token as the username, gets its session limits,
sends telemetry, reports and receives attributes, and answers a command sent from our API."""

import pytest
from django.conf import settings
from tb_device_mqtt import DEFAULT_RATE_LIMIT_PERCENTAGE, TBDeviceMqttClient

from devicecomm.models import Attribute, Command
from telemetry.models import Reading
from tests.support.mqtt import wait_handled, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tb_client(broker):
    clients = []

    def connect(token: str) -> TBDeviceMqttClient:
        client = TBDeviceMqttClient(broker.host, port=broker.port, username=token)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.stop()
        client.disconnect()


def test_thingsboard_sdk_device(mqtt_device, mqtt_token, api_client, tb_client, ingest_thread, devicecomm_thread):
    ingest, comm = ingest_thread().worker, devicecomm_thread().worker
    client = tb_client(mqtt_token)
    commands, shared_updates, answers = [], [], []

    def on_command(request_id, body):
        commands.append((request_id, body))
        client.send_rpc_reply(request_id, {"relay": "on"})

    client.set_server_side_rpc_request_handler(on_command)
    client.subscribe_to_all_attributes(lambda content, error: shared_updates.append(content))
    client.connect()
    wait_until(client.is_connected, what="the SDK to connect")
    # Its getSessionLimits call on connect was answered with our limits.
    expected_payload = int(settings.TELEMETRY_MAX_BODY_BYTES * DEFAULT_RATE_LIMIT_PERCENTAGE / 100)
    wait_until(lambda: client.max_payload_size == expected_payload, what="the session limits")

    assert client.send_telemetry({"temperature": 21.5}).get() == 0
    wait_handled(ingest, 1)
    assert list(Reading.objects.filter(sensor__device=mqtt_device).values_list("sensor__key", "value")) == [
        ("temperature", 21.5)
    ]

    assert client.send_attributes({"fw_version": "1.2.0", "ip": "10.0.0.7"}).get() == 0
    wait_until(lambda: comm.counts["attributes"] == 1, what="the client attributes")
    assert dict(Attribute.objects.filter(device=mqtt_device, scope="client").values_list("key", "value")) == {
        "fw_version": "1.2.0",
        "ip": "10.0.0.7",
    }

    response = api_client.post(
        f"/api/devices/{mqtt_device.pk}/attributes/", {"scope": "shared", "attributes": {"interval": 10}}, format="json"
    )
    assert response.status_code == 200
    wait_until(lambda: shared_updates, what="the shared attribute push")
    assert shared_updates == [{"interval": 10}]

    client.request_attributes(
        client_keys=["fw_version"], shared_keys=["interval"], callback=lambda content, error: answers.append(content)
    )
    wait_until(lambda: answers, what="the attribute answer")
    assert answers == [{"client": {"fw_version": "1.2.0"}, "shared": {"interval": 10}}]

    created = api_client.post(
        f"/api/devices/{mqtt_device.pk}/commands/",
        {"method": "setRelay", "params": {"on": True}, "timeout_s": 30},
        format="json",
    ).json()
    assert created["state"] in {"sent", "succeeded"}  # the broker took it (and the device may have answered)
    wait_until(lambda: comm.counts["rpc/response"] == 1, what="the SDK's answer")
    assert commands == [(str(created["id"]), {"method": "setRelay", "params": {"on": True}})]
    command = Command.objects.get(pk=created["id"])
    assert (command.state, command.response) == ("succeeded", {"relay": "on"})


def test_revoking_the_token_disconnects_the_sdk_and_stops_its_commands(
    mqtt_device, mqtt_token, api_client, tb_client, devicecomm_thread
):
    devicecomm_thread()
    client = tb_client(mqtt_token)
    client.connect()
    wait_until(client.is_connected, what="the SDK to connect")
    open_command = api_client.post(
        f"/api/devices/{mqtt_device.pk}/commands/", {"method": "later", "timeout_s": 600}, format="json"
    ).json()

    assert api_client.delete(f"/api/devices/{mqtt_device.pk}/token/").status_code == 204
    wait_until(lambda: not client.is_connected(), what="the broker to disconnect the SDK")
    assert Command.objects.get(pk=open_command["id"]).state == "failed"
    refused = api_client.post(f"/api/devices/{mqtt_device.pk}/commands/", {"method": "x"}, format="json")
    assert refused.status_code == 409
