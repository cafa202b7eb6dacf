"""Calibrations: checked with clear errors, mapping angles to values, made from an image."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_reader.calibration import (
    CalibrationError,
    calibrate_from_ticks,
    load_calibration,
    save_calibration,
    validate_calibration,
)
from edge_reader.gauge import calibrate_from_readings, read_gauge
from edge_reader.synthetic import GaugeStyle, Scene, draw_gauge

DIAL = {
    "min_angle": 225,
    "max_angle": 495,
    "min_value": 0,
    "max_value": 10,
    "unit": "bar",
    "center": None,
    "radius": None,
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_angle": None}, "min_angle"),
        ({"max_angle": "up"}, "max_angle"),
        ({"max_value": float("inf")}, "max_value"),
        ({"max_value": 0}, "max_value"),
        ({"max_angle": 225}, "max_angle"),
        ({"direction": "left"}, "direction"),
        ({"radius": -3}, "radius"),
        ({"center": [10]}, "center"),
        ({"center": [10, True]}, "center"),
        ({"kind": "seven_segment"}, "kind"),
        ({"unit": 3}, "unit"),
    ],
)
def test_a_bad_field_is_named_in_the_error(change, field):
    with pytest.raises(CalibrationError, match=f"^{field}: "):
        validate_calibration({**DIAL, **change})


def test_a_calibration_must_be_an_object():
    with pytest.raises(CalibrationError, match="JSON object"):
        validate_calibration([225, 495])


@pytest.mark.parametrize(
    ("calibration", "angle", "value"),
    [
        (DIAL, 225, 0),
        (DIAL, 0, 5),
        (DIAL, 135, 10),
        (DIAL, 360 + 67.5, 7.5),
        ({**DIAL, "min_angle": -135, "max_angle": 135}, 0, 5),  # the same dial spelt with negatives
        ({**DIAL, "min_angle": 135, "max_angle": -135, "direction": "ccw"}, 90, 10 / 270 * 45),
        ({**DIAL, "min_angle": 135, "max_angle": 225, "direction": "ccw"}, 0, 10 / 270 * 135),
        ({**DIAL, "min_angle": 0, "max_angle": 360}, 90, 2.5),  # full circle
        ({**DIAL, "min_angle": 270, "max_angle": 450}, 0, 5),  # 180° arc
        (DIAL, 190, 0),  # in the dead zone, nearer min: the needle rests on the stop pin
        (DIAL, 170, 10),  # in the dead zone, nearer max
    ],
)
def test_angles_map_to_values(calibration, angle, value):
    assert validate_calibration(calibration).value_at(angle) == pytest.approx(value)


def test_the_min_and_max_ticks_a_user_clicks_give_the_scale():
    # centre (100, 100); min at 7:30, max at 4:30, clockwise through the top
    calibration = calibrate_from_ticks((100, 100), (50, 150), (150, 150), min_value=0, max_value=16, unit="bar")
    assert calibration["min_angle"] == pytest.approx(225)
    assert calibration["max_angle"] == pytest.approx(495)
    assert calibration["center"] == [100, 100]


def test_ticks_of_a_counter_clockwise_scale():
    calibration = calibrate_from_ticks((100, 100), (150, 150), (50, 150), min_value=0, max_value=1, direction="ccw")
    assert (calibration["min_angle"], calibration["max_angle"]) == (pytest.approx(135), pytest.approx(-135))


@pytest.mark.parametrize("direction", ["cw", "ccw"])
def test_two_known_readings_calibrate_the_gauge(direction):
    min_angle = 225 if direction == "cw" else 135
    style = GaugeStyle(min_angle=min_angle, direction=direction, max_value=16)
    scene = Scene(size=(320, 240), rotation=3)
    low, high = draw_gauge(4.0, style, scene), draw_gauge(12.0, style, scene)
    calibration = calibrate_from_readings(
        (low, 4.0), (high, 12.0), min_value=0, max_value=16, unit="bar", direction=direction
    )
    assert read_gauge(draw_gauge(9.0, style, scene), calibration).value == pytest.approx(9.0, abs=0.3)
    assert read_gauge(draw_gauge(0.5, style, scene), calibration).value == pytest.approx(0.5, abs=0.3)


def test_two_identical_readings_cannot_calibrate():
    image = draw_gauge(4.0, GaugeStyle(), Scene(size=(320, 240)))
    with pytest.raises(CalibrationError, match="readings"):
        calibrate_from_readings((image, 4.0), (image, 4.0), min_value=0, max_value=10)


def test_a_saved_calibration_loads_back(tmp_path):
    path = tmp_path / "calibration.json"
    save_calibration({**DIAL, "direction": "cw", "kind": "dial"}, path)
    assert load_calibration(path) == {**DIAL, "direction": "cw", "kind": "dial"}
    assert json.loads(path.read_text())["max_angle"] == 495


def test_an_unreadable_calibration_file_is_a_calibration_error(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="cannot read"):
        load_calibration(path)


def test_every_value_on_the_scale_maps_to_its_angle_and_back():
    rng = np.random.default_rng(360)
    for _ in range(300):
        min_angle, sweep = float(rng.uniform(-720, 720)), float(rng.choice([rng.uniform(1, 360), 360.0]))
        direction = str(rng.choice(["cw", "ccw"]))
        min_value, span = float(rng.uniform(-1e4, 1e4)), float(rng.uniform(0.01, 1e4))
        max_angle = min_angle + sweep if direction == "cw" else min_angle - sweep
        calibration = validate_calibration(
            {
                **DIAL,
                "min_angle": min_angle,
                "max_angle": max_angle,
                "min_value": min_value,
                "max_value": min_value + span,
                "direction": direction,
            }
        )
        # max and min share one mark on a full circle: stay just short of it there
        value = min_value + float(rng.uniform(0, 0.999 if calibration.full_circle else 1)) * span
        assert calibration.value_at(calibration.angle_of(value)) == pytest.approx(value, abs=1e-6 * span)
