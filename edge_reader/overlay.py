"""Draw what the reader saw over the image it read, so a user can see why a reading is
what it is and fix the set-up: the dial circle, the scale's ends and the pointer; or
the display's panel, each digit's cell and the segments seen lit in it, and the text read."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from edge_reader.result import Reading

FOUND = (0, 200, 0)  # BGR: what the reader found
SCALE_END = (255, 128, 0)
POINTER = (0, 0, 255)
# Each segment's ends in a digit cell, as fractions of its width and height.
SEGMENT_ENDS = {
    "a": ((0.2, 0.05), (0.8, 0.05)),
    "b": ((0.9, 0.12), (0.9, 0.44)),
    "c": ((0.9, 0.56), (0.9, 0.88)),
    "d": ((0.2, 0.95), (0.8, 0.95)),
    "e": ((0.1, 0.56), (0.1, 0.88)),
    "f": ((0.1, 0.12), (0.1, 0.44)),
    "g": ((0.2, 0.5), (0.8, 0.5)),
}


def draw_overlay(image: np.ndarray, reading: Reading | None, error: str | None = None) -> np.ndarray:
    """A copy of `image` (BGR or grey) with the reader's findings drawn on it; with
    `error` (a refusal's reason) written at the top instead when nothing was read."""
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    thickness = max(1, round(max(canvas.shape[:2]) / 400))
    geometry: dict[str, Any] = reading.geometry if reading is not None else {}
    if "center" in geometry:
        _draw_dial(canvas, geometry, thickness)
    if "panel" in geometry and geometry["panel"]:
        corners = np.array(geometry["panel"], np.float32).round().astype(np.int32)
        cv2.polylines(canvas, [corners], True, FOUND, thickness, cv2.LINE_AA)
    for digit in geometry.get("digits", ()):
        _draw_digit(canvas, digit, thickness)
    if reading is not None:
        label = f"{reading.details.get('text', f'{reading.value:.4g}')}  confidence {reading.confidence:.2f}"
    else:
        label = error or "no reading"
    _label(canvas, label, thickness)
    return canvas


def _at(center: tuple[float, float], radius: float, angle: float) -> tuple[int, int]:
    theta = math.radians(angle)
    return round(center[0] + radius * math.sin(theta)), round(center[1] - radius * math.cos(theta))


def _draw_dial(canvas: np.ndarray, geometry: dict[str, Any], thickness: int) -> None:
    center, radius = geometry["center"], geometry["radius"]
    middle = (round(center[0]), round(center[1]))
    cv2.circle(canvas, middle, round(radius), FOUND, thickness, cv2.LINE_AA)
    cv2.circle(canvas, middle, max(2, thickness * 2), FOUND, -1, cv2.LINE_AA)
    for key in ("min_angle", "max_angle"):
        if key in geometry:
            angle = geometry[key]
            cv2.line(
                canvas, _at(center, 0.8 * radius, angle), _at(center, 1.05 * radius, angle), SCALE_END, thickness + 1
            )
    cv2.line(canvas, middle, _at(center, 0.95 * radius, geometry["angle"]), POINTER, thickness + 1, cv2.LINE_AA)


def _draw_digit(canvas: np.ndarray, digit: dict[str, Any], thickness: int) -> None:
    """The digit's cell (thin) and the segments the reader saw lit in it (red)."""
    corners = np.array(digit["corners"], np.float64)
    cv2.polylines(canvas, [corners.round().astype(np.int32)], True, FOUND, max(1, thickness // 2), cv2.LINE_AA)

    def at(u: float, v: float) -> tuple[int, int]:
        top_left, top_right, bottom_right, bottom_left = corners
        point = (1 - v) * ((1 - u) * top_left + u * top_right) + v * ((1 - u) * bottom_left + u * bottom_right)
        return round(point[0]), round(point[1])

    for name in digit["segments"]:
        start, end = SEGMENT_ENDS[name]
        cv2.line(canvas, at(*start), at(*end), POINTER, thickness + 1, cv2.LINE_AA)


def _label(canvas: np.ndarray, text: str, thickness: int) -> None:
    scale = max(0.3, canvas.shape[1] / 900)
    (width, height), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    cv2.rectangle(canvas, (0, 0), (width + 8, height + base + 8), (0, 0, 0), -1)
    cv2.putText(canvas, text, (4, height + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
