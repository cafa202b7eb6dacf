import json

import cv2
import numpy as np
import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def decode_png(png: bytes) -> dict:
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    # OpenCV's classic detector misses about 2% of valid codes; the ArUco-based one
    # decodes them all, as a phone's scanner does.
    text, _points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    assert text, "the QR code did not decode"
    return json.loads(text)


def test_the_png_round_trips_to_a_working_token(api_client, device):
    response = api_client.get(f"/api/devices/{device.pk}/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "no-store"
    payload = decode_png(response.content)
    assert payload["device"] == device.pk
    assert payload["server"] == "http://testserver"
    device_client = APIClient()
    device_client.credentials(HTTP_AUTHORIZATION=f"Device {payload['token']}")
    assert device_client.get("/api/device/").json()["id"] == device.pk


def test_the_svg_is_an_svg(api_client, device):
    response = api_client.get(f"/api/devices/{device.pk}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_the_qr_follows_a_rotation(api_client, device, device_token):
    new_token = api_client.post(f"/api/devices/{device.pk}/token/").json()["token"]
    payload = decode_png(api_client.get(f"/api/devices/{device.pk}/qr.png").content)
    assert payload["token"] == new_token != device_token


def test_a_revoked_device_has_no_qr(api_client, device):
    api_client.delete(f"/api/devices/{device.pk}/token/")
    response = api_client.get(f"/api/devices/{device.pk}/qr.png")
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]


def test_the_server_is_the_public_base_url_when_set(settings, api_client, device):
    settings.PUBLIC_BASE_URL = "https://iot.example.com"
    payload = decode_png(api_client.get(f"/api/devices/{device.pk}/qr.png").content)
    assert payload["server"] == "https://iot.example.com"


def test_the_qr_needs_a_user(anon_client, device):
    assert anon_client.get(f"/api/devices/{device.pk}/qr.png").status_code == 401
