"""Displays photographed or cut to the reading alone (an electricity meter's LCD strip,
an LED module): read with an ROI that is the whole image, and without one."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize(
    "text, lcd",
    [("012345.6", True), ("8402.17", True), ("-40.2", False), ("273", False)],
    ids=["meter strip", "strip with decimals", "led with minus", "led"],
)
@pytest.mark.parametrize("with_roi", [True, False], ids=["roi is the whole image", "no roi"])
def test_a_photo_cropped_to_the_reading_reads(text, lcd, with_roi):
    from edge_reader.display import read_display
    from edge_reader.synthetic_display import Camera, DisplayStyle, draw_display

    style = (
        DisplayStyle(
            positions=len(text.replace(".", "")), lcd=True, panel=(160, 180, 160), segment=(35, 40, 35), ghost=0.1
        )
        if lcd
        else DisplayStyle(positions=len(text.replace(".", "")), lcd=False, panel=(20, 10, 10), segment=(40, 40, 255))
    )
    drawn = draw_display(text, style, Camera(size=(1280, 720), panel_width=0.8, noise=3.0, jpeg_quality=80))
    x, y, w, h = drawn.panel_roi
    strip = np.ascontiguousarray(drawn.image[y : y + h, x : x + w])
    calibration = {"kind": "seven_segment", "roi": [0, 0, w, h] if with_roi else None}
    reading = read_display(strip, calibration)
    assert reading.details["text"] == text
    assert reading.confidence >= 0.5
