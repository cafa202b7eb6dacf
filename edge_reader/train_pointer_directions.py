"""Train the pointer-direction scorer (`edge_reader/pointer_directions.py`) on drawn dials only.

    python -m edge_reader.train_pointer_directions               # writes edge_reader/pointer_directions.npz
    python -m edge_reader.train_pointer_directions --quick --out /tmp/directions.npz

The dials are drawn by `edge_reader/synthetic.py`: meter sub-dials as a camera cut down
to one sees them (`random_meter_dial`: fat red drops, tapered, arrow and bar pointers,
with a tail or none, and in three of every twenty-three a rotor, large digits and ticks
under the pointer, the centre a little off the crop's middle and the rim often cut,
glare, blur, uneven light, noise, JPEG) and
gauges of every style in a larger scene (`random_gauge`, thin and tapered needles, light
and dark faces, clutter, tilt), shrunk to the reader's working size and unwrapped around
a centre and radius a little off the true ones, as the reader's own guesses are. Each
unwrapped dial is also turned by a random number of rays and mirrored half the time, so
that no direction is favoured and printed digits, which stand in the same places on
every drawn dial, teach nothing. The target is the true direction, blurred over a few
degrees.

A fixed seed makes it repeatable; the full run draws 28,000 dials and trains for about
10 minutes on two cores, with numpy and OpenCV only.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

from edge_reader.gauge import WORK_SIDE
from edge_reader.pointer_directions import (
    RAY_STEP,
    RAYS,
    WEIGHTS,
    WINDOW_RAYS,
    likeliest_direction,
    load_weights,
    polar_cues,
    ray_scores,
    ray_windows,
    softmax,
)
from edge_reader.synthetic import METER_SHAPES, ROTOR_SHAPES, random_gauge, random_meter_dial
from edge_reader.training import adam_step

TARGET_SPREAD = 2.0  # degrees: the true direction's blur in the target
RIGHT_WITHIN = 7.2  # degrees: 2% of a full circle, what the benchmark counts as right
LEARNING_RATE = 2e-3  # Adam's step; cut to a third four epochs and two epochs before the end, to settle
BATCH = 64  # dials a step: each gives RAYS windows, so a step sees thousands
WEIGHT_DECAY = 1e-4  # keeps the first layer's weights small: the drawn dials are not the world
CONTRAST_JITTER = (0.7, 1.3)  # each cue scaled by a factor in this range: faces and pointers vary in contrast
SERIAL_DRAWING = 200  # fewer dials than this are drawn in this process: starting workers costs more
# Rotors (a windowed disc, a three-armed star, a point carrying a plate) are rarer on
# meters than pointers but must not be strangers to the scorer: three dials in twenty-three.
TRAINING_SHAPES = METER_SHAPES * 4 + ROTOR_SHAPES


def _meter_dial(seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    image, value = random_meter_dial(rng, shapes=TRAINING_SHAPES)
    height, width = image.shape[:2]
    # The reader takes a crop's own middle for the centre, and a little less than its half side.
    radius = 0.5 * min(height, width) * float(rng.uniform(0.85, 1.0))
    return polar_cues(image, ((width - 1) / 2, (height - 1) / 2), radius), value * 36.0


def _gauge(seed: int) -> tuple[np.ndarray, float]:
    rng = np.random.default_rng(seed)
    image, calibration, value, style = random_gauge(rng, known_geometry=True)
    share = (value - style.min_value) / (style.max_value - style.min_value)
    turn = share * style.sweep if style.direction == "cw" else -share * style.sweep
    angle = (calibration["min_angle"] + turn) % 360
    # The reader unwraps the frame shrunk to its working size, as here.
    scale = min(1.0, WORK_SIDE / max(image.shape[:2]))
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    radius = calibration["radius"] * scale * float(rng.uniform(0.9, 1.05))
    center = (
        calibration["center"][0] * scale + float(rng.normal(0, 0.02 * radius)),
        calibration["center"][1] * scale + float(rng.normal(0, 0.02 * radius)),
    )
    return polar_cues(image, center, radius), float(angle)


def drawn_dials(meters: int, gauges: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped drawn dials (count x RAYS x RADII x 2) and their pointers' true directions."""
    jobs = [(_meter_dial, seed * 1_000_003 + n) for n in range(meters)]
    jobs += [(_gauge, seed * 1_000_003 + meters + n) for n in range(gauges)]
    if len(jobs) < SERIAL_DRAWING:
        drawn = [_draw(draw, seed) for draw, seed in jobs]
    else:
        with Pool(os.cpu_count() or 1) as pool:
            drawn = pool.starmap(_draw, jobs, chunksize=50)
    return np.stack([cues for cues, _ in drawn]), np.array([angle for _, angle in drawn], np.float32)


def _draw(draw: Callable[[int], tuple[np.ndarray, float]], seed: int) -> tuple[np.ndarray, float]:
    return draw(seed)


def train(cues: np.ndarray, angles: np.ndarray, epochs: int, hidden: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = WINDOW_RAYS.shape[1] * cues.shape[2] * cues.shape[3]
    params = [
        rng.normal(0, 1 / np.sqrt(inputs), (inputs, hidden)).astype(np.float32),
        np.zeros(hidden, np.float32),
        rng.normal(0, 1 / np.sqrt(hidden), (hidden, 1)).astype(np.float32),
        np.zeros(1, np.float32),
    ]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    rays = np.arange(RAYS)
    step, rate, batch = 0, LEARNING_RATE, BATCH
    for epoch in range(epochs):
        if epoch > 0 and epoch in (epochs - 4, epochs - 2):
            rate /= 3
        order = rng.permutation(len(cues))
        for start in range(0, len(cues), batch):
            rows = order[start : start + batch]
            x, truth = _turned(rng, cues[rows], angles[rows])
            x *= rng.uniform(*CONTRAST_JITTER, (len(rows), 1, 1, x.shape[3])).astype(np.float32)
            w1, b1, w2, b2 = params
            windows = ray_windows(x).reshape(len(rows) * RAYS, inputs)
            pre = windows @ w1 + b1
            hidden_out = np.maximum(0.0, pre)
            p = softmax((hidden_out @ w2 + b2).reshape(len(rows), RAYS))
            apart = (rays[None, :] * RAY_STEP - truth[:, None] + 180) % 360 - 180
            target = np.exp(-0.5 * (apart / TARGET_SPREAD) ** 2)
            target /= target.sum(axis=1, keepdims=True)
            d_scores = ((p - target) / len(rows)).reshape(-1, 1).astype(np.float32)
            d_pre = (d_scores @ w2.T) * (pre > 0)
            grads = [
                windows.T @ d_pre + WEIGHT_DECAY * w1,
                d_pre.sum(axis=0),
                hidden_out.T @ d_scores,
                d_scores.sum(axis=0),
            ]
            step += 1
            adam_step(params, grads, moments, squares, step, rate)
    w1, b1, w2, b2 = params
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def _turned(rng: np.random.Generator, cues: np.ndarray, angles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dials mirrored half the time and turned by a random number of rays."""
    cues, angles = cues.copy(), angles.astype(np.float64)
    for row in range(len(cues)):
        if rng.random() < 0.5:
            cues[row] = cues[row][(-np.arange(RAYS)) % RAYS]
            angles[row] = -angles[row] % 360
        shift = int(rng.integers(RAYS))
        cues[row] = np.roll(cues[row], shift, axis=0)
        angles[row] = (angles[row] + shift * RAY_STEP) % 360
    return cues, angles


def share_right(weights: dict[str, np.ndarray], cues: np.ndarray, angles: np.ndarray) -> float:
    """The share of dials whose likeliest direction lies within RIGHT_WITHIN of the truth."""
    scores = ray_scores(ray_windows(cues), weights)
    found = np.array([likeliest_direction(softmax(row)) for row in scores])
    return float((np.abs((found - angles + 180) % 360 - 180) <= RIGHT_WITHIN).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--quick", action="store_true", help="a small, fast run (to check the script works)")
    args = parser.parse_args()
    if args.quick and args.out == WEIGHTS:
        parser.error("--quick writes weights only to an --out FILE, never over the committed ones")
    meters, gauges, epochs = (300, 60, 2) if args.quick else (20000, 8000, 14)
    cues, angles = drawn_dials(meters, gauges, seed=1)
    weights = train(cues, angles, epochs, hidden=48)
    test_cues, test_angles = drawn_dials(max(100, meters // 10), max(20, gauges // 10), seed=2)
    np.savez_compressed(args.out, **{name: value.astype(np.float16) for name, value in weights.items()})
    shipped = load_weights(args.out)  # scored as stored: half precision
    print(f"drawn test dials right: {share_right(shipped, test_cues, test_angles):.3f}; weights in {args.out}")


if __name__ == "__main__":
    main()
