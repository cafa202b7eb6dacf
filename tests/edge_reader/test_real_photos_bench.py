"""The real-photo benchmark's dial half, run on a folder of drawn sub-dials laid out as a
set of real photos is (`labels.tsv`: file, value)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

from edge_reader.synthetic import random_meter_dial

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
