"""The display reader says where each digit is and which segments it saw lit, and the
overlay draws them, so a user can see why a display reads as it does."""

import cv2
import numpy as np
import pytest

from edge_reader.display import read_display
from edge_reader.overlay import POINTER, draw_overlay
from edge_reader.synthetic_display import SEGMENTS_OF, Camera, DisplayStyle, draw_display

CAMERAS = {
    "flat": Camera(size=(640, 480), panel_width=0.6),
    "turned": Camera(size=(640, 480), panel_width=0.6, rotation=8),
    "perspective": Camera(size=(1280, 720), panel_width=0.4, tilt=(0.06, 0.1), center=(0.4, 0.6)),
}


def inside(point, quad) -> bool:
    return cv2.pointPolygonTest(np.asarray(quad, np.float32), (float(point[0]), float(point[1])), False) >= 0


@pytest.mark.parametrize("camera", CAMERAS.values(), ids=CAMERAS.keys())
def test_each_digit_is_placed_on_the_panel_with_the_segments_it_lights(camera):
    drawn = draw_display("-40.27", style=DisplayStyle(positions=6, slant=0.12), camera=camera)
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    assert reading.value == -40.27
    digits = reading.geometry["digits"]
    assert [digit["text"] for digit in digits] == ["-", "4", "0", "2", "7"]
    assert [digit["segments"] for digit in digits] == ["".join(sorted(SEGMENTS_OF[c])) for c in "-4027"]
    centres = [np.mean(digit["corners"], axis=0) for digit in digits]
    assert all(inside(centre, drawn.panel_quad) for centre in centres)
    # Left to right along the panel's top edge, whatever the camera's turn.
    along = drawn.panel_quad[1] - drawn.panel_quad[0]
    assert np.all(np.diff([centre @ along for centre in centres]) > 0)


def test_an_roi_places_the_digits_in_the_whole_image():
    drawn = draw_display("12.5", camera=CAMERAS["flat"])
    xs, ys = drawn.panel_quad[:, 0], drawn.panel_quad[:, 1]
    left, top = int(xs.min()) - 10, int(ys.min()) - 10
    roi = [left, top, int(xs.max()) + 10 - left, int(ys.max()) + 10 - top]
    whole = read_display(drawn.image, {"kind": "seven_segment"}).geometry["digits"]
    cropped = read_display(drawn.image, {"kind": "seven_segment", "roi": roi}).geometry["digits"]
    assert len(whole) == len(cropped) == 3
    for a, b in zip(whole, cropped, strict=True):
        assert np.abs(np.subtract(a["corners"], b["corners"])).max() < 4


def test_the_overlay_draws_each_digits_lit_segments():
    drawn = draw_display("38", camera=CAMERAS["turned"])
    reading = read_display(drawn.image, {"kind": "seven_segment"})
    overlay = draw_overlay(drawn.image, reading)
    red = np.all(overlay == POINTER, axis=2)
    for digit in reading.geometry["digits"]:
        cell = np.zeros(red.shape, np.uint8)
        cv2.fillPoly(cell, [np.round(digit["corners"]).astype(np.int32)], 1)
        assert red[cell.astype(bool)].sum() > 20, digit["text"]
    assert not np.all(drawn.image == POINTER, axis=2).any()  # the red is the overlay's own
