"""Hostile input is a 4xx naming what is wrong, never a 500."""

import pytest

from devices.models import Device

pytestmark = pytest.mark.django_db

DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_to_register_is_a_400(anon_client, body):
    response = anon_client.post("/api/auth/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_deeply_nested_json_to_devices_is_a_400(api_client, body):
    response = api_client.post("/api/devices/", body, content_type="application/json")
    assert response.status_code == 400


def test_deeply_nested_json_as_telemetry_is_a_400(device_client):
    response = device_client.post("/api/telemetry/", DEEP, content_type="application/json")
    assert response.status_code == 400


@pytest.fixture
def reading(device_client, device):
    # More readings than points asked for: the answer is buckets, where times are computed.
    body = [{"ts": f"2026-01-0{day}T00:00:00Z", "values": {"t": day}} for day in range(1, 6)]
    assert device_client.post("/api/telemetry/", body, format="json").status_code == 201
    return device


@pytest.mark.parametrize("tz", [None, "Europe/Paris", "Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize(
    "start, end",
    [
        ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
        ("0001-01-01T00:00:00", "9999-12-31T23:59:59"),
        ("0001-01-01T00:00:00Z", None),
        (None, "0001-01-02T00:00:00Z"),
        ("9999-12-31T00:00:00Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_readings_over_times_at_the_ends_of_the_calendar_are_a_400_naming_the_field(
    api_client, reading, start, end, tz
):
    wanted = {"start": start, "end": end, "tz": tz, "points": 2}
    params = {key: value for key, value in wanted.items() if value is not None}
    response = api_client.get(f"/api/devices/{reading.pk}/readings/", params)
    assert response.status_code == 400, response.content
    assert set(response.json()) & {"start", "end"}


def test_readings_over_a_long_but_sane_range_still_answer(api_client, reading):
    params = {"start": "1970-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z", "tz": "Europe/Paris"}
    assert api_client.get(f"/api/devices/{reading.pk}/readings/", params).status_code == 200


@pytest.mark.parametrize("max_jump", ["0.5", -1, 0, True, None, [1]])
def test_a_calibration_with_a_bad_max_jump_is_refused(api_client, device, max_jump):
    config = {"unit": "bar", "min": 0, "max": 10, "calibration": {"max_jump": max_jump}}
    response = api_client.patch(f"/api/devices/{device.pk}/", {"type": "analog_gauge", "config": config}, format="json")
    assert response.status_code == 400, response.content
    assert "max_jump" in str(response.json()["config"])


def test_a_stored_string_max_jump_is_a_409_on_every_photo_not_a_500(device_client, device):
    from tests.telemetry.test_image_readings import SCENE, STYLE, calibration_for, jpeg_of_gauge, upload_file

    calibration = {**calibration_for(STYLE, SCENE), "max_jump": "0.5"}  # saved before it was checked
    Device.objects.filter(pk=device.pk).update(
        type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10, "calibration": calibration}
    )
    answers = [upload_file(device_client, jpeg_of_gauge(value)).status_code for value in (3.0, 8.0)]
    assert answers == [409, 409]
