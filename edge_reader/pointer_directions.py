"""A learned second opinion on where a dial's pointer points.

The dial is unwrapped around its centre into rays (RAYS of them, 3 degrees apart, each
sampled at RADII radii out to the rim) of two cues: grey level and redness, each scaled
by how much it varies over the dial. A small perceptron (numpy only) scores each ray as
the pointer's axis from the rays within WINDOW of it: the same weights at every ray, so
the scores turn with the dial and a pointer reads the same wherever it points. A softmax
over the rays gives a probability for each direction.

It was trained only on dials drawn by `edge_reader/train_pointer_directions.py` (fixed
seed): meter sub-dials with fat drops, tapered, arrow and bar pointers and a few rotors
(a windowed disc, a three-armed star, a point carrying a plate), large printed
digits, a centre a little off and the rim often cut, and gauges of every style, under
glare, blur, uneven light, noise and JPEG. The weights (`pointer_directions.npz`,
about 120 kB) ship beside it.

It shares no step with the line and mass stages (no threshold, no blob, no Hough
transform), so where it puts most of its probability on the direction they found, it is
independent evidence that they found the pointer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

RAYS = 120  # directions, 3 degrees apart, clockwise from 12 o'clock
RAY_STEP = 360.0 / RAYS
RADII = 16  # samples along each ray
INNER, OUTER = 0.06, 1.0  # dial radii the rays run between
WINDOW = 20  # rays each side (60 degrees) a ray's score looks at
MIN_SPREAD = 12.0  # grey levels: a cue varying less over the dial than this is taken as flat
WEIGHTS = Path(__file__).with_name("pointer_directions.npz")
WINDOW_RAYS = (np.arange(RAYS)[:, None] + np.arange(-WINDOW, WINDOW + 1)[None, :]) % RAYS


def polar_cues(image: np.ndarray, center: tuple[float, float], radius: float) -> np.ndarray:
    """RAYS x RADII x 2: grey level and redness along each ray, each scaled to the dial's spread."""
    height, width = image.shape[:2]
    # About one sample's spacing: a ray sees its neighbourhood, not one pixel. (A radius past
    # the frame's size samples its replicated border: the blur need not grow with it.)
    sigma = min(radius, 2 * max(height, width)) / 48
    # Only the dial and a blur's reach around it are looked at: the rest of a large frame
    # would cost time and change nothing.
    reach = radius + 3 * sigma + 2
    left = min(width - 1, max(0, int(center[0] - reach)))
    top = min(height - 1, max(0, int(center[1] - reach)))
    right, bottom = max(left + 1, int(center[0] + reach) + 1), max(top + 1, int(center[1] + reach) + 1)
    picture = image[top:bottom, left:right].astype(np.float32)
    center = (center[0] - left, center[1] - top)
    if sigma > 0.5:
        picture = cv2.GaussianBlur(picture, (0, 0), sigma)
    if picture.ndim == 2:
        grey, redness = picture, np.zeros_like(picture)
    else:
        blue, green, red = cv2.split(picture)
        grey, redness = (blue + green + red) / 3, red - np.maximum(green, blue)
    angles = np.radians(np.arange(RAYS) * RAY_STEP)
    radii = np.linspace(INNER, OUTER, RADII) * radius
    map_x = (center[0] + np.sin(angles)[:, None] * radii[None, :]).astype(np.float32)
    map_y = (center[1] - np.cos(angles)[:, None] * radii[None, :]).astype(np.float32)
    cues = []
    for cue in (grey, redness):
        rays = cv2.remap(cue, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        middle = float(np.median(rays))
        spread = max(MIN_SPREAD, float(np.percentile(np.abs(rays - middle), 95)))
        cues.append(np.clip((rays - middle) / spread, -3.0, 3.0))
    return np.stack(cues, axis=-1).astype(np.float32)


def ray_windows(cues: np.ndarray) -> np.ndarray:
    """One row per ray: the cues of the rays within WINDOW of it, flattened ((2 WINDOW + 1) x RADII x 2).

    `cues` is one dial's (RAYS x RADII x 2) or a stack of them, which gives a stack of windows.
    """
    return cues[..., WINDOW_RAYS, :, :].reshape(*cues.shape[:-3], RAYS, -1)


@lru_cache(maxsize=4)
def load_weights(path: Path = WEIGHTS) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return {name: stored[name].astype(np.float32) for name in stored.files}


def ray_scores(windows: np.ndarray, weights: dict[str, np.ndarray]) -> np.ndarray:
    """Each window's score for its ray being the pointer's axis (the windows' last axis is dropped)."""
    hidden = np.maximum(0.0, windows @ weights["w1"] + weights["b1"])
    return (hidden @ weights["w2"] + weights["b2"])[..., 0]


def softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def direction_probabilities(
    image: np.ndarray, center: tuple[float, float], radius: float, weights: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """The probability, for each of the RAYS directions, that the pointer points there."""
    windows = ray_windows(polar_cues(image, center, radius))
    return softmax(ray_scores(windows, weights if weights is not None else load_weights()))


def support(probabilities: np.ndarray, angle: float, within: float) -> float:
    """The probability that the pointer points within `within` degrees of `angle`.

    Each ray stands for the RAY_STEP of directions around it, and counts for the share of
    them inside the span, so the answer does not jump as `angle` moves between rays.
    """
    apart = np.abs((np.arange(RAYS) * RAY_STEP - angle + 180.0) % 360.0 - 180.0)
    inside = np.clip(within - apart + RAY_STEP / 2, 0.0, RAY_STEP) / RAY_STEP
    return float((probabilities * inside).sum())


def likeliest_direction(probabilities: np.ndarray) -> float:
    """The direction (degrees clockwise from 12) with the most probability."""
    return float(np.argmax(probabilities) * RAY_STEP)
