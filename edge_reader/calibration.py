"""Gauge calibration: validate it, map needle angles to values, and make one from an image.

A calibration is the JSON a device keeps (docs/edge-reader.md):
`{"kind": "dial", "min_angle": 225, "max_angle": 495, "min_value": 0, "max_value": 10,
"unit": "bar", "center": [x, y] or null, "radius": r or null, "direction": "cw"}`.
Angles are degrees clockwise from 12 o'clock. `min_angle` is where the needle points at
`min_value`, `max_angle` where it points at `max_value`, and `direction` is the way the
needle turns going from one to the other, so the sweep is `max_angle - min_angle` for
"cw" and `min_angle - max_angle` for "ccw", taken modulo 360 (a difference of exactly
±360 is a full-circle dial).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DIRECTIONS = ("cw", "ccw")


class CalibrationError(ValueError):
    """The calibration is unusable; the message names the field and the reason."""


@dataclass(frozen=True)
class DialCalibration:
    min_angle: float
    sweep: float  # degrees the needle travels from min_value to max_value, 0 < sweep <= 360
    direction: str
    min_value: float
    max_value: float
    unit: str = ""
    center: tuple[float, float] | None = None  # pixels of the full-size image
    radius: float | None = None
    angles_given: bool = True  # False: range only, the reader finds the scale's ends in the image

    @property
    def max_angle(self) -> float:
        return self.min_angle + self.sweep if self.direction == "cw" else self.min_angle - self.sweep

    @property
    def full_circle(self) -> bool:
        return self.sweep >= 360

    def value_at(self, angle: float) -> float:
        """The value the needle shows at `angle`; past either end it reads that end."""
        offset = self._offset(angle)
        if offset > self.sweep:  # in the dead zone between max and min: the stop pin
            past_max, before_min = offset - self.sweep, 360 - offset
            offset = self.sweep if past_max < before_min else 0.0
        return self.min_value + offset / self.sweep * (self.max_value - self.min_value)

    def outside_scale(self, angle: float) -> float:
        """Degrees from `angle` to the nearer end of the scale, when it lies in the gap between them; else 0."""
        offset = self._offset(angle)
        if offset <= self.sweep:
            return 0.0
        return min(offset - self.sweep, 360 - offset)

    def angle_of(self, value: float) -> float:
        fraction = (value - self.min_value) / (self.max_value - self.min_value)
        sign = 1.0 if self.direction == "cw" else -1.0
        return (self.min_angle + sign * fraction * self.sweep) % 360

    def _offset(self, angle: float) -> float:
        turned = angle - self.min_angle if self.direction == "cw" else self.min_angle - angle
        return turned % 360

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": "dial",
            "min_angle": round(self.min_angle, 3),
            "max_angle": round(self.max_angle, 3),
            "min_value": self.min_value,
            "max_value": self.max_value,
            "unit": self.unit,
            "center": [round(self.center[0], 2), round(self.center[1], 2)] if self.center else None,
            "radius": round(self.radius, 2) if self.radius else None,
            "direction": self.direction,
        }


def _number(calibration: dict[str, Any], key: str, *, required: bool = True) -> float | None:
    if key not in calibration or calibration[key] is None:
        if required:
            raise CalibrationError(f"{key}: required")
        return None
    value = calibration[key]
    if not is_finite_number(value):
        raise CalibrationError(f"{key}: must be a finite number, got {value!r}")
    return float(value)


def _center(calibration: dict[str, Any]) -> tuple[float, float] | None:
    center = calibration.get("center")
    if center is None:
        return None
    if not isinstance(center, (list, tuple)) or len(center) != 2 or not all(is_finite_number(v) for v in center):
        raise CalibrationError(f"center: must be [x, y] in pixels or null, got {center!r}")
    if center[0] < 0 or center[1] < 0:
        raise CalibrationError("center: must lie inside the image (x, y >= 0)")
    return float(center[0]), float(center[1])


def is_finite_number(value: Any) -> bool:
    """A JSON number that is a real value: not a boolean, not NaN or infinite."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _sweep(min_angle: float, max_angle: float, direction: str) -> float:
    turned = max_angle - min_angle if direction == "cw" else min_angle - max_angle
    if turned == 0:
        raise CalibrationError("max_angle: must differ from min_angle")
    sweep = turned % 360
    return 360.0 if math.isclose(sweep, 0.0, abs_tol=1e-9) else sweep


def validate_calibration(calibration: Any) -> DialCalibration:
    """A checked dial calibration, or CalibrationError naming the field at fault."""
    if not isinstance(calibration, dict):
        raise CalibrationError("calibration: must be a JSON object")
    kind = calibration.get("kind", "dial")
    if kind != "dial":
        raise CalibrationError(f"kind: a dial calibration has kind 'dial', got {kind!r}")
    direction = calibration.get("direction") or "cw"
    if direction not in DIRECTIONS:
        raise CalibrationError(f"direction: must be 'cw' or 'ccw', got {direction!r}")
    min_angle = _number(calibration, "min_angle", required=False)
    max_angle = _number(calibration, "max_angle", required=False)
    angles_given = min_angle is not None or max_angle is not None
    if angles_given and (min_angle is None or max_angle is None):
        missing = "min_angle" if min_angle is None else "max_angle"
        raise CalibrationError(f"{missing}: give both angles, or neither for a range-only set-up")
    if min_angle is None or max_angle is None:  # range only: placeholders until the scale is found
        min_angle, max_angle = 0.0, 360.0
    min_value, max_value = _number(calibration, "min_value"), _number(calibration, "max_value")
    if min_value == max_value:
        raise CalibrationError("max_value: must differ from min_value")
    radius = _number(calibration, "radius", required=False)
    if radius is not None and radius <= 0:
        raise CalibrationError("radius: must be positive or null")
    unit = calibration.get("unit") or ""
    if not isinstance(unit, str):
        raise CalibrationError("unit: must be a string")
    return DialCalibration(
        min_angle=min_angle,
        sweep=_sweep(min_angle, max_angle, direction),
        direction=direction,
        min_value=min_value,
        max_value=max_value,
        unit=unit,
        center=_center(calibration),
        radius=radius,
        angles_given=angles_given,
    )


def angle_of_point(center: tuple[float, float], point: tuple[float, float]) -> float:
    """Degrees clockwise from 12 o'clock of `point` seen from `center` (image y grows down)."""
    dx, dy = point[0] - center[0], point[1] - center[1]
    return math.degrees(math.atan2(dx, -dy)) % 360


def calibration_from_angles(
    min_angle: float,
    max_angle: float,
    *,
    min_value: float,
    max_value: float,
    unit: str,
    direction: str,
    center: tuple[float, float] | None,
    radius: float | None,
) -> dict[str, Any]:
    """Spell the angles so that max_angle lies `sweep` away from min_angle in `direction`."""
    turned = (max_angle - min_angle) % 360 if direction == "cw" else (min_angle - max_angle) % 360
    sweep = turned or 360.0
    max_angle = min_angle + sweep if direction == "cw" else min_angle - sweep
    calibration = {
        "kind": "dial",
        "min_angle": min_angle,
        "max_angle": max_angle,
        "min_value": min_value,
        "max_value": max_value,
        "unit": unit,
        "center": list(center) if center else None,
        "radius": radius,
        "direction": direction,
    }
    return validate_calibration(calibration).as_json()


def calibrate_from_ticks(
    center: tuple[float, float],
    min_tick: tuple[float, float],
    max_tick: tuple[float, float],
    *,
    min_value: float,
    max_value: float,
    unit: str = "",
    direction: str = "cw",
    radius: float | None = None,
) -> dict[str, Any]:
    """The calibration from the dial centre and the min and max tick marks a user clicked."""
    return calibration_from_angles(
        angle_of_point(center, min_tick),
        angle_of_point(center, max_tick),
        min_value=min_value,
        max_value=max_value,
        unit=unit,
        direction=direction,
        center=center,
        radius=radius,
    )


def load_calibration(path: str | Path) -> dict[str, Any]:
    try:
        calibration = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"calibration: cannot read {path}: {exc}") from exc
    if not isinstance(calibration, dict):
        raise CalibrationError("calibration: must be a JSON object")
    return calibration


def save_calibration(calibration: dict[str, Any], path: str | Path) -> None:
    if calibration.get("kind", "dial") == "dial":
        validate_calibration(calibration)
    Path(path).write_text(json.dumps(calibration, indent=2, default=_plain) + "\n")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {value!r}")
