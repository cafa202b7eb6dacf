"""The seven-segment display reader on drawn displays with known values."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge_reader.display import DisplayOptions, Implausible, _apply_options, read_display
from edge_reader.result import ReadError
from edge_reader.synthetic_display import (
    Camera,
    DisplayStyle,
    _background,
    draw_display,
    random_camera,
    random_display,
    random_style,
)

LCD = DisplayStyle(positions=4, lcd=True, panel=(150, 185, 165), segment=(40, 45, 40), housing=(70, 70, 75))
RED_LED = DisplayStyle(
    positions=4, lcd=False, panel=(20, 20, 25), segment=(40, 40, 255), glow=0.02, housing=(40, 40, 40)
)
GREEN_LED = replace(RED_LED, segment=(60, 230, 80), housing=(160, 160, 150))
BLUE_LED = replace(RED_LED, segment=(255, 150, 40), housing=(200, 200, 200))
SMALL = Camera(size=(640, 480), panel_width=0.6)
HD = Camera(size=(1280, 720), panel_width=0.45, center=(0.45, 0.55), rotation=3.0, tilt=(0.04, -0.03))

CASES = {
    "lcd integer": ("1234", LCD, SMALL),
    "lcd decimal point": ("12.5", LCD, SMALL),
    "lcd minus sign": ("-7.25", LCD, SMALL),
    "lcd blank leading positions": ("3.1", replace(LCD, positions=6), SMALL),
    "lcd leading zeros": ("0042", LCD, SMALL),
    "lcd unlit segments show": ("58.6", replace(LCD, ghost=0.15), HD),
    "lcd rounded italic": ("90.17", replace(LCD, positions=5, shape="round", slant=0.15), HD),
    "lcd thin rectangles with gaps": ("2468", replace(LCD, shape="rect", stroke=0.09, gap=0.025), HD),
    "lcd thick bevels": ("1357", replace(LCD, stroke=0.15, width=0.6), HD),
    "lcd alternative 6 7 9": ("679", replace(LCD, positions=3, variants=True), SMALL),
    "red led": ("-40.2", RED_LED, HD),
    "green led italic": ("0.815", replace(GREEN_LED, slant=0.12), HD),
    "blue led": ("273", replace(BLUE_LED, positions=3, shape="round"), SMALL),
    "red led unlit segments show": ("9.99", replace(RED_LED, ghost=0.12), SMALL),
    "glare on the glass": ("46.1", LCD, replace(HD, glare=((0.4, 0.4, 0.2, 0.5),))),
    "blur, noise and jpeg": ("31.7", RED_LED, replace(HD, blur=0.02, noise=6.0, jpeg_quality=50)),
    "uneven light": ("805", replace(LCD, positions=3), replace(HD, light_gradient=0.5, light_angle=20)),
    "large frame at an angle": (
        "1.006",
        LCD,
        Camera(size=(2048, 1536), panel_width=0.4, rotation=-4.0, tilt=(-0.05, 0.04)),
    ),
}


def frame(text: str, style: DisplayStyle = LCD, camera: Camera = SMALL):
    return draw_display(text, style, camera)


@pytest.mark.parametrize("text, style, camera", CASES.values(), ids=CASES.keys())
def test_it_reads_the_displayed_number(text: str, style: DisplayStyle, camera: Camera) -> None:
    drawn = frame(text, style, camera)

    reading = read_display(drawn.image, drawn.calibration)

    assert reading.details["text"] == text
    assert reading.value == pytest.approx(float(text))
    assert 0.5 <= reading.confidence <= 1.0


def test_it_reads_random_displays_and_is_never_confidently_wrong() -> None:
    rng = np.random.default_rng(2024)
    exact, wrong_and_sure = 0, []
    for index in range(40):
        drawn = random_display(rng, ((640, 480), (1280, 720))[index % 2])
        try:
            reading = read_display(drawn.image, drawn.calibration)
        except ReadError:
            continue
        if reading.details["text"] == drawn.text:
            exact += 1
        elif reading.confidence >= 0.8:
            wrong_and_sure.append((drawn.text, reading.details["text"]))
    assert exact >= 38
    assert wrong_and_sure == []


def test_it_reads_an_image_file(tmp_path) -> None:
    drawn = frame("76.4")
    path = tmp_path / "display.png"
    cv2.imwrite(str(path), drawn.image)

    assert read_display(path, drawn.calibration).details["text"] == "76.4"
    assert read_display(str(path), drawn.calibration).value == pytest.approx(76.4)


def test_it_reads_a_grey_image() -> None:
    drawn = frame("512")

    grey = cv2.cvtColor(drawn.image, cv2.COLOR_BGR2GRAY)

    assert read_display(grey, drawn.calibration).details["text"] == "512"


def test_a_given_roi_reads_the_same_as_a_found_display() -> None:
    drawn = frame("-3.08", RED_LED, HD)
    x, y, w, h = drawn.panel_roi
    with_roi = {**drawn.calibration, "roi": [x - 10, y - 10, w + 20, h + 20]}

    found = read_display(drawn.image, drawn.calibration)
    given = read_display(drawn.image, with_roi)

    assert found.details["text"] == given.details["text"] == "-3.08"


def test_an_roi_tight_around_the_digits_still_reads() -> None:
    drawn = frame("64.2", LCD, SMALL)
    x, y, w, h = drawn.panel_roi
    digits_only = [x + w // 12, y + h // 8, w - w // 6, h - h // 4]

    reading = read_display(drawn.image, {**drawn.calibration, "roi": digits_only})

    assert reading.details["text"] == "64.2"


def test_an_roi_outside_the_image_is_an_error() -> None:
    drawn = frame("1")

    with pytest.raises(ReadError, match="roi"):
        read_display(drawn.image, {**drawn.calibration, "roi": [600, 400, 200, 100]})


def test_the_calibration_places_a_decimal_point_the_display_does_not_light() -> None:
    drawn = frame("1250")

    reading = read_display(drawn.image, {**drawn.calibration, "decimals": 2})

    assert reading.details["text"] == "12.50"
    assert reading.value == pytest.approx(12.5)


def test_a_reading_with_no_digit_before_the_calibrated_decimals_is_a_piece() -> None:
    # A display with two decimals shows 0.40, never 40 for it: "40" is the end of a longer number.
    with pytest.raises(Implausible, match="no digit before the 2 decimals"):
        _apply_options("40", 2, DisplayOptions(decimals=2), 1.0)
    assert _apply_options("040", 3, DisplayOptions(decimals=2), 1.0)[0] == "0.40"
    assert _apply_options("-125", 3, DisplayOptions(decimals=2), 1.0)[0] == "-1.25"


def test_a_decimal_point_elsewhere_than_calibrated_is_implausible() -> None:
    drawn = frame("12.5")

    with pytest.raises(ReadError, match="implausible"):
        read_display(drawn.image, {**drawn.calibration, "decimals": 2})


def test_more_digits_than_calibrated_is_implausible() -> None:
    drawn = frame("1234")

    with pytest.raises(ReadError, match="implausible"):
        read_display(drawn.image, {**drawn.calibration, "digits": 3})


@pytest.mark.parametrize("text", ["12H4", "E.12", "P 12"])
@pytest.mark.parametrize("style", [LCD, RED_LED], ids=["lcd", "led"])
def test_a_segment_pattern_that_is_no_digit_is_implausible(text: str, style: DisplayStyle) -> None:
    drawn = frame(text, style)

    with pytest.raises(ReadError, match="implausible.*not a digit"):
        read_display(drawn.image, drawn.calibration)


def test_letters_in_random_styles_are_never_read_as_a_confident_number() -> None:
    rng = np.random.default_rng(3)
    refused, confident = 0, []
    for index in range(24):
        style = random_style(rng, positions=4)
        text = ["12H4", "E.12", "P 12", "-1L0", "3o4", "°12"][index % 6]
        drawn = draw_display(text, style, random_camera(rng, style, ((640, 480), (1280, 720))[index % 2]))
        try:
            reading = read_display(drawn.image, drawn.calibration)
        except ReadError:
            refused += 1
            continue
        if reading.confidence >= 0.8:
            confident.append((text, reading.details["text"]))
    assert confident == []
    assert refused >= 22


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_frame_without_a_display_is_an_error(seed: int) -> None:
    scene = np.clip(_background(Camera(size=(640, 480), background_seed=seed)), 0, 255).astype(np.uint8)

    with pytest.raises(ReadError, match="no seven-segment display"):
        read_display(scene, {"kind": "seven_segment", "roi": None, "digits": None, "decimals": None})


def test_a_display_showing_nothing_is_an_error() -> None:
    drawn = frame("    ")

    with pytest.raises(ReadError):
        read_display(drawn.image, drawn.calibration)


@pytest.mark.parametrize(
    "calibration, field",
    [
        ({"kind": "dial"}, "kind"),
        ({"kind": "seven_segment", "roi": [1, 2, 3]}, "roi"),
        ({"kind": "seven_segment", "digits": 0}, "digits"),
        ({"kind": "seven_segment", "decimals": 1.5}, "decimals"),
    ],
)
def test_a_bad_calibration_names_the_field(calibration: dict, field: str) -> None:
    with pytest.raises(ReadError, match=field):
        read_display(frame("1").image, calibration)


def test_a_missing_file_is_an_error(tmp_path) -> None:
    with pytest.raises(ReadError, match="no image file"):
        read_display(tmp_path / "missing.png", {"kind": "seven_segment"})
