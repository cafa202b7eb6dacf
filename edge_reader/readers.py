"""Pick the reader a calibration asks for: an analog dial or a seven-segment display."""

from __future__ import annotations

from typing import Any

from edge_reader.gauge import read_gauge
from edge_reader.images import ImageLike
from edge_reader.result import ReadError, Reading


def read_image(image: ImageLike, calibration: dict[str, Any]) -> Reading:
    """Read `image` with the reader named by `calibration["kind"]` ("dial" by default).

    Raises ReadError when the image cannot be read, and
    edge_reader.calibration.CalibrationError (a ValueError) when the calibration is unusable.
    """
    if not isinstance(calibration, dict):
        raise ReadError("calibration: must be a JSON object")
    kind = calibration.get("kind", "dial")
    if kind == "dial":
        return read_gauge(image, calibration)
    if kind == "seven_segment":
        # Loaded on demand: a dial-only device needs nothing of the display reader.
        from edge_reader.display import read_display

        return read_display(image, calibration)
    raise ReadError(f"kind: no reader for {kind!r}; use 'dial' or 'seven_segment'")
