"""Issuing, rotating, revoking and deleting reach the broker at once, after the commit."""

import pytest
from django.db import transaction

from devices.services import device_create, device_delete, device_token_revoke, device_token_rotate

pytestmark = pytest.mark.django_db


def test_a_new_device_can_connect_with_its_token(mqtt_device, mqtt_token, connect_device):
    assert connect_device(mqtt_device.pk, mqtt_token).accepted


def test_rotation_disconnects_the_old_token_and_lets_the_new_one_in(mqtt_device, mqtt_token, connect_device, committed):
    connected = connect_device(mqtt_device.pk, mqtt_token)

    with committed():
        new_token = device_token_rotate(device=mqtt_device)

    assert connected.disconnected.wait(5)
    assert not connect_device(mqtt_device.pk, mqtt_token).accepted
    assert connect_device(mqtt_device.pk, new_token).accepted


def test_rotation_through_the_api_reaches_the_broker(mqtt_device, mqtt_token, api_client, connect_device, committed):
    with committed():
        response = api_client.post(f"/api/devices/{mqtt_device.pk}/token/")

    assert response.status_code == 201
    assert not connect_device(mqtt_device.pk, mqtt_token).accepted
    assert connect_device(mqtt_device.pk, response.json()["token"]).accepted


def test_revocation_disconnects_the_device_and_keeps_it_out(mqtt_device, mqtt_token, connect_device, committed):
    connected = connect_device(mqtt_device.pk, mqtt_token)

    with committed():
        device_token_revoke(device=mqtt_device)

    assert connected.disconnected.wait(5)
    assert not connect_device(mqtt_device.pk, mqtt_token).accepted


def test_deleting_the_device_disconnects_it_and_keeps_it_out(mqtt_device, mqtt_token, connect_device, committed):
    connected = connect_device(mqtt_device.pk, mqtt_token)

    with committed():
        device_delete(device=mqtt_device)

    assert connected.disconnected.wait(5)
    assert not connect_device(mqtt_device.pk, mqtt_token).accepted


def test_a_rolled_back_rotation_never_reaches_the_broker(mqtt_device, mqtt_token, connect_device, committed):
    with committed() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        rolled_back_token = device_token_rotate(device=mqtt_device)
        raise RuntimeError("the request failed after rotating")

    assert callbacks == []
    assert connect_device(mqtt_device.pk, mqtt_token).accepted
    assert not connect_device(mqtt_device.pk, rolled_back_token).accepted


def test_an_unreachable_broker_is_logged_and_the_token_change_stands(user, mqtt_settings, broker, caplog, committed):
    broker.stop()
    with committed():
        device, _token = device_create(owner=user, name="Offline", type="generic")

    device.refresh_from_db()
    assert device.token_digest
    assert "run manage.py mqtt_sync_devices" in caplog.text


def test_nothing_is_sent_when_mqtt_is_off(user, settings, broker, connect_device, committed):
    settings.MQTT_HOST = ""
    with committed():
        device, token = device_create(owner=user, name="Quiet", type="generic")

    assert not connect_device(device.pk, token).accepted
