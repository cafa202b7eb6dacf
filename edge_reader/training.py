"""What the training scripts of the learned stages share (numpy only)."""

from __future__ import annotations

import numpy as np


def adam_step(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    moments: list[np.ndarray],
    squares: list[np.ndarray],
    step: int,
    rate: float,
) -> None:
    """One Adam update of `params` in place (its usual settings: 0.9, 0.999, 1e-8); `step` counts from 1."""
    for param, grad, m, v in zip(params, grads, moments, squares, strict=True):
        m *= 0.9
        m += 0.1 * grad
        v *= 0.999
        v += 0.001 * grad * grad
        param -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
