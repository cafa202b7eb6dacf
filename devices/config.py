"""Reading a device's `config` JSON: one typed accessor instead of ad hoc checks.

`config` is validated per known device type when it is written (device_types.py), but
devices of other types, and rows written before a rule existed, may hold anything; every
reader goes through here and gets a value of the right type or None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

UNIT_MAX_LENGTH = 32


def is_finite_number(value: Any) -> bool:
    """A JSON number that is a real value: not a boolean, not NaN or infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class DeviceConfig:
    raw: dict[str, Any]

    @classmethod
    def of(cls, config: Any) -> DeviceConfig:
        return cls(config if isinstance(config, dict) else {})

    def number(self, name: str) -> float | None:
        value: Any = self.raw.get(name)
        return float(value) if is_finite_number(value) else None

    @property
    def unit(self) -> str | None:
        unit = self.raw.get("unit")
        return unit[:UNIT_MAX_LENGTH] if isinstance(unit, str) else None

    @property
    def scale(self) -> tuple[float, float] | None:
        """(min, max) when the device declares a scale with min below max."""
        low, high = self.number("min"), self.number("max")
        return (low, high) if low is not None and high is not None and low < high else None

    @property
    def calibration(self) -> dict[str, Any] | None:
        calibration = self.raw.get("calibration")
        return calibration if isinstance(calibration, dict) else None

    def calibration_int(self, name: str, *, low: int, high: int) -> int | None:
        value = (self.calibration or {}).get(name)
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        return None

    def unit_of(self, sensor: str, *, default_sensor: str) -> str:
        """A sensor's unit: from `units` by key, else the device's `unit` for its default sensor."""
        units = self.raw.get("units")
        if isinstance(units, dict) and isinstance(units.get(sensor), str):
            return units[sensor][:UNIT_MAX_LENGTH]
        if sensor == default_sensor:
            return self.unit or ""
        return ""
