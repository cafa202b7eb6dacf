import pytest

from devices.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_it_creates_a_gauge_and_shows_its_token(signed_in, user):
    response = signed_in.post(
        "/devices/new/", {"name": "Pump", "type": "analog_gauge", "unit": "bar", "min": "0", "max": "10"}
    )
    device = Device.objects.get(owner=user, name="Pump")
    assert response["Location"] == f"/devices/{device.pk}/connect/"
    assert device.config == {"unit": "bar", "min": 0.0, "max": 10.0}
    page = signed_in.get(response["Location"]).content.decode()
    assert "Keep this secret" in page
    assert "iotd_" in page


def test_a_generic_device_keeps_no_scale(signed_in, user):
    signed_in.post("/devices/new/", {"name": "Room", "type": "generic", "unit": "°C", "min": "1", "max": "2"})
    assert Device.objects.get(owner=user, name="Room").config == {"unit": "°C"}


def test_a_gauge_needs_its_unit_and_scale(signed_in):
    response = signed_in.post("/devices/new/", {"name": "Pump", "type": "analog_gauge", "min": "5", "max": "1"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["unit"] == ["This field is required."]
    assert errors["max"] == ["Must be greater than min."]
    assert not Device.objects.exists()


def test_a_name_clash_is_refused_next_to_the_field(signed_in, device):
    response = signed_in.post("/devices/new/", {"name": " boiler ", "type": "generic"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["You already have a device with this name."]


def test_a_non_number_scale_is_refused(signed_in):
    response = signed_in.post(
        "/devices/new/", {"name": "P", "type": "analog_gauge", "unit": "bar", "min": "x", "max": "inf"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"min", "max"}


def test_an_unknown_type_is_refused(signed_in):
    response = signed_in.post("/devices/new/", {"name": "P", "type": "toaster"})
    assert response.status_code == 400
    assert "type" in response.context["form"].errors


def test_a_gauge_read_from_photos_needs_only_its_range(signed_in, user, client):
    form = {"name": "Boiler gauge", "type": "analog_gauge", "unit": "bar", "min": "0", "max": "10"}
    signed_in.post("/devices/new/", {**form, "read_photos": "on", "keep_last_image": "on"})
    device = Device.objects.get(owner=user, name="Boiler gauge")
    assert device.config["calibration"] == {"kind": "dial"}
    assert device.config["keep_last_image"] is True

    from telemetry.images import device_calibration

    assert device_calibration(device) == {"kind": "dial", "min_value": 0.0, "max_value": 10.0, "unit": "bar"}
