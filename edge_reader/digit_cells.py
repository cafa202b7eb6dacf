"""A small classifier for one digit cell of a seven-segment display.

The display reader decides each digit from its seven segments' strengths; this second,
learned judge looks at the whole cell at once: a 24x16 copy of the cell's stroke map
(strokes near 1, background near 0) goes through a two-layer perceptron (numpy only)
that answers a digit, a blank position or "not a digit". It was trained only on cells
drawn by `edge_reader/train_digit_cells.py` (fixed seed): segment shapes and thickness,
worn and faint unlit segments, slant, blur, noise, loose and tight cell boxes, printed
letters and stray marks. The weights (`digit_cells.npz`, about 70 kB) ship beside it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

CELL_HEIGHT, CELL_WIDTH = 24, 16
CLASSES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", " ", "x")  # " " blank, "x" not a digit
WEIGHTS = Path(__file__).with_name("digit_cells.npz")


def cell_input(strokes: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The classifier's input for the cell `box` (left, right, top, bottom) of a stroke map."""
    left, right, top, bottom = box
    height, width = strokes.shape
    left, right = max(0, left), min(width, max(right, left + 1))
    top, bottom = max(0, top), min(height, max(bottom, top + 1))
    cell = np.ascontiguousarray(strokes[top:bottom, left:right], dtype=np.float32)
    return normalised_cell(cell)


def normalised_cell(cell: np.ndarray) -> np.ndarray:
    """A cell image (strokes bright, 0..1) resized to the classifier's 24x16, as a flat vector."""
    if cell.size == 0:
        return np.zeros(CELL_HEIGHT * CELL_WIDTH, np.float32)
    small = cv2.resize(cell.astype(np.float32), (CELL_WIDTH, CELL_HEIGHT), interpolation=cv2.INTER_AREA)
    return np.clip(small, 0.0, 1.0).reshape(-1)


@lru_cache(maxsize=4)
def load_weights(path: Path = WEIGHTS) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return {name: stored[name].astype(np.float32) for name in stored.files}


def probabilities(inputs: np.ndarray, weights: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Class probabilities (rows: cells, columns: CLASSES) for flat cell vectors."""
    weights = weights if weights is not None else load_weights()
    hidden = np.maximum(0.0, (inputs - weights["mean"]) @ weights["w1"] + weights["b1"])
    logits = hidden @ weights["w2"] + weights["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def classify(inputs: np.ndarray) -> list[tuple[str, float]]:
    """The most likely class of each cell, with its probability."""
    if len(inputs) == 0:
        return []
    probs = probabilities(np.asarray(inputs, np.float32).reshape(len(inputs), -1))
    best = probs.argmax(axis=1)
    return [(CLASSES[index], float(probs[row, index])) for row, index in enumerate(best)]
