"""Shared by the edge reader's tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from edge_reader.pointer import PointerEstimate, find_pointer


def pointer_of_meter_dial(image: np.ndarray) -> PointerEstimate | None:
    """The pointer of a photo cut down to a meter's sub-dial, seen from the crop's middle
    (the dial's centre is near it, a few pixels off), as `random_meter_dial` draws them."""
    height, width = image.shape[:2]
    return find_pointer(image, ((width - 1) / 2, (height - 1) / 2), 0.45 * height)


def paint_segments(
    strokes: np.ndarray, segments: str, *, left: int, top: int, bottom: int, width: int, thick: int, level: float = 1.0
) -> None:
    """Seven-segment bars (a top, g middle, d bottom, f/b upper left/right, e/c lower
    left/right) painted into a stroke map at `level`, over what is there, as square boxes:
    a digit `width` wide from row `top` to row `bottom`, its bars `thick` pixels."""
    middle = (top + bottom) // 2 - thick // 2
    right = left + width
    boxes = {
        "a": (top, top + thick, left, right),
        "g": (middle, middle + thick, left, right),
        "d": (bottom - thick, bottom, left, right),
        "f": (top, middle + thick, left, left + thick),
        "b": (top, middle + thick, right - thick, right),
        "e": (middle, bottom, left, left + thick),
        "c": (middle, bottom, right - thick, right),
    }
    for name in segments:
        y0, y1, x0, x1 = boxes[name]
        strokes[y0:y1, x0:x1] = np.maximum(strokes[y0:y1, x0:x1], level)


ROOT = Path(__file__).resolve().parents[2]


def run_module(module: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`python -m module args...` run from the repository's root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
