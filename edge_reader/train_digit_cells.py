"""Train the digit-cell classifier (`edge_reader/digit_cells.py`) on drawn cells only.

    python -m edge_reader.train_digit_cells                   # writes edge_reader/digit_cells.npz
    python -m edge_reader.train_digit_cells --quick --out /tmp/cells.npz

Each training cell is drawn as the display reader sees one: a stroke map (strokes near 1
on a dark background) cut to the digit's box. Drawn at random: segment thickness, bevelled
or square ends, the gaps between segments, a width from narrow to square, a slant the
reader did not quite undo, lit segments worn down to half strength, faint unlit segments
(one top, middle or bottom bar among them at times plainer than the rest),
blur, noise, an uneven background (shade, glare), specks, a cell box cut loose or tight
or shifted, and a neighbour's edge or the decimal point after the digit in it. Besides
digits (the 6, 7 and 9 with and without their extra bar; the 1 twice as often, a lone bar
being easily taken for a piece of another digit), a blank cell, and "not a digit":
letters and other segment patterns no digit lights, solid blocks (the gaps between
strokes read inverted) and half digits. A fixed seed makes it repeatable;
training takes about a minute of one core and needs numpy only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edge_reader.digit_cells import CELL_HEIGHT, CELL_WIDTH, CLASSES, WEIGHTS, normalised_cell, probabilities
from edge_reader.training import adam_step

SEGMENTS_OF_DIGIT = {
    "0": ["abcdef"],
    "1": ["bc"],
    "2": ["abdeg"],
    "3": ["abcdg"],
    "4": ["bcfg"],
    "5": ["acdfg"],
    "6": ["acdefg", "cdefg"],
    "7": ["abc", "abcf"],
    "8": ["abcdefg"],
    "9": ["abcdfg", "abcfg"],
}
DIGIT_PATTERNS = {frozenset(p) for patterns in SEGMENTS_OF_DIGIT.values() for p in patterns}
HEIGHT = 96  # drawing scale: a digit's height in pixels


def segment_lines(width: float, thickness: float, gap: float) -> dict[str, tuple[tuple[float, float], ...]]:
    """Each segment's centre line, in a digit box `width` x HEIGHT."""
    half = thickness / 2
    left, right, top, middle, bottom = half, width - half, half, HEIGHT / 2, HEIGHT - half
    return {
        "a": ((left + gap, top), (right - gap, top)),
        "g": ((left + gap, middle), (right - gap, middle)),
        "d": ((left + gap, bottom), (right - gap, bottom)),
        "f": ((left, top + gap), (left, middle - gap)),
        "b": ((right, top + gap), (right, middle - gap)),
        "e": ((left, middle + gap), (left, bottom - gap)),
        "c": ((right, middle + gap), (right, bottom - gap)),
    }


def draw_segment(
    canvas: np.ndarray,
    line: tuple[tuple[float, float], ...],
    thickness: float,
    level: float,
    bevel: bool,
    offset: tuple[float, float],
) -> None:
    (x0, y0), (x1, y1) = line
    x0, x1, y0, y1 = x0 + offset[0], x1 + offset[0], y0 + offset[1], y1 + offset[1]
    half = thickness / 2
    if y0 == y1:  # horizontal
        tip = half if bevel else 0.0
        points = [(x0, y0), (x0 + tip, y0 - half), (x1 - tip, y0 - half), (x1, y0), (x1 - tip, y0 + half)]
        points += [(x0 + tip, y0 + half)]
        if not bevel:
            points = [(x0, y0 - half), (x1, y0 - half), (x1, y0 + half), (x0, y0 + half)]
    else:
        tip = half if bevel else 0.0
        points = [(x0, y0), (x0 + half, y0 + tip), (x0 + half, y1 - tip), (x1, y1), (x0 - half, y1 - tip)]
        points += [(x0 - half, y0 + tip)]
        if not bevel:
            points = [(x0 - half, y0), (x0 + half, y0), (x0 + half, y1), (x0 - half, y1)]
    polygon = np.round(np.array(points) * 4).astype(np.int32)  # sub-pixel corners
    cv2.fillPoly(canvas, [polygon], float(level), lineType=cv2.LINE_AA, shift=2)


def draw_cell(rng: np.random.Generator, label: str, half: bool = False) -> np.ndarray:
    """One drawn cell of `label` (a digit, " " or "x"), as the classifier's input.

    `half`: the box takes in half the digit and the space beside it, as a cell cut wrongly.
    """
    width = HEIGHT * rng.uniform(0.42, 0.72)
    thickness = HEIGHT * rng.uniform(0.07, 0.17)
    gap = HEIGHT * rng.uniform(0.0, 0.035)
    bevel = bool(rng.random() < 0.6)
    margin = int(HEIGHT * 0.4)
    canvas = np.zeros((HEIGHT + 2 * margin, int(width) + 2 * margin), np.float32)
    offset = (margin, margin)
    lines = segment_lines(width, thickness, gap)
    block = False
    if label.isdigit():
        lit = set(SEGMENTS_OF_DIGIT[label][rng.integers(len(SEGMENTS_OF_DIGIT[label]))])
    elif label == " ":
        lit = set()
    else:
        kind = rng.random()
        if kind < 0.7:  # a pattern no digit lights: letters, a digit missing or gaining a bar
            while True:
                lit = {name for name in "abcdefg" if rng.random() < 0.5}
                if lit and frozenset(lit) not in DIGIT_PATTERNS and lit != {"g"}:
                    break
        else:
            lit, block = set(), True
    ghost = rng.uniform(0.0, 0.45) if rng.random() < 0.6 else 0.0
    # Unlit segments show unevenly: light on the top of the glass, or a sliver of the
    # panel's edge or of glare taken in by the box, leaves one bar out of several paler
    # than any lit one, yet plainer than the rest.
    plain = str(rng.choice(list("adg"))) if rng.random() < 0.35 else ""
    for name, line in lines.items():
        if name in lit:
            level = rng.uniform(0.55, 1.0)
        elif name == plain:
            level = rng.uniform(0.15, 0.45)
        else:
            level = ghost * rng.uniform(0.5, 1.0)
        if level > 0:
            draw_segment(canvas, line, thickness, level, bevel, offset)
    if block:  # a solid shape: the gaps between strokes read inverted, or a blot of glare
        x0, y0 = margin + rng.uniform(0, 0.3) * width, margin + rng.uniform(0, 0.3) * HEIGHT
        x1, y1 = margin + rng.uniform(0.7, 1.0) * width, margin + rng.uniform(0.6, 1.0) * HEIGHT
        cv2.rectangle(canvas, (int(x0), int(y0)), (int(x1), int(y1)), float(rng.uniform(0.6, 1.0)), -1)
    # A neighbour's edge, or a decimal point, just beyond the box, on either side.
    if rng.random() < 0.35:
        side = margin + width + rng.uniform(0.05, 0.2) * width
        if rng.random() < 0.4:
            side = margin - rng.uniform(0.05, 0.2) * width - thickness
        top = margin + rng.uniform(0, 0.7) * HEIGHT
        cv2.rectangle(canvas, (int(side), int(top)), (int(side + thickness), int(top + 0.3 * HEIGHT)), 1.0, -1)
    if rng.random() < 0.2:  # the point after the digit, at its foot
        x, size = margin + width + rng.uniform(0.05, 0.25) * width, thickness * rng.uniform(0.8, 1.3)
        y = margin + HEIGHT - size
        cv2.rectangle(canvas, (int(x), int(y)), (int(x + size), int(y + size)), float(rng.uniform(0.6, 1.0)), -1)
    shear = rng.uniform(-0.1, 0.1)
    matrix = np.array([[1.0, shear, -shear * (margin + HEIGHT)], [0.0, 1.0, 0.0]], np.float32)
    canvas = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]))
    sigma = rng.uniform(0.0, 3.0)
    if sigma > 0.5:
        canvas = cv2.GaussianBlur(canvas, (0, 0), sigma)
    canvas += rng.normal(0, rng.uniform(0.0, 0.08), canvas.shape).astype(np.float32)
    if rng.random() < 0.5:  # an uneven background: shade, glare, a panel's texture the strokes map keeps
        coarse = rng.uniform(0.0, 1.0, (3, 2)).astype(np.float32)
        field = cv2.resize(coarse, (canvas.shape[1], canvas.shape[0]), interpolation=cv2.INTER_CUBIC)
        canvas += rng.uniform(0.0, 0.3) * np.clip(field, 0.0, 1.0)
    if rng.random() < 0.3:  # specks
        for _ in range(rng.integers(1, 6)):
            x, y = rng.integers(0, canvas.shape[1]), rng.integers(0, canvas.shape[0])
            cv2.circle(canvas, (int(x), int(y)), int(rng.integers(1, 4)), float(rng.uniform(0.3, 1.0)), -1)
    # The reader's box: tight round the digit, give or take.
    jitter = rng.normal(0, 0.05, 4)
    if half:
        shift = rng.choice([-0.5, 0.5])
        jitter[0] += shift
        jitter[1] += shift
    left = margin + width * jitter[0]
    right = margin + width * (1 + jitter[1])
    top = margin + HEIGHT * jitter[2]
    bottom = margin + HEIGHT * (1 + jitter[3])
    cell = canvas[int(max(0, top)) : int(bottom), int(max(0, left)) : int(right)]
    return normalised_cell(np.clip(cell, 0.0, 1.0))


def train(count: int, epochs: int, hidden: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs, classes = labelled_cells(rng, count)
    mean = inputs.mean(axis=0)
    x = inputs - mean
    w1 = rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = rng.normal(0, np.sqrt(2 / hidden), (hidden, len(CLASSES))).astype(np.float32)
    b2 = np.zeros(len(CLASSES), np.float32)
    params = [w1, b1, w2, b2]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    onehot = np.eye(len(CLASSES), dtype=np.float32)[classes]
    step, rate, batch = 0, 2e-3, 128
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            rows = order[start : start + batch]
            xb, yb = x[rows], onehot[rows]
            h = np.maximum(0.0, xb @ w1 + b1)
            logits = h @ w2 + b2
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            d_logits = (p - yb) / len(rows)
            d_h = (d_logits @ w2.T) * (h > 0)
            grads = [xb.T @ d_h + 1e-4 * w1, d_h.sum(axis=0), h.T @ d_logits + 1e-4 * w2, d_logits.sum(axis=0)]
            step += 1
            adam_step(params, grads, moments, squares, step, rate)
        rate *= 0.8
    return {"mean": mean, "w1": w1, "b1": b1, "w2": w2, "b2": b2}


def labelled_cells(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` drawn cells and their class indices."""
    weights = np.array([1.0, 2.0] + [1.0] * 8 + [0.5, 2.5])  # 0, 1 (twice), 2-9, blank, not a digit
    inputs = np.empty((count, CELL_HEIGHT * CELL_WIDTH), np.float32)
    classes = np.empty(count, np.int64)
    for row in range(count):
        label = CLASSES[rng.choice(len(CLASSES), p=weights / weights.sum())]
        inputs[row], drawn = draw_labelled_cell(rng, label)
        classes[row] = CLASSES.index(drawn)
    return inputs, classes


def draw_labelled_cell(rng: np.random.Generator, label: str) -> tuple[np.ndarray, str]:
    """A drawn cell and the class it shows (a digit cut in half is not a digit)."""
    half = label.isdigit() and label != "1" and rng.random() < 0.1
    return draw_cell(rng, label, half=half), ("x" if half else label)


def accuracy(weights: dict[str, np.ndarray], inputs: np.ndarray, classes: np.ndarray) -> float:
    return float((probabilities(inputs, weights).argmax(axis=1) == classes).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--quick", action="store_true", help="a small, fast run (to check the script works)")
    args = parser.parse_args()
    count, epochs = (600, 2) if args.quick else (40000, 12)
    weights = train(count, epochs, hidden=64)
    test_inputs, test_classes = labelled_cells(np.random.default_rng(99), 400 if args.quick else 4000)
    np.savez_compressed(args.out, **{name: value.astype(np.float32) for name, value in weights.items()})
    print(f"drawn test cells right: {accuracy(weights, test_inputs, test_classes):.3f}; weights in {args.out}")


if __name__ == "__main__":
    main()
