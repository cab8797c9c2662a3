"""Histogram bins of numeric values (integers spanning few values get one bin per value)."""

from __future__ import annotations

import numpy as np


def histogram(values: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (len n+1) and counts (len n) of `values` in `bins` equal bins; the last bin includes its
    right edge. Integers spanning at most `bins` values get one bin per integer, centred on it."""
    values = values[np.isfinite(values)]
    if not len(values):
        return np.array([0.0, 1.0]), np.array([0], dtype=np.int64)
    low, high = float(values.min()), float(values.max())
    if high - low < bins and np.all(np.floor(values) == values):
        edges = np.arange(low - 0.5, high + 1.0, 1.0)
    else:
        if low == high:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
    counts, edges = np.histogram(values, bins=edges)
    return edges, counts.astype(np.int64)
