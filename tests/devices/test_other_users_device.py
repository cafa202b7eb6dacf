"""Another user's device is a 404 on every verb: its existence never leaks."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "token/"),
        ("delete", "token/"),
        ("get", "qr.svg"),
        ("get", "qr.png"),
    ],
)
def test_every_verb_is_404(other_client, device, method, suffix):
    response = getattr(other_client, method)(f"/api/devices/{device.pk}/{suffix}", {"name": "x"}, format="json")
    missing = getattr(other_client, method)(f"/api/devices/999999/{suffix}", {"name": "x"}, format="json")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    device.refresh_from_db()
    assert device.name == "Boiler" and device.has_token
