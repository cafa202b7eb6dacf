"""Shared by the edge reader's tests."""

from __future__ import annotations

import numpy as np

from edge_reader.pointer import PointerEstimate, find_pointer


def pointer_of_meter_dial(image: np.ndarray) -> PointerEstimate | None:
    """The pointer of a photo cut down to a meter's sub-dial, seen from the crop's middle
    (the dial's centre is near it, a few pixels off), as `random_meter_dial` draws them."""
    height, width = image.shape[:2]
    return find_pointer(image, ((width - 1) / 2, (height - 1) / 2), 0.45 * height)
