"""Signals for simulated devices: a cosine and friends, scaled to a device's range."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime

from devices.config import DeviceConfig

PERIOD_S = 600.0  # one full wave every ten minutes: visible both live and over a day

SignalFunction = Callable[[float, random.Random], float]


def _cosine(t: float, rng: random.Random) -> float:
    return math.cos(2 * math.pi * t / PERIOD_S)


def _sine(t: float, rng: random.Random) -> float:
    return math.sin(2 * math.pi * t / (PERIOD_S * 3.7))


def _sawtooth(t: float, rng: random.Random) -> float:
    return 2 * ((t / PERIOD_S) % 1.0) - 1


def _square(t: float, rng: random.Random) -> float:
    return 1.0 if (t // (PERIOD_S / 2)) % 2 == 0 else -1.0


def _noisy_cosine(t: float, rng: random.Random) -> float:
    return 0.8 * math.cos(2 * math.pi * t / (PERIOD_S * 6)) + rng.gauss(0, 0.08)


SIGNALS: dict[str, SignalFunction] = {
    "cosine": _cosine,
    "sine": _sine,
    "sawtooth": _sawtooth,
    "square": _square,
    "noisy_cosine": _noisy_cosine,
}


def signal_range(config: dict) -> tuple[float, float]:
    """The device's min/max when it declares them (analog gauges do), else -1..1."""
    return DeviceConfig.of(config).scale or (-1.0, 1.0)


def signal_values(*, names: list[str], at: datetime, config: dict, rng: random.Random) -> dict[str, float]:
    """One value per signal at a time, mapped from -1..1 onto the device's range (with a
    little headroom so the needle swings near, not past, the ends of the dial)."""
    low, high = signal_range(config)
    middle, half = (low + high) / 2, (high - low) / 2 * 0.9
    t = at.timestamp()
    return {name: round(middle + half * SIGNALS[name](t, rng), 4) for name in names}
