"""The real-photo benchmark, run on folders of drawn sub-dials and displays laid out as a
set of real photos is (`labels.tsv`: file, value)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

from edge_reader.synthetic import random_meter_dial
from edge_reader.synthetic_display import Camera, DisplayStyle, draw_display

BENCH = Path(__file__).resolve().parents[2] / "bench" / "real_photos.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("real_photos_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_each_dial_photo_without_a_right_reading_falls_in_one_failure_class(tmp_path):
    bench = load_bench()
    rng = np.random.default_rng(3)
    lines = ["# file\tvalue"]
    for index in range(8):
        image, value = random_meter_dial(rng)
        cv2.imwrite(str(tmp_path / f"{index}.png"), image)
        lines.append(f"{index}.png\t{value:.2f}")
    (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
    result = bench.bench_dials(tmp_path, every=1, min_confidence=0.5, verbose=False)
    assert result["n"] == 8
    shares = result["failure_classes_pct"]
    assert set(shares) == set(bench.DIAL_FAILURE_CLASSES)
    read_right = 100 * result["within_2pct"]
    assert abs(sum(shares.values()) + read_right - 100) < 0.5


def test_failure_classes_go_by_how_far_off_the_reading_is():
    bench = load_bench()
    assert bench.dial_failure_class(1.5) == "right_but_refused"
    assert bench.dial_failure_class(4.0) == "imprecise"
    assert bench.dial_failure_class(25.0) == "another_object"
    assert bench.dial_failure_class(48.0) == "flipped"


def test_stored_display_readings_are_counted_by_their_decimals(tmp_path):
    bench = load_bench()
    style = DisplayStyle(positions=5, lcd=True, panel=(150, 185, 165), segment=(40, 45, 40), housing=(230, 230, 230))
    camera = Camera(size=(1280, 720), panel_width=0.7)
    lines = ["# file\tvalue"]
    for index, text in enumerate(("48.00", "113.0", "27.35")):
        cv2.imwrite(str(tmp_path / f"{index}.png"), draw_display(text, style, camera).image)
        lines.append(f"{index}.png\t{int(float(text))}")
    (tmp_path / "labels.tsv").write_text("\n".join(lines) + "\n")
    result = bench.bench_displays(tmp_path, every=1, min_confidence=0.5, verbose=False)
    assert result["exact"] == 3
    assert (result["label_rounded_up"], result["wrong_strict"], result["right_of_read_pct"]) == (0, 0, 100.0)
    assert result["decimals_stored"] == {"1": 1, "2": 2}


def test_a_display_reading_matches_a_label_cut_rounded_or_rounded_up():
    bench = load_bench()
    assert bench.label_match(53, 53.37) == "cut"
    assert bench.label_match(54, 53.7) == "rounded"
    assert bench.label_match(54, 53.37) == "rounded_up"
    assert bench.label_match(53, 53.0) == "cut"
    assert bench.label_match(54, 53.0) is None  # a whole number rounds up to itself
    assert bench.label_match(55, 53.37) is None
    assert bench.label_match(80, 800.0) is None  # a lost decimal point
    assert bench.label_match(108, 8.01) is None  # a lost leading digit
