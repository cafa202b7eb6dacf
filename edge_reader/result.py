"""What every reader returns, and the error it raises when it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ReadError(Exception):
    """The image holds no readable dial, needle or display; the message says which."""


@dataclass(frozen=True)
class Reading:
    value: float
    confidence: float  # 0..1
    details: dict[str, Any] = field(default_factory=dict)  # reader-specific: angle, text…
    # Where the reader found things, in pixels of the image read (dial circle, scale ends,
    # pointer; or the display's panel): what an overlay draws. Not part of the JSON.
    geometry: dict[str, Any] = field(default_factory=dict, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"value": self.value, **self.details, "confidence": self.confidence}
