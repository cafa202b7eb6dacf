"""Reading drawn gauges whose value is known: every style, scale and camera condition."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge_reader.gauge import read_gauge
from edge_reader.result import ReadError
from edge_reader.synthetic import GaugeStyle, Scene, calibration_for, draw_gauge, random_gauge

MAX_ERROR_PCT = 2.0  # of full scale, for any single gauge in these tests

DARK_FACE = GaugeStyle(face=(25, 25, 25), ink=(235, 235, 235), needle=(240, 240, 240), hub=(240, 240, 240))
CASES = {
    "270° clockwise": (GaugeStyle(), Scene(), 3.7),
    "270° counter-clockwise": (GaugeStyle(min_angle=135, direction="ccw"), Scene(), 6.2),
    "180° arc": (GaugeStyle(min_angle=270, sweep=180, min_value=-1, max_value=1.5), Scene(), 0.9),
    "300° near the top end": (GaugeStyle(min_angle=210, sweep=300, max_value=16), Scene(), 15.2),
    "full circle": (GaugeStyle(min_angle=0, sweep=360, max_value=100), Scene(), 71.0),
    "dark face, light needle": (DARK_FACE, Scene(), 8.1),
    "red bar needle": (GaugeStyle(needle=(30, 30, 200), needle_shape="bar", needle_width=0.04), Scene(), 1.4),
    "light falls off across the dial": (GaugeStyle(), Scene(gradient=0.6, gradient_angle=30), 5.5),
    "glare on the glass": (GaugeStyle(), Scene(glare=0.7, glare_at=(0.2, -0.2)), 4.4),
    "blur, noise and JPEG": (GaugeStyle(), Scene(blur=1.5, noise=8, jpeg_quality=60), 2.2),
    "camera rolled and tilted": (GaugeStyle(), Scene(rotation=-4, tilt=(5, -5)), 7.9),
    "off-centre, small dial": (GaugeStyle(), Scene(center=(100, 140), radius=75), 9.0),
    "320x240": (GaugeStyle(), Scene(size=(320, 240)), 2.8),
    "1920x1080": (GaugeStyle(red_zone=True), Scene(size=(1920, 1080), blur=2.0, noise=4), 8.6),
}


def error_pct(read: float, true: float, style: GaugeStyle) -> float:
    return 100 * abs(read - true) / abs(style.max_value - style.min_value)


@pytest.mark.parametrize("name", CASES)
def test_it_reads_the_value_shown(name: str):
    style, scene, value = CASES[name]
    reading = read_gauge(draw_gauge(value, style, scene), calibration_for(style, scene))
    assert error_pct(reading.value, value, style) < MAX_ERROR_PCT
    assert reading.confidence > 0.5
    assert abs((reading.details["angle"] - style.angle_of(value) - scene.rotation + 180) % 360 - 180) < 3


def test_random_gauges_read_within_one_percent_on_average():
    rng = np.random.default_rng(2024)
    errors = []
    for _ in range(24):
        image, calibration, value, style = random_gauge(rng, (320, 240))
        errors.append(error_pct(read_gauge(image, calibration).value, value, style))
    assert np.mean(errors) < 1.0
    assert max(errors) < 5.0


def test_a_given_centre_and_radius_read_the_same_as_found_ones():
    style, scene = GaugeStyle(), Scene(size=(320, 240))
    image = draw_gauge(4.0, style, scene)
    found = read_gauge(image, calibration_for(style, scene))
    given = read_gauge(image, calibration_for(style, scene, known_geometry=True))
    assert abs(found.value - given.value) < 0.1 and abs(given.value - 4.0) < 0.1


def test_it_reads_grey_images_and_files(tmp_path):
    style, scene = GaugeStyle(), Scene(size=(320, 240))
    image = draw_gauge(6.0, style, scene)
    path = tmp_path / "gauge.png"
    cv2.imwrite(str(path), image)
    for source in (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), path, str(path)):
        assert abs(read_gauge(source, calibration_for(style, scene)).value - 6.0) < 0.1


def test_a_needle_resting_below_the_scale_reads_the_minimum():
    style, scene = GaugeStyle(), Scene(size=(320, 240))
    image = draw_gauge(-0.5, style, scene)  # on the stop pin, 13.5° before zero
    assert read_gauge(image, calibration_for(style, scene)).value == 0.0


def test_an_image_without_a_dial_is_a_clear_error():
    calibration = calibration_for(GaugeStyle(), Scene())
    for image in (
        np.full((240, 320, 3), 180, np.uint8),
        np.random.default_rng(1).integers(0, 256, (240, 320), dtype=np.uint8),
    ):
        with pytest.raises(ReadError, match="no dial"):
            read_gauge(image, calibration)


def test_a_dial_without_a_needle_is_a_clear_error():
    style, scene = replace(GaugeStyle(), needle_shape="none"), Scene(size=(320, 240))
    with pytest.raises(ReadError, match="no needle"):
        read_gauge(draw_gauge(5.0, style, scene), calibration_for(style, scene))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ReadError, match="no image file"):
        read_gauge(tmp_path / "missing.jpg", calibration_for(GaugeStyle(), Scene()))


def test_a_calibration_with_only_the_centre_or_only_the_radius_finds_the_rest():
    style, scene = GaugeStyle(), Scene(size=(320, 240), center=(150, 125), radius=90)
    image = draw_gauge(2.5, style, scene)
    geometry = calibration_for(style, scene, known_geometry=True)
    for partial in ({"center": geometry["center"], "radius": None}, {"center": None, "radius": geometry["radius"]}):
        assert read_gauge(image, {**geometry, **partial}).value == pytest.approx(2.5, abs=0.1)
