"""Attributes and commands over MQTT at the real broker: our own devices/{id}/ topics
with Debian's mosquitto clients, and ThingsBoard's shared `me` topics kept apart per
device by the iotsite_me plugin."""

import json
import time

import orjson
import pytest

from devicecomm import services
from devicecomm.models import Attribute, Command
from devices.services import device_create
from tests.support.mqtt import mosquitto, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

NOT_AUTHORIZED = 135


@pytest.fixture
def second_device(user, mqtt_settings, committed):
    with committed():
        return device_create(owner=user, name="Second", type="generic")


def test_our_own_topics_with_mosquitto_clients(mqtt_device, mqtt_token, broker, api_client, devicecomm_thread):
    comm = devicecomm_thread().worker
    pk = mqtt_device.pk
    # The device listens for one command and one shared attribute change.
    listener = mosquitto(
        "mosquitto_sub",
        broker,
        mqtt_device,
        mqtt_token,
        "-t",
        f"devices/{pk}/down/rpc/request/+",
        "-t",
        f"devices/{pk}/down/attributes",
        "-v",
        "-C",
        "2",
        "-W",
        "20",
    )
    wait_until(lambda: comm.counts["rpc/subscribed"] == 1, what="the subscription notice")

    api_client.post(f"/api/devices/{pk}/attributes/", {"scope": "shared", "attributes": {"interval": 5}}, format="json")
    created = api_client.post(
        f"/api/devices/{pk}/commands/", {"method": "reboot", "params": {"delay": 1}}, format="json"
    ).json()
    out, err = listener.communicate(timeout=20)
    assert out.splitlines() == [
        f'devices/{pk}/down/attributes {{"interval":5}}',
        f'devices/{pk}/down/rpc/request/{created["id"]} {{"method":"reboot","params":{{"delay":1}}}}',
    ], err

    reply = mosquitto(
        "mosquitto_pub",
        broker,
        mqtt_device,
        mqtt_token,
        "-t",
        f"devices/{pk}/rpc/response/{created['id']}",
        "-m",
        '{"rebooting": true}',
    )
    report = mosquitto(
        "mosquitto_pub", broker, mqtt_device, mqtt_token, "-t", f"devices/{pk}/attributes", "-m", '{"fw": "2.0.1"}'
    )
    assert reply.wait(10) == 0 and report.wait(10) == 0
    wait_until(lambda: comm.counts["rpc/response"] == 1 and comm.counts["attributes"] == 1, what="the replies")
    command = Command.objects.get(pk=created["id"])
    assert (command.state, command.response) == ("succeeded", {"rebooting": True})
    assert Attribute.objects.get(device=mqtt_device, scope="client").value == "2.0.1"


def test_attribute_requests_and_client_side_rpc_on_our_topics(
    mqtt_device, mqtt_token, connect_device, devicecomm_thread
):
    comm = devicecomm_thread().worker
    services.attributes_set(device=mqtt_device, scope="shared", attributes={"mode": "eco", "interval": 3})
    client = connect_device(mqtt_device.pk, mqtt_token)
    client.subscribe(f"devices/{mqtt_device.pk}/down/#")
    client.publish(f"devices/{mqtt_device.pk}/attributes/request/1", b'{"sharedKeys": "mode"}')
    client.publish(f"devices/{mqtt_device.pk}/attributes/request/2", b'{"sharedKeys": 7}')
    client.publish(f"devices/{mqtt_device.pk}/rpc/request/3", b'{"method": "getCurrentTime", "params": {}}')
    wait_until(lambda: len(client.received) == 3, what="three answers")
    answers = {message.topic: orjson.loads(message.payload) for message in client.received}
    assert answers[f"devices/{mqtt_device.pk}/down/attributes/response/1"] == {"shared": {"mode": "eco"}}
    assert "error" in answers[f"devices/{mqtt_device.pk}/down/attributes/response/2"]
    assert answers[f"devices/{mqtt_device.pk}/down/rpc/response/3"]["time"] > 0
    assert comm.counts["bad_payload"] == 1


def test_a_command_on_me_topics_reaches_its_own_device_only(
    mqtt_device, mqtt_token, second_device, connect_device, devicecomm_thread
):
    devicecomm_thread()
    other, other_token = second_device
    mine = connect_device(mqtt_token, None)  # ThingsBoard's way: the token is the username
    theirs = connect_device(other_token, None)
    assert mine.accepted and theirs.accepted
    for client in (mine, theirs):
        assert not client.subscribe("v1/devices/me/rpc/request/+")[0].is_failure

    command = services.command_create(device=mqtt_device, method="blink")
    wait_until(lambda: mine.received, what="the command")
    assert [(m.topic, orjson.loads(m.payload)) for m in mine.received] == [
        (f"v1/devices/me/rpc/request/{command.pk}", {"method": "blink", "params": {}})
    ]
    time.sleep(0.3)
    assert theirs.received == []


def test_a_reused_client_id_gets_nothing_of_the_previous_device(
    mqtt_device, mqtt_token, second_device, connect_device, devicecomm_thread
):
    devicecomm_thread()
    other, other_token = second_device
    first = connect_device(mqtt_device.pk, mqtt_token, client_id="gateway-1")
    first.subscribe("v1/devices/me/rpc/request/+")
    first.close()
    impostor = connect_device(other.pk, other_token, client_id="gateway-1")
    services.command_create(device=mqtt_device, method="open-valve")
    time.sleep(0.5)
    assert impostor.received == []
    impostor.subscribe("v1/devices/me/#")
    services.command_create(device=mqtt_device, method="open-valve")
    time.sleep(0.5)
    assert impostor.received == []


def test_a_device_cannot_touch_another_devices_topics(mqtt_device, mqtt_token, second_device, connect_device):
    other, _token = second_device
    client = connect_device(mqtt_device.pk, mqtt_token)
    for topic in [
        f"devices/{other.pk}/attributes",
        f"devices/{other.pk}/rpc/response/1",
        f"devices/{mqtt_device.pk}/down/rpc/request/1",
        f"devices/{mqtt_device.pk}/rpc/subscribed",
        "$CONTROL/iotsite/v1",
        "v1/devices/me/rpc/subscribed",
    ]:
        assert client.publish(topic, b"{}").value == NOT_AUTHORIZED, topic
    for topic in [f"devices/{other.pk}/down/#", "devices/+/down/#", f"devices/{mqtt_device.pk}/attributes"]:
        assert client.subscribe(topic)[0].is_failure, topic


def test_a_persistent_command_waits_for_the_device_and_a_plain_one_does_not(
    mqtt_device, mqtt_token, connect_device, devicecomm_thread
):
    comm = devicecomm_thread().worker
    waiting = services.command_create(device=mqtt_device, method="calibrate", persistent=True, timeout_s=600)
    services.command_create(device=mqtt_device, method="now-or-never", timeout_s=600)
    # Both went to the broker while nobody listened.
    assert set(Command.objects.values_list("state", flat=True)) == {"sent"}

    client = connect_device(mqtt_token, None)
    client.subscribe("v1/devices/me/rpc/request/+")
    wait_until(lambda: client.received, what="the persistent command")
    time.sleep(0.3)
    assert [json.loads(m.payload)["method"] for m in client.received] == ["calibrate"]
    assert comm.counts["rpc/subscribed"] == 1
    assert Command.objects.get(pk=waiting.pk).attempts == 2  # sent again: at least once


def test_a_persistent_oneway_command_is_done_once_the_device_has_subscribed(
    mqtt_device, mqtt_token, connect_device, devicecomm_thread
):
    comm = devicecomm_thread().worker
    command = services.command_create(device=mqtt_device, method="beep", persistent=True, oneway=True, timeout_s=600)
    command.refresh_from_db()
    assert (command.state, command.finished_at) == ("sent", None)  # published to nobody: it waits

    client = connect_device(mqtt_device.pk, mqtt_token)
    client.subscribe(f"devices/{mqtt_device.pk}/down/rpc/request/+")
    wait_until(lambda: client.received, what="the one-way command")
    wait_until(lambda: comm.counts["rpc/subscribed"] == 1, what="the subscription notice")
    command.refresh_from_db()
    assert command.state == "sent" and command.finished_at is not None
