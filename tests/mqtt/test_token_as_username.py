"""ThingsBoard's way to connect: the access token as the MQTT username, no password.
The iotsite_me plugin knows each device's token by its SHA-256, kept up with every
issue, rotation and revocation, refilled by mqtt_sync_devices and kept across restarts."""

import hashlib

import pytest
from django.core.management import call_command

from devices import broker as device_broker
from devices.services import device_create, device_token_revoke, device_token_rotate

pytestmark = pytest.mark.django_db


def test_the_token_as_username_connects_as_its_device(mqtt_device, mqtt_token, connect_device):
    client = connect_device(mqtt_token, None)
    assert client.accepted
    assert not client.publish(f"devices/{mqtt_device.pk}/telemetry", b'{"value": 1}').is_failure
    assert not connect_device("iotd_" + "x" * 43, None).accepted
    assert not connect_device(mqtt_token, "a password it does not need").accepted


def test_rotation_and_revocation_reach_the_token_username(mqtt_device, mqtt_token, connect_device, committed):
    connected = connect_device(mqtt_token, None)
    with committed():
        new_token = device_token_rotate(device=mqtt_device)
    assert connected.disconnected.wait(5)
    assert not connect_device(mqtt_token, None).accepted
    assert connect_device(new_token, None).accepted

    with committed():
        device_token_revoke(device=mqtt_device)
    assert not connect_device(new_token, None).accepted


def test_the_broker_disk_holds_a_hash_never_the_token(mqtt_device, mqtt_token, broker):
    table = (broker.log_path.parent / "iotsite-devices.txt").read_text()
    assert mqtt_token not in table
    assert f"set {mqtt_device.pk} {hashlib.sha256(mqtt_token.encode()).hexdigest()}" in table


def test_the_table_survives_a_broker_restart(mqtt_device, mqtt_token, broker, connect_device):
    broker.restart()
    assert connect_device(mqtt_token, None).accepted


def test_a_sync_refills_the_table_and_drops_what_is_gone(user, mqtt_settings, connect_device):
    mqtt_settings.MQTT_HOST = ""
    device, token = device_create(owner=user, name="Made offline", type="generic")
    mqtt_settings.MQTT_HOST = "127.0.0.1"
    stray = "iotd_" + "s" * 43
    with device_broker.BrokerControl() as control:
        control.me_tokens([device_broker.me_token_line(device_id=424242, token=stray)])
    assert not connect_device(token, None).accepted

    call_command("mqtt_sync_devices")

    assert connect_device(token, None).accepted
    assert not connect_device(stray, None).accepted
