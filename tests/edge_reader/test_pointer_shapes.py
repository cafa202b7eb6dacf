"""Dials as real meters show them: fat, tapered, arrow pointers, tails, printed digits
under the pointer, tight crops without a rim, and a set-up that gives only the range."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge_reader import gauge
from edge_reader.calibration import CalibrationError, DialCalibration
from edge_reader.gauge import find_scale, measure_dial, read_gauge, scale_verdict
from edge_reader.pointer import degrees_apart, find_pointer
from edge_reader.result import ReadError
from edge_reader.synthetic import (
    POINTER_WIDTHS,
    ROTOR_LIGHT,
    ROTOR_SHAPES,
    GaugeStyle,
    Scene,
    _point,
    calibration_for,
    draw_gauge,
    random_meter_dial,
)
from tests.edge_reader.helpers import pointer_of_meter_dial

RED = (40, 40, 210)
# A water meter's sub-dial: a full circle, 0 to 10 clockwise from 12, a fat red drop.
METER = GaugeStyle(
    min_angle=0,
    sweep=360,
    needle=RED,
    hub=RED,
    needle_shape="drop",
    needle_width=0.22,
    needle_length=0.72,
    tail_length=0.0,
    unit="",
)
ARROW = GaugeStyle(needle_shape="arrow", needle_width=0.05, tail_length=0.3)
LONG_TAIL = GaugeStyle(needle_width=0.09, tail_length=0.45)
CAMERA = Scene(size=(320, 240), glare=0.4, blur=1.0, noise=4.0, jpeg_quality=60)
FULL_RANGE = {"min_value": 0, "max_value": 10}


def error_pct(reading_value: float, value: float, style: GaugeStyle) -> float:
    full_scale = style.max_value - style.min_value
    error = abs(reading_value - value) % full_scale if style.sweep == 360 else abs(reading_value - value)
    return 100 * min(error, full_scale - error) / full_scale


@pytest.mark.parametrize("value", [0.4, 2.7, 5.5, 8.1, 9.6])
def test_a_fat_red_drop_pointer_reads(value):
    image = draw_gauge(value, METER, CAMERA)
    reading = read_gauge(image, calibration_for(METER, CAMERA))
    assert error_pct(reading.value, value, METER) < 1.0
    assert reading.confidence >= 0.5


@pytest.mark.parametrize("value", [1.3, 4.6, 8.2])
def test_an_arrow_pointer_reads(value):
    image = draw_gauge(value, ARROW, CAMERA)
    assert read_gauge(image, calibration_for(ARROW, CAMERA)).value == pytest.approx(value, abs=0.1)


@pytest.mark.parametrize("value", [1.0, 3.0, 6.0, 9.0])
def test_a_long_tail_is_not_taken_for_the_tip(value):
    image = draw_gauge(value, LONG_TAIL, CAMERA)
    assert read_gauge(image, calibration_for(LONG_TAIL, CAMERA)).value == pytest.approx(value, abs=0.15)


# A meter's rotor: a slim point balanced by a half disc behind the hub, wider than the
# point and reaching nearly as far.
ROTOR = replace(METER, needle_shape="counterweight", needle_width=0.12, needle_length=0.85, tail_length=0.55)


@pytest.mark.parametrize("value", [0.6, 2.3, 4.1, 5.8, 7.4, 9.2])
def test_the_mass_stage_takes_a_rotors_point_not_its_counterweight(value):
    # The opening that takes print off a pointer takes the slim point too and keeps the
    # half disc, which reaches nearly as far as the point, but over a broad arc.
    scene = Scene(size=(150, 150), radius=75, blur=1.0)
    pointer = find_pointer(draw_gauge(value, ROTOR, scene), (75, 75), 70)
    assert pointer is not None
    assert degrees_apart(pointer.angle, value * 36) < 3.0


# Where each drawn rotor shows its light parts, pointing at 3 o'clock (dial radii, degrees
# clockwise from 12): the C-shaped window behind the hub, the arms that do not point, the
# plate on the point's body.
ROTOR_LIGHT_AT = {"ring": (0.3, 270.0), "star": (0.4, 210.0), "plate": (0.1, 90.0)}


@pytest.mark.parametrize("shape", ROTOR_SHAPES)
def test_a_drawn_rotor_points_in_the_pointers_colour_and_carries_light_parts(shape):
    style = replace(METER, needle_shape=shape, needle_width=POINTER_WIDTHS[shape][1], hub_radius=0.05)
    image = draw_gauge(2.5, style, Scene(size=(240, 240), radius=100))  # pointing at 3 o'clock
    nose = _point((120, 120), 100 * 0.6 * style.needle_length, 90.0)
    assert tuple(image[int(round(nose[1])), int(round(nose[0]))]) == RED
    share, angle = ROTOR_LIGHT_AT[shape]
    light = _point((120, 120), 100 * share, angle)
    assert tuple(image[int(round(light[1])), int(round(light[0]))]) == ROTOR_LIGHT
    opposite = _point((120, 120), 100 * 0.6 * style.needle_length, 270.0)
    assert tuple(image[int(round(opposite[1])), int(round(opposite[0]))]) != RED  # one end points


def test_the_mass_stage_tells_the_tip_of_a_drop_from_its_round_body():
    scene = Scene(size=(200, 200), radius=90)
    image = draw_gauge(3.0, METER, scene)
    pointer = find_pointer(image, (100, 100), 90)
    assert pointer is not None and pointer.cue == "red"
    assert degrees_apart(pointer.angle, 108) < 2.0


def test_a_digit_under_a_dark_pointer_does_not_drag_its_tip():
    dark = replace(METER, needle=(30, 30, 30), hub=(30, 30, 30), needle_width=0.16, needle_length=0.8)
    for value in (1.0, 2.0, 7.0):  # the tip over the printed 1, 2 and 7
        image = draw_gauge(value, dark, Scene(size=(240, 240)))
        reading = read_gauge(image, calibration_for(dark, Scene(size=(240, 240))))
        assert error_pct(reading.value, value, dark) < 1.0


def crop_inside_the_rim(value: float) -> np.ndarray:
    """A photo cut down to the dial, as a meter's sub-dial is: no rim left to find."""
    image = draw_gauge(value, METER, Scene(size=(400, 400), radius=150))
    return image[62:338, 62:338]


@pytest.mark.parametrize("value", [1.5, 6.5])
def test_a_crop_without_its_rim_reads_with_a_range_and_angles_only(value):
    calibration = {"min_angle": 0, "max_angle": 360, **FULL_RANGE}
    reading = read_gauge(crop_inside_the_rim(value), calibration)
    assert error_pct(reading.value, value, METER) < 1.5


@pytest.mark.parametrize("value", [0.5, 3.3, 7.7, 9.5])
def test_a_range_only_set_up_finds_the_scale_ends(value):
    style, scene = GaugeStyle(), Scene(size=(640, 480))
    reading = read_gauge(draw_gauge(value, style, scene), {**FULL_RANGE, "unit": "bar"})
    assert reading.value == pytest.approx(value, abs=0.25)
    assert reading.details["scale"]["min_angle"] == pytest.approx(225, abs=3)


def test_a_range_only_set_up_reads_a_counter_clockwise_scale():
    style, scene = GaugeStyle(min_angle=135, direction="ccw"), Scene(size=(640, 480))
    reading = read_gauge(draw_gauge(6.2, style, scene), {**FULL_RANGE, "direction": "ccw"})
    assert reading.value == pytest.approx(6.2, abs=0.25)


def test_the_scale_of_a_half_circle_dial_is_found():
    style, scene = GaugeStyle(min_angle=270, sweep=180), Scene(size=(640, 480))
    image = draw_gauge(2.0, style, scene)
    dial, angle = measure_dial(image)
    scale = find_scale(image, dial, angle)
    assert scale.min_angle == pytest.approx(270, abs=3)
    assert scale.sweep == pytest.approx(180, abs=6)


def test_ticks_all_round_make_a_full_circle_from_twelve():
    scene = Scene(size=(480, 480))
    image = draw_gauge(2.5, replace(METER, unit=""), scene)
    reading = read_gauge(image, FULL_RANGE)
    assert reading.details["scale"] == {"min_angle": 0.0, "sweep": 360.0}
    assert error_pct(reading.value, 2.5, METER) < 1.0


def test_a_range_only_set_up_on_a_frame_without_a_dial_is_refused():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    with pytest.raises(ReadError):
        read_gauge(cv2.GaussianBlur(noise, (0, 0), 3), FULL_RANGE)


def test_one_angle_without_the_other_is_refused():
    with pytest.raises(CalibrationError, match="^max_angle: "):
        read_gauge(draw_gauge(2.0, METER, CAMERA), {**FULL_RANGE, "min_angle": 0})


def test_the_reading_says_where_the_dial_scale_and_pointer_were_found():
    reading = read_gauge(draw_gauge(5.0, GaugeStyle(), Scene(size=(640, 480))), {**FULL_RANGE})
    geometry = reading.geometry
    assert geometry["center"] == pytest.approx((320, 240), abs=3)
    assert geometry["radius"] == pytest.approx(192, rel=0.1)
    assert geometry["min_angle"] == pytest.approx(225, abs=3)
    assert "geometry" not in reading.as_json()


@pytest.mark.parametrize("value", [2.5, 4.0, 5.3, 7.7, 8.8])
def test_the_tip_is_seen_from_the_pointers_pivot_when_the_crop_is_off_centre(value):
    # A sub-dial cut from a meter photo a few pixels off its pivot: seen from the crop's
    # middle the tip's direction turns by degrees; seen from the pointer's hub it does not.
    scene = Scene(size=(140, 140), center=(75, 64), radius=66)
    image = draw_gauge(value, METER, scene)
    pointer = find_pointer(image, (69.5, 69.5), 63)
    assert pointer is not None
    assert degrees_apart(pointer.angle, value * 36) < 1.5


def test_a_drawn_meter_dial_reads_like_a_real_sub_dial():
    rng = np.random.default_rng(7)
    errors = []
    for _ in range(20):
        image, value = random_meter_dial(rng)
        pointer = pointer_of_meter_dial(image)
        errors.append(180.0 if pointer is None else degrees_apart(pointer.angle, value * 36))
    assert np.median(errors) < 3.0
    assert sum(error > 20 for error in errors) <= 3


@pytest.mark.parametrize("value", [1.2, 3.0, 8.5])
def test_a_red_mark_merged_into_the_pointers_side_leaves_no_confidence(value):
    # A red print or a reflection touching the pointer near its tip drags the tip aside
    # by degrees; the blob is no longer mirror-symmetric about its axis, so it is refused.
    scene = Scene(size=(140, 140))
    image = draw_gauge(value, METER, scene)
    x, y = _point((70, 70), 0.65 * 56, value * 36 + 12)
    cv2.circle(image, (int(x), int(y)), 5, RED, -1)
    pointer = find_pointer(image, (69.5, 69.5), 56)
    assert pointer is None or pointer.confidence < 0.5
    clean = find_pointer(draw_gauge(value, METER, scene), (69.5, 69.5), 56)
    assert clean is not None and clean.confidence >= 0.5
    assert degrees_apart(clean.angle, value * 36) < 1.0


# A dark bezel around a scale of few ticks: the rim found is the bezel's outer edge, and
# the ring just inside it is the bezel, dark all round, not the ticks further in.
DARK_BEZEL = GaugeStyle(
    min_angle=270,
    sweep=180,
    max_value=16,
    major_divisions=4,
    minor_per_major=2,
    bezel=(30, 30, 30),
    bezel_width=0.07,
    needle=(30, 30, 200),
    hub=(30, 30, 200),
    needle_shape="bar",
    needle_width=0.04,
)


@pytest.mark.parametrize("value", [3.0, 12.9])
def test_a_range_only_set_up_finds_a_scale_of_few_ticks_inside_a_dark_bezel(value):
    image = draw_gauge(value, DARK_BEZEL, Scene(size=(640, 480), blur=1.3))
    reading = read_gauge(image, {**FULL_RANGE, "max_value": 16})
    assert reading.details["scale"] == {"min_angle": pytest.approx(270, abs=3), "sweep": pytest.approx(180, abs=6)}
    assert reading.value == pytest.approx(value, abs=0.3)


def test_a_range_only_set_up_with_no_printed_scale_seen_is_not_confident():
    # Ticks and numbers the colour of the face: where the range starts is only a guess.
    blank = replace(GaugeStyle(), ink=GaugeStyle().face, numbers=False)
    image = draw_gauge(3.0, blank, Scene(size=(640, 480)))
    dial, angle = measure_dial(image)
    assert find_scale(image, dial, angle).found is False
    reading = read_gauge(image, FULL_RANGE)
    assert reading.confidence < 0.5
    assert reading.details["doubt"] == "no printed scale was seen; give the scale's min_angle and max_angle"


@pytest.mark.parametrize("seed", [0, 5, 7, 15, 18])
def test_marks_all_round_under_a_wide_pointer_are_still_a_full_circle(seed):
    # A fat pointer hides the ticks and digits beneath it: that unmarked run is its cover,
    # not the scale's gap.
    image, _value = random_meter_dial(np.random.default_rng(seed))
    reading = read_gauge(image, FULL_RANGE)
    assert reading.details["scale"] == {"min_angle": 0.0, "sweep": 360.0}


def _ring(gap_start: int, gap_length: int):
    return (np.zeros(360, np.float32), gap_start, gap_length)


def test_the_outer_ring_places_the_scale_and_is_sure_when_most_rings_agree():
    numbers, ticks, band = _ring(150, 62), _ring(146, 66), _ring(148, 60)
    outer, sure = scale_verdict([numbers, ticks, band])
    assert outer is band and sure


@pytest.mark.parametrize(
    "rings",
    [
        [_ring(150, 60)],  # one ring alone: maybe a shadow or a label
        [_ring(150, 60), _ring(152, 58), _ring(0, 0)],  # the outer ring, marked all round, outvoted
        [_ring(150, 60), _ring(40, 45)],  # two rings, two gaps
    ],
)
def test_a_scale_one_ring_alone_or_against_the_others_places_is_not_sure(rings):
    outer, sure = scale_verdict(rings)
    assert outer is rings[-1] and not sure


def test_a_range_only_reading_whose_scale_is_unsure_is_refused(monkeypatch):
    image = draw_gauge(6.5, GaugeStyle(), Scene(size=(640, 480)))
    sure = read_gauge(image, FULL_RANGE)
    monkeypatch.setattr(gauge, "scale_verdict", lambda rings: (rings[-1], False))
    unsure = read_gauge(image, FULL_RANGE)
    assert sure.confidence >= 0.9 and unsure.value == sure.value
    assert unsure.confidence < 0.5 and unsure.details["doubt"].startswith("the scale's ends rest on one ring of marks")


def test_a_range_only_reading_with_the_pointer_deep_in_the_scales_gap_is_refused():
    # 22 degrees before the scale's start, where no gauge points in use: the gap the
    # reader found may be the one a fat pointer makes in the marks, and the value is a guess.
    deep = read_gauge(draw_gauge(-0.8, GaugeStyle(), Scene(size=(640, 480))), FULL_RANGE)
    assert deep.value == pytest.approx(0.0)
    assert deep.confidence < 0.5
    assert deep.details["doubt"] == "the pointer stands in the scale's gap; give the scale's min_angle and max_angle"
    # At rest on the stop pin, a few degrees before the scale's start: read as its start.
    at_rest = read_gauge(draw_gauge(-0.2, GaugeStyle(), Scene(size=(640, 480))), FULL_RANGE)
    assert at_rest.value == pytest.approx(0.0)
    assert at_rest.confidence >= 0.5 and "doubt" not in at_rest.details


def test_how_far_into_the_scales_gap_an_angle_lies():
    calibration = DialCalibration(min_angle=225, sweep=270, direction="cw", min_value=0, max_value=10)
    assert calibration.outside_scale(0) == 0.0  # 12 o'clock: on the scale
    assert calibration.outside_scale(180) == pytest.approx(45)  # the gap's middle
    assert calibration.outside_scale(220) == pytest.approx(5)  # just before the start
    assert calibration.outside_scale(140) == pytest.approx(5)  # just past the end


def test_a_range_only_reading_whose_scale_gap_is_found_far_from_the_bottom_is_refused():
    # The same gauge seen upright and with the camera turned a quarter round: the reader
    # finds the scale either way, but a gap at 9 o'clock is more often a full circle's faint
    # part or a pointer's shadow than a gauge's stop-pin zone. Such a set-up gives the angles.
    style = GaugeStyle()
    upright = read_gauge(draw_gauge(6.5, style, Scene(size=(640, 480))), FULL_RANGE)
    turned = read_gauge(draw_gauge(6.5, style, Scene(size=(640, 480), rotation=90)), FULL_RANGE)
    assert upright.confidence >= 0.5
    assert turned.details["scale"]["min_angle"] == pytest.approx(315, abs=4)  # the scale turned with the camera
    assert turned.confidence < 0.5 and turned.details["doubt"].startswith(
        "the scale's gap was found far from the bottom"
    )
    assert "doubt" not in upright.details
    with_angles = read_gauge(
        draw_gauge(6.5, style, Scene(size=(640, 480), rotation=90)), {"min_angle": 315, "max_angle": 225, **FULL_RANGE}
    )
    assert with_angles.value == pytest.approx(6.5, abs=0.25) and with_angles.confidence >= 0.5


@pytest.mark.parametrize(
    ("min_angle", "sweep", "off"),
    [
        (225, 270, 0.0),  # a gauge's usual scale: the gap centred at 6 o'clock
        (270, 180, 0.0),  # a half circle over the top
        (0, 360, 0.0),  # no gap at all
        (140, 261, 89.5),  # a gap found round at 3 o'clock
        (258, 293, 44.5),
    ],
)
def test_how_far_round_from_the_bottom_the_scales_gap_lies(min_angle, sweep, off):
    assert gauge.Scale(min_angle, sweep).gap_off_bottom() == pytest.approx(off)
