"""The learned digit-cell judge: its committed weights, its training script, and how the
display reader weighs it against the segments' own reading."""

from __future__ import annotations

import numpy as np
import pytest

from edge_reader import digit_cells
from edge_reader.digit_cells import CLASSES, classify, load_weights, probabilities
from edge_reader.train_digit_cells import labelled_cells
from tests.edge_reader.helpers import paint_segments, run_module


def test_the_committed_weights_are_small_and_load():
    assert digit_cells.WEIGHTS.stat().st_size < 200_000
    weights = load_weights()
    assert weights["w1"].shape == (digit_cells.CELL_HEIGHT * digit_cells.CELL_WIDTH, weights["b1"].size)
    assert weights["w2"].shape == (weights["b1"].size, len(CLASSES))


def test_the_committed_weights_classify_drawn_cells_well():
    inputs, classes = labelled_cells(np.random.default_rng(2024), 600)
    predicted = probabilities(inputs).argmax(axis=1)
    assert (predicted == classes).mean() >= 0.93
    digits = classes < 10
    assert (predicted[digits] == classes[digits]).mean() >= 0.95
    # A drawn digit the judge is sure of is nearly always that digit.
    verdicts = classify(inputs)
    sure = [(CLASSES[c], v) for c, v in zip(classes, verdicts, strict=True) if v[1] >= 0.95]
    assert len(sure) >= 400
    assert sum(label == verdict[0] for label, verdict in sure) / len(sure) >= 0.99


def test_an_empty_or_odd_cell_is_classified_without_error():
    assert classify(np.zeros((0, 384), np.float32)) == []
    blank = digit_cells.cell_input(np.zeros((50, 40), np.float32), (5, 30, 5, 45))
    assert classify(blank[None])[0][0] == " "
    nothing = digit_cells.cell_input(np.zeros((50, 40), np.float32), (45, 60, 48, 70))  # off the map
    assert len(classify(nothing[None])) == 1


@pytest.mark.processes  # python -m edge_reader.train_digit_cells
def test_the_training_script_runs(tmp_path):
    out = tmp_path / "cells.npz"
    result = run_module("edge_reader.train_digit_cells", "--quick", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr
    with np.load(out) as stored:
        assert set(stored.files) == {"mean", "w1", "b1", "w2", "b2"}


def test_training_is_repeatable():
    from edge_reader.train_digit_cells import train

    first, second = train(200, 1, hidden=8), train(200, 1, hidden=8)
    assert all(np.array_equal(first[name], second[name]) for name in first)


@pytest.mark.parametrize("digit", list("0123456789"))
def test_each_drawn_digit_is_read_by_the_judge(digit):
    from edge_reader.train_digit_cells import draw_cell

    rng = np.random.default_rng(int(digit) + 10)
    cells = np.array([draw_cell(rng, digit) for _ in range(30)])
    verdicts = [label for label, _ in classify(cells)]
    assert verdicts.count(digit) >= 25


@pytest.mark.parametrize(
    ("digit", "segments", "level", "thicknesses"), [("1", "bc", 0.3, (6, 9, 12, 14)), ("4", "bcfg", 0.2, (12, 14))]
)
def test_a_pale_top_bar_over_a_1_or_a_4_is_no_7_or_9_to_the_judge(digit, segments, level, thicknesses):
    # Light on the glass's top, or a sliver of the panel's edge in the cell's box, leaves
    # the unlit top bar plainer than the other unlit bars, yet far paler than a lit one.
    for thick in thicknesses:
        strokes = np.zeros((120, 80), np.float32)
        paint_segments(strokes, "a", left=15, top=10, bottom=110, width=50, thick=thick, level=level)
        paint_segments(strokes, segments, left=15, top=10, bottom=110, width=50, thick=thick)
        label, _ = classify(digit_cells.cell_input(strokes, (15, 65, 10, 110))[None])[0]
        assert label == digit, (thick, label)


def _judge(answer):
    """A stand-in for the learned judge that answers `answer(digit_inputs)` for each cell."""

    def judge(inputs):
        return [answer(index) for index in range(len(inputs))]

    return judge


def test_the_judges_agreeing_raise_the_confidence_and_differing_lowers_it(monkeypatch):
    from edge_reader.display import read_display
    from edge_reader.synthetic_display import Camera, DisplayStyle, draw_display

    style = DisplayStyle(positions=4, lcd=True, panel=(150, 185, 165), segment=(40, 45, 40), ghost=0.12)
    drawn = draw_display("42.07", style, Camera(size=(1280, 720), panel_width=0.6, blur=0.02, noise=4.0))
    text = "42.07".replace(".", "")

    def read_with(answer):
        monkeypatch.setattr(digit_cells, "classify", _judge(answer))
        try:
            return read_display(drawn.image, {"kind": "seven_segment"}).confidence
        except Exception:
            return 0.0

    unsure = read_with(lambda index: (text[index] if index < len(text) else " ", 0.5))
    agreeing = read_with(lambda index: (text[index] if index < len(text) else " ", 0.99))
    differing = read_with(lambda index: ("8" if index == 1 else text[index] if index < len(text) else " ", 0.99))
    assert agreeing > unsure
    assert differing < unsure


def _lcd_cell(digit: str, ramp: float, ghost: float) -> np.ndarray:
    """A digit's stroke map as a real LCD gives it: lit segments, unlit ones showing at
    `ghost`, a background rising to `ramp` across the cell (shade, glare), and the next
    position's decimal point at the box's lower right."""
    from edge_reader.train_digit_cells import SEGMENTS_OF_DIGIT

    height, width = 96, 56
    cell = np.tile(np.linspace(0.0, ramp, width, dtype=np.float32), (height, 1))
    lit = SEGMENTS_OF_DIGIT[digit][0]
    unlit = "".join(name for name in "abcdefg" if name not in lit)
    for segments, level in ((lit, 1.0), (unlit, ghost)):
        paint_segments(cell, segments, left=0, top=0, bottom=height, width=width - 6, thick=12, level=level)
    cell[height - 10 :, width - 4 :] = 1.0  # the point after the digit, just inside the box
    return digit_cells.normalised_cell(cell)


def test_digits_on_an_uneven_panel_with_their_unlit_segments_showing_are_read():
    # Every digit, on a background rising to 0, 15% or 30% of a lit stroke, with its
    # unlit segments at 0, 15% or 25%: the judge names the digit, sure of it, nearly always.
    conditions = [(ramp, ghost) for ramp in (0.0, 0.15, 0.3) for ghost in (0.0, 0.15, 0.25)]
    cells = np.array([_lcd_cell(digit, ramp, ghost) for digit in "0123456789" for ramp, ghost in conditions])
    digits = [digit for digit in "0123456789" for _ in conditions]
    verdicts = classify(cells)
    right = sum(label == digit and sureness >= 0.8 for digit, (label, sureness) in zip(digits, verdicts, strict=True))
    assert right >= 70, f"{right} of {len(cells)}"


def _row_after_a_washed_out_leading_digit() -> np.ndarray:
    """A stroke map of "400" led by what is left of a 7 a reflection washed out: its lower
    right bar alone, at the row's start, on the row's pitch."""
    strokes = np.zeros((160, 420), np.float32)
    paint_segments(strokes, "c", left=40, top=32, bottom=128, width=56, thick=12)
    for left, digit in ((130, "bcfg"), (220, "abcdef"), (310, "abcdef")):
        paint_segments(strokes, digit, left=left, top=32, bottom=128, width=56, thick=12)
    return strokes


@pytest.mark.parametrize(("leading", "confirmed"), [("x", True), ("7", False)])
def test_a_skipped_leading_mark_is_confirmed_only_when_the_judge_sees_no_digit(monkeypatch, leading, confirmed):
    # The segments of the leading mark spell nothing, so the reading skips it; the
    # judges agree on the whole reading only if the learned one also sees no digit there.
    from edge_reader.display import AGREED, DisplayOptions, _read_strokes

    monkeypatch.setattr(digit_cells, "classify", _judge(lambda index: ((leading, "4", "0", "0")[index], 0.99)))
    reading = _read_strokes(_row_after_a_washed_out_leading_digit(), DisplayOptions())
    assert reading.text == "400"
    assert (reading.agreement >= AGREED) is confirmed
