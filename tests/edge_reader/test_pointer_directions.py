"""The learned pointer-direction scorer: its committed weights, its training script, and
how the gauge reader lets it second the needle found."""

from __future__ import annotations

import numpy as np
import pytest

from edge_reader import gauge, pointer_directions
from edge_reader.gauge import Needle, _with_support, read_gauge
from edge_reader.pointer import degrees_apart
from edge_reader.pointer_directions import (
    RAY_STEP,
    RAYS,
    direction_probabilities,
    likeliest_direction,
    load_weights,
    support,
)
from edge_reader.result import ReadError
from edge_reader.synthetic import random_meter_dial
from edge_reader.train_pointer_directions import drawn_dials, share_right, train
from tests.edge_reader.helpers import run_module

METER = {"kind": "dial", "min_angle": 0, "max_angle": 360, "min_value": 0, "max_value": 10}


def meter_dial(seed: int) -> tuple[np.ndarray, float, tuple[float, float], float]:
    """A drawn meter sub-dial, its pointer's direction, and the crop's middle and half side."""
    image, value = random_meter_dial(np.random.default_rng(seed))
    height, width = image.shape[:2]
    return image, value * 36.0, ((width - 1) / 2, (height - 1) / 2), 0.45 * min(height, width)


def test_the_committed_weights_are_small_and_load():
    assert pointer_directions.WEIGHTS.stat().st_size < 300_000
    weights = load_weights()
    window = (2 * pointer_directions.WINDOW + 1) * pointer_directions.RADII * 2
    assert weights["w1"].shape == (window, weights["b1"].size)
    assert weights["w2"].shape == (weights["b1"].size, 1)


def test_the_committed_weights_find_the_pointer_of_drawn_dials_they_were_not_trained_on():
    right = 0
    for seed in range(90_000, 90_060):
        image, truth, center, radius = meter_dial(seed)
        probabilities = direction_probabilities(image, center, radius)
        assert probabilities.shape == (RAYS,) and probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        right += degrees_apart(likeliest_direction(probabilities), truth) <= 7.2
    assert right >= 54  # 90%


def test_turning_the_dial_turns_the_probabilities():
    image, truth, _, _ = meter_dial(90_100)
    side = min(image.shape[:2])
    square = np.ascontiguousarray(image[:side, :side])
    middle = ((side - 1) / 2, (side - 1) / 2)
    upright = direction_probabilities(square, middle, 0.45 * side)
    turned = direction_probabilities(np.ascontiguousarray(np.rot90(square, k=-1)), middle, 0.45 * side)  # clockwise
    assert degrees_apart(likeliest_direction(turned), likeliest_direction(upright) + 90) <= 2 * RAY_STEP


def test_support_is_the_probability_near_an_angle_each_ray_counting_for_its_share():
    probabilities = np.zeros(RAYS)
    probabilities[[0, 60]] = [0.8, 0.2]  # 0 and 180 degrees
    assert support(probabilities, 0.0, 6.0) == pytest.approx(0.8)
    assert support(probabilities, 4.5, 6.0) == pytest.approx(0.8)  # the ray's 3 degrees all inside
    assert support(probabilities, 6.0, 6.0) == pytest.approx(0.4)  # half of them
    assert support(probabilities, 9.0, 6.0) == 0.0
    assert support(probabilities, 358.5, 3.0) == pytest.approx(0.8)  # across 12 o'clock
    # Moving the angle a little between rays moves the support a little.
    steps = [support(probabilities, 3.0 + shift, 6.0) for shift in np.linspace(0.0, 3.0, 13)]
    assert max(abs(a - b) for a, b in zip(steps, steps[1:], strict=False)) <= 0.8 * 0.25 / 3 + 1e-9


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((40, 40, 3), np.uint8),  # black
        np.full((64, 64), 200, np.uint8),  # flat grey, no colour
        np.random.default_rng(3).integers(0, 256, (50, 70, 3), dtype=np.uint8),  # noise
    ],
    ids=["black", "flat-grey", "noise"],
)
def test_an_image_without_a_pointer_gives_an_answer_without_error(image):
    height, width = image.shape[:2]
    probabilities = direction_probabilities(image, (width / 2, height / 2), min(height, width) / 2)
    assert np.isfinite(probabilities).all() and probabilities.sum() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("center", "radius"),
    [
        ((-50.0, -50.0), 30.0),
        ((1000.0, 1000.0), 30.0),
        ((20.0, -400.0), 30.0),
        ((60.0, 60.0), 1e12),
        ((60.0, 60.0), 0.0),
    ],
)
def test_a_centre_outside_the_image_or_an_odd_radius_gives_an_answer_without_error(center, radius):
    image, _, _, _ = meter_dial(90_400)
    probabilities = direction_probabilities(image, center, radius)
    assert np.isfinite(probabilities).all() and probabilities.sum() == pytest.approx(1.0, abs=1e-4)


def test_the_support_is_the_scorers_probability_on_the_needle_and_never_moves_it():
    image, truth, center, radius = meter_dial(90_200)
    seen = _with_support(image, center, radius, Needle(angle=truth, confidence=0.4))
    assert seen.support is not None and seen.support >= gauge.SUPPORTED
    assert (seen.angle, seen.confidence) == (truth, 0.4)
    elsewhere = _with_support(image, center, radius, Needle(angle=(truth + 90) % 360, confidence=0.4))
    assert elsewhere.support is not None and elsewhere.support < 0.1


@pytest.mark.parametrize(("seed", "seconded"), [(90_305, False), (90_314, True), (90_324, False), (90_356, True)])
def test_a_reading_the_scorer_seconds_is_surer_when_the_scale_is_given(seed, seconded, monkeypatch):
    image, _, _, _ = meter_dial(seed)
    range_only = {"kind": "dial", "min_value": 0, "max_value": 10}
    lifted, lifted_range_only = read_gauge(image, METER), read_gauge(image, range_only)
    monkeypatch.setattr(gauge, "SUPPORT_LIFT", 1.0)
    alone, alone_range_only = read_gauge(image, METER), read_gauge(image, range_only)
    assert (lifted.details["learned_support"] >= gauge.SUPPORTED) == seconded
    assert "learned_support" in lifted.as_json()
    if seconded:
        assert alone.confidence < 0.8  # not capped at 1
        assert lifted.confidence == pytest.approx(alone.confidence * 1.25, abs=0.002)
    else:
        assert lifted.confidence == alone.confidence
    # With the range only, the scale's ends are the larger doubt, which the scorer cannot see.
    assert lifted_range_only.confidence == alone_range_only.confidence


@pytest.mark.processes  # python -m edge_reader.train_pointer_directions
def test_the_training_script_runs(tmp_path):
    out = tmp_path / "directions.npz"
    result = run_module("edge_reader.train_pointer_directions", "--quick", "--out", str(out))
    assert result.returncode == 0, result.stderr
    with np.load(out) as stored:
        assert set(stored.files) == {"w1", "b1", "w2", "b2"}


@pytest.mark.processes  # python -m edge_reader.train_pointer_directions
def test_a_quick_run_never_writes_over_the_committed_weights():
    before = pointer_directions.WEIGHTS.stat().st_mtime_ns
    result = run_module("edge_reader.train_pointer_directions", "--quick", timeout=60)
    assert result.returncode == 2 and "--out FILE" in result.stderr
    assert pointer_directions.WEIGHTS.stat().st_mtime_ns == before


def test_training_is_repeatable():
    cues, angles = drawn_dials(40, 0, seed=5)
    again, _ = drawn_dials(40, 0, seed=5)
    assert np.array_equal(cues, again)
    first, second = train(cues, angles, 1, hidden=8), train(cues, angles, 1, hidden=8)
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_share_right_counts_dials_whose_likeliest_direction_is_within_2_percent():
    cues, angles = drawn_dials(30, 0, seed=6)
    weights = load_weights()
    assert share_right(weights, cues, angles) >= 0.8
    assert share_right(weights, cues, (angles + 90) % 360) <= 0.2


@pytest.mark.parametrize("radius", [1e5, 1e9])
def test_a_radius_far_past_the_frame_is_refused_at_once(radius):
    image, _, _, _ = meter_dial(90_500)
    calibration = {**METER, "center": [60, 60], "radius": radius}
    with pytest.raises(ReadError, match="far larger than this"):
        read_gauge(image, calibration)
