"""Frames as every reader takes them: an array or an image file, made uint8 BGR or grey."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_reader.result import ReadError

ImageLike = np.ndarray | str | Path


def load_image(image: ImageLike, *, min_side: int = 16) -> np.ndarray:
    """A contiguous uint8 BGR or grey array from an array (BGR, BGRA, grey, 0..1 floats)
    or an image file; ReadError for anything smaller than `min_side` pixels a side."""
    if isinstance(image, (str, Path)):
        if not Path(image).is_file():
            raise ReadError(f"no image file at {image}")
        loaded = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if loaded is None:
            raise ReadError(f"cannot read an image from {image}")
        image = loaded
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    elif array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3) or min(array.shape[:2]) < min_side:
        raise ReadError(f"not an image: array of shape {np.asarray(image).shape}")
    if array.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(array.dtype, np.floating) and array.max(initial=0) <= 1.0 else 1.0
        array = np.clip(array * scale, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array)
