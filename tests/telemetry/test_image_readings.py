import io
import json

import cv2
import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from devices.services import device_update
from edge_reader.synthetic import GaugeStyle, Scene, calibration_for, draw_gauge
from telemetry.models import Reading

pytestmark = pytest.mark.django_db

URL = "/api/telemetry/image/"
STYLE = GaugeStyle()
SCENE = Scene(size=(640, 480))


def jpeg_of_gauge(value: float) -> bytes:
    ok, encoded = cv2.imencode(".jpg", draw_gauge(value, STYLE, SCENE), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return encoded.tobytes()


@pytest.fixture
def gauge(device):
    calibration = calibration_for(STYLE, SCENE)
    return device_update(
        device=device, type="analog_gauge", config={"unit": "bar", "min": 0, "max": 10, "calibration": calibration}
    )


def upload_file(client, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(URL, {"image": SimpleUploadedFile("gauge.jpg", data)}, format="multipart")


def test_a_photo_of_the_gauge_becomes_a_reading(device_client, gauge):
    response = upload_file(device_client, jpeg_of_gauge(6.3))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert abs(body["value"] - 6.3) < 0.2
    assert body["accepted"] == 1
    assert 0.9 <= body["learned_support"] <= 1.0  # the learned scorer sees the needle where it was found
    stored = Reading.objects.get(sensor__device=gauge)
    assert stored.sensor.key == "value" and abs(stored.value - 6.3) < 0.2


def test_no_image_is_kept_by_default(device_client, gauge, tmp_path, settings):
    settings.TELEMETRY_KEEP_IMAGES_DIR = ""
    upload_file(device_client, jpeg_of_gauge(2))
    settings.TELEMETRY_KEEP_IMAGES_DIR = str(tmp_path)
    upload_file(device_client, jpeg_of_gauge(3))
    assert [p.suffix for p in (tmp_path / str(gauge.pk)).iterdir()] == [".jpg"]


def test_a_device_without_calibration_is_409(device_client, device):
    response = upload_file(device_client, jpeg_of_gauge(5))
    assert response.status_code == 409
    assert response.json()["field"] == "config.calibration"


def test_a_missing_image_field_is_400(device_client, gauge):
    response = device_client.post(URL, {"photo": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["field"] == "image"


@pytest.mark.parametrize("data", [b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_a_file_that_is_no_image_is_400(device_client, gauge, data):
    response = upload_file(device_client, data)
    assert response.status_code == 400
    assert not Reading.objects.exists()


def test_another_format_is_415(device_client, gauge):
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, format="GIF")
    assert upload_file(device_client, buffer.getvalue()).status_code == 415


def test_an_oversized_image_is_413(device_client, gauge, settings):
    settings.TELEMETRY_MAX_IMAGE_BYTES = 1000
    assert upload_file(device_client, jpeg_of_gauge(5)).status_code == 413


def test_a_huge_canvas_is_refused_before_decoding(device_client, gauge):
    buffer = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buffer, format="PNG")
    assert upload_file(device_client, buffer.getvalue()).status_code == 413


def test_an_unreadable_photo_is_422_and_stores_nothing(device_client, gauge):
    blank = cv2.imencode(".png", (cv2.UMat(480, 640, cv2.CV_8UC3, (128, 128, 128))).get())[1].tobytes()
    response = upload_file(device_client, blank)
    assert response.status_code == 422
    assert not Reading.objects.exists()


def test_it_needs_a_device_token(api_client, gauge):
    assert upload_file(api_client, jpeg_of_gauge(5)).status_code == 401


def test_read_gauge_prints_one_json_line(tmp_path, capsys):
    image = tmp_path / "gauge.jpg"
    image.write_bytes(jpeg_of_gauge(4.2))
    calibration = tmp_path / "calibration.json"
    calibration.write_text(json.dumps(calibration_for(STYLE, SCENE)))
    call_command("read_gauge", str(image), calibration=str(calibration))
    reading = json.loads(capsys.readouterr().out)
    assert abs(reading["value"] - 4.2) < 0.2 and set(reading) >= {"value", "angle", "confidence"}


def test_read_gauge_uses_a_devices_calibration(tmp_path, gauge, capsys):
    image = tmp_path / "gauge.jpg"
    image.write_bytes(jpeg_of_gauge(7.5))
    call_command("read_gauge", str(image), device=gauge.pk)
    assert abs(json.loads(capsys.readouterr().out)["value"] - 7.5) < 0.2


def test_read_gauge_reports_an_unreadable_image(tmp_path, capsys):
    calibration = tmp_path / "calibration.json"
    calibration.write_text(json.dumps(calibration_for(STYLE, SCENE)))
    with pytest.raises(CommandError) as raised:
        call_command("read_gauge", str(tmp_path / "missing.jpg"), calibration=str(calibration))
    assert raised.value.returncode == 2
    assert "error" in json.loads(capsys.readouterr().out)


def test_a_jump_past_max_jump_is_refused_as_implausible(device_client, gauge):
    from django.core.cache import cache

    cache.clear()
    gauge.config["calibration"]["max_jump"] = 2
    gauge.save(update_fields=["config"])
    assert upload_file(device_client, jpeg_of_gauge(3.0)).status_code == 201
    response = upload_file(device_client, jpeg_of_gauge(8.0))
    assert response.status_code == 422
    assert "Implausible" in response.json()["detail"]
    assert Reading.objects.filter(sensor__device=gauge).count() == 1
    # A real step: once readings agree on the new level, it is taken.
    answers = [upload_file(device_client, jpeg_of_gauge(8.0)).status_code for _ in range(2)]
    assert answers == [422, 201]
    cache.clear()


@pytest.fixture
def keeping_gauge(gauge, tmp_path, settings):
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    return device_update(device=gauge, config={**gauge.config, "keep_last_image": True})


def test_the_last_photo_and_overlay_are_kept_when_the_owner_asks(device_client, keeping_gauge, tmp_path):
    assert upload_file(device_client, jpeg_of_gauge(2)).status_code == 201
    assert upload_file(device_client, jpeg_of_gauge(6.3)).status_code == 201
    folder = tmp_path / str(keeping_gauge.pk)
    assert sorted(p.name for p in folder.iterdir()) == ["outcome.json", "overlay.png", "photo.jpg"]
    outcome = json.loads((folder / "outcome.json").read_text())
    assert abs(outcome["value"] - 6.3) < 0.2 and outcome["refusal"] is None
    assert cv2.imread(str(folder / "overlay.png")).shape == (480, 640, 3)


def test_a_refused_photo_is_kept_with_its_reason(device_client, keeping_gauge, tmp_path):
    blank = cv2.imencode(".png", 200 * np.ones((240, 320, 3), np.uint8))[1].tobytes()
    assert upload_file(device_client, blank).status_code == 422
    outcome = json.loads((tmp_path / str(keeping_gauge.pk) / "outcome.json").read_text())
    assert outcome["value"] is None and "no dial" in outcome["refusal"]


def test_nothing_is_kept_unless_the_owner_asks(device_client, gauge, tmp_path, settings):
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    upload_file(device_client, jpeg_of_gauge(2))
    assert not any(tmp_path.iterdir())


def test_the_device_page_shows_the_last_photo_to_its_owner_only(client, user, other_user, device_client, keeping_gauge):
    upload_file(device_client, jpeg_of_gauge(4))
    client.force_login(user)
    page = client.get(f"/devices/{keeping_gauge.pk}/plots/").content.decode()
    assert "Last photo" in page and "What the reader found" in page
    overlay = client.get(f"/devices/{keeping_gauge.pk}/last-image/overlay/")
    assert overlay.status_code == 200 and overlay["Content-Type"] == "image/png"
    assert client.get(f"/devices/{keeping_gauge.pk}/last-image/photo/")["Content-Type"] == "image/jpeg"
    client.force_login(other_user)
    assert client.get(f"/devices/{keeping_gauge.pk}/last-image/overlay/").status_code == 404


def test_a_range_only_calibration_reads(device_client, device):
    range_only = {"kind": "dial", "min_value": 0, "max_value": 10, "unit": "bar"}
    device_update(device=device, type="analog_gauge", config={"unit": "bar", "calibration": range_only})
    response = upload_file(device_client, jpeg_of_gauge(6.3))
    assert response.status_code == 201, response.json()
    assert abs(response.json()["value"] - 6.3) < 0.3


def test_a_range_only_reading_whose_scale_is_a_guess_is_refused_with_the_reason(device_client, device):
    # Only the range is set up, and the camera is turned on its side: the scale's gap is
    # found at 9 o'clock, where no gauge leaves it. The answer says so and what to do.
    device = device_update(
        device=device,
        type="analog_gauge",
        config={"unit": "bar", "min": 0, "max": 10, "calibration": {"kind": "dial", "min_value": 0, "max_value": 10}},
    )
    sideways = draw_gauge(6.5, STYLE, Scene(size=(640, 480), rotation=90))
    response = upload_file(device_client, cv2.imencode(".jpg", sideways)[1].tobytes())
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "too uncertain" in detail and "the scale's gap was found far from the bottom" in detail
    assert "min_angle and max_angle" in detail
    assert not Reading.objects.filter(sensor__device=device).exists()
