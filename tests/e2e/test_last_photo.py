"""The device page shows the last photo the reader was sent and what it found in it."""

import re

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page, expect

from devices.services import device_update
from edge_reader.synthetic import GaugeStyle, Scene, calibration_for, draw_gauge
from tests.support.browsers import check_both_widths

STYLE = GaugeStyle()
SCENE = Scene(size=(640, 480))


@pytest.fixture
def photographed_gauge(signed_in_page: Page, device, device_token, tmp_path, settings):
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    config = {"unit": "bar", "calibration": calibration_for(STYLE, SCENE), "keep_last_image": True}
    device_update(device=device, type="analog_gauge", config=config)
    ok, photo = cv2.imencode(".jpg", draw_gauge(6.3, STYLE, SCENE))
    assert ok
    response = signed_in_page.request.post(
        "/api/telemetry/image/",
        multipart={"image": {"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": photo.tobytes()}},
        headers={"Authorization": f"Device {device_token}"},
    )
    assert response.status == 201, response.text()
    return device


def test_the_last_photo_and_what_the_reader_found_are_shown_side_by_side(signed_in_page: Page, photographed_gauge):
    page = signed_in_page
    page.goto(f"/devices/{photographed_gauge.pk}/plots/")
    section = page.get_by_role("region", name="Last photo")
    # The value rounded, with its unit; the time in the reader's own words.
    expect(section).to_contain_text(re.compile(r"Read 6\.(2\d*|3\d*) bar \(confidence 1\.00\)"))
    expect(section.locator("time")).to_contain_text("just now")
    photo = section.get_by_role("img", name="The last photo the device sent")
    overlay = section.get_by_role("img", name="What the reader found in the last photo")
    for image in (photo, overlay):
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 640
    check_both_widths(page, "last-photo")
    # Side by side where there is room, one above the other on a phone; never wider than the page.
    page.set_viewport_size({"width": 1440, "height": 900})
    assert photo.bounding_box()["y"] == overlay.bounding_box()["y"]
    page.set_viewport_size({"width": 375, "height": 812})
    assert overlay.bounding_box()["y"] > photo.bounding_box()["y"]
    assert overlay.bounding_box()["width"] <= 375


def test_a_refused_photo_shows_why_and_the_owner_can_stop_keeping_photos(
    signed_in_page: Page, device, device_token, tmp_path, settings
):
    """A gauge whose every photo is refused has no readings yet: its page still shows the
    last photo and the reason, which is what its owner needs to fix the set-up."""
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    range_only = {"kind": "dial", "min_value": 0, "max_value": 10}
    device_update(device=device, type="analog_gauge", config={"unit": "bar", "calibration": range_only})
    page = signed_in_page
    page.goto(f"/devices/{device.pk}/plots/")
    switch = page.get_by_role("form", name="Photos")
    switch.get_by_label("Keep the last photo").check()
    switch.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Notifications")).to_contain_text("next photo")

    ok, blank = cv2.imencode(".png", np.full((240, 320, 3), 200, np.uint8))
    response = page.request.post(
        "/api/telemetry/image/",
        multipart={"image": {"name": "wall.png", "mimeType": "image/png", "buffer": blank.tobytes()}},
        headers={"Authorization": f"Device {device_token}"},
    )
    assert response.status == 422
    page.reload()
    section = page.get_by_role("region", name="Last photo")
    expect(section).to_contain_text("Not stored: no dial")
    expect(page.locator(".empty")).to_contain_text("the last one above shows why")
    check_both_widths(page, "last-photo-refused")

    switch.get_by_label("Keep the last photo").uncheck()
    switch.get_by_role("button", name="Save").click()
    expect(page.get_by_role("region", name="Last photo")).to_have_count(0)
    assert not (tmp_path / str(device.pk)).exists()


def test_a_range_only_gauge_whose_scale_is_a_guess_says_so_beside_its_photo(
    signed_in_page: Page, device, device_token, tmp_path, settings
):
    """Set up with its range only and photographed on its side, the gauge's scale gap is
    found at 9 o'clock: the page says why the reading was not stored and what to give."""
    settings.TELEMETRY_LAST_IMAGE_DIR = str(tmp_path)
    range_only = {"kind": "dial", "min_value": 0, "max_value": 10}
    config = {"unit": "bar", "calibration": range_only, "keep_last_image": True}
    device_update(device=device, type="analog_gauge", config=config)
    ok, photo = cv2.imencode(".jpg", draw_gauge(6.5, STYLE, Scene(size=(640, 480), rotation=90)))
    assert ok
    response = signed_in_page.request.post(
        "/api/telemetry/image/",
        multipart={"image": {"name": "gauge.jpg", "mimeType": "image/jpeg", "buffer": photo.tobytes()}},
        headers={"Authorization": f"Device {device_token}"},
    )
    assert response.status == 422
    page = signed_in_page
    page.goto(f"/devices/{device.pk}/plots/")
    section = page.get_by_role("region", name="Last photo")
    expect(section).to_contain_text("too uncertain to store")
    expect(section).to_contain_text(
        "the scale's gap was found far from the bottom; give the scale's min_angle and max_angle."
    )
    check_both_widths(page, "last-photo-scale-doubt")
