import pytest
from rest_framework.test import APIClient

from devices.models import Device

pytestmark = pytest.mark.django_db

SELF_URL = "/api/device/"


def as_device(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return client


def test_a_device_token_identifies_its_device(device, device_token):
    response = as_device(device_token).get(SELF_URL)
    assert response.status_code == 200
    assert response.json()["id"] == device.pk


def test_tokens_are_long_random_and_prefixed(device_token):
    assert device_token.startswith("iotd_")
    assert len(device_token) >= len("iotd_") + 32  # >= 160 bits of base64


def test_the_database_never_holds_the_token(device, device_token):
    stored = Device.objects.filter(pk=device.pk).values().get()
    assert not any(device_token in str(value) for value in stored.values())


def test_rotation_takes_effect_at_once(api_client, device, device_token):
    response = api_client.post(f"/api/devices/{device.pk}/token/")
    assert response.status_code == 201
    new_token = response.json()["token"]
    assert new_token != device_token
    assert as_device(device_token).get(SELF_URL).status_code == 401
    assert as_device(new_token).get(SELF_URL).status_code == 200


def test_revocation_takes_effect_at_once(api_client, device, device_token):
    assert api_client.delete(f"/api/devices/{device.pk}/token/").status_code == 204
    assert as_device(device_token).get(SELF_URL).status_code == 401
    assert api_client.get(f"/api/devices/{device.pk}/").json()["has_token"] is False


@pytest.mark.parametrize(
    "header",
    ["Device", "Device iotd_wrong", "Device a b", "Device iotd_" + "x" * 43, "Token abc"],
)
def test_bad_device_credentials_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(SELF_URL)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_device_token_cannot_call_user_endpoints(device_token):
    client = as_device(device_token)
    assert client.get("/api/devices/").status_code == 401
    assert client.get("/api/auth/me/").status_code == 401


def test_a_user_token_cannot_act_as_a_device(api_client):
    assert api_client.get(SELF_URL).status_code == 401


def test_tokens_survive_a_restart_but_not_a_new_secret_key(settings, device, device_token):
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert as_device(device_token).get(SELF_URL).status_code == 401
