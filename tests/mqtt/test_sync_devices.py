"""`manage.py mqtt_sync_devices` fills a fresh broker and clears devices gone since."""

import pytest
from django.core.management import CommandError, call_command

from devices import broker as device_broker
from devices.services import device_create, device_token_revoke

pytestmark = pytest.mark.django_db


def test_devices_made_while_mqtt_was_off_can_connect_after_a_sync(user, mqtt_settings, connect_device):
    mqtt_settings.MQTT_HOST = ""
    made_offline = [device_create(owner=user, name=f"Meter {i}", type="generic") for i in range(3)]
    revoked, _token = device_create(owner=user, name="Revoked", type="generic")
    device_token_revoke(device=revoked)
    assert not connect_device(made_offline[0][0].pk, made_offline[0][1]).accepted

    mqtt_settings.MQTT_HOST = "127.0.0.1"
    call_command("mqtt_sync_devices")

    for device, token in made_offline:
        assert connect_device(device.pk, token).accepted


def test_a_sync_removes_device_clients_the_server_no_longer_has(mqtt_device, mqtt_token, connect_device):
    device_broker.device_credentials_set(device_id=424242, token="iotd_" + "g" * 43)
    assert connect_device(424242, "iotd_" + "g" * 43).accepted

    call_command("mqtt_sync_devices")

    assert not connect_device(424242, "iotd_" + "g" * 43).accepted
    assert connect_device(mqtt_device.pk, mqtt_token).accepted


def test_a_sync_with_mqtt_off_says_so(settings):
    settings.MQTT_HOST = ""
    with pytest.raises(CommandError, match="MQTT_HOST"):
        call_command("mqtt_sync_devices")


def test_an_unreachable_broker_fails_the_sync_with_its_address(mqtt_settings, broker):
    broker.stop()
    with pytest.raises(CommandError, match="cannot reach"):
        call_command("mqtt_sync_devices")


def test_a_wrong_server_password_fails_the_sync(mqtt_settings):
    mqtt_settings.MQTT_PASSWORD = "not-the-password"
    with pytest.raises(CommandError, match="refused the server's account"):
        call_command("mqtt_sync_devices")
