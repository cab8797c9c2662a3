"""Display downsampling: only what a screen can show of millions of points.

A line keeps, for every pixel column, the lowest and the highest value in it (so no peak is lost); a big
scatter becomes a picture of how many points fall in each pixel (`cell_counts`). Both work on the visible
range only and are recomputed when the user pans or zooms; the data itself is never changed.
"""

from __future__ import annotations

import numpy as np


def visible_slice(x: np.ndarray, x0: float, x1: float) -> slice:
    """The indices of sorted `x` in [x0, x1], and one point beyond each end (lines reach the edges)."""
    start = max(int(np.searchsorted(x, x0, side="left")) - 1, 0)
    stop = min(int(np.searchsorted(x, x1, side="right")) + 1, len(x))
    return slice(start, stop)


def minmax_per_bucket(
    x: np.ndarray, y: np.ndarray, x0: float, x1: float, buckets: int
) -> tuple[np.ndarray, np.ndarray]:
    """The points of sorted `x` in [x0, x1] reduced to each bucket's minimum and maximum `y`.

    [x0, x1] is cut into `buckets` equal buckets (one per pixel column); each bucket that holds points
    becomes two points at its first x: its lowest and its highest y. Ranges that hold at most two points
    per bucket come back as they are.
    """
    part = visible_slice(x, x0, x1)
    xs, ys = x[part], y[part]
    if len(xs) <= 2 * buckets or x1 <= x0:
        return xs, ys
    edges = x0 + (x1 - x0) * np.arange(buckets) / buckets
    starts = np.searchsorted(xs, edges, side="left")
    # The point before x0 (kept for the edge) gets its own bucket at the front.
    starts = np.concatenate(([0], starts))
    # Sorted already: drop repeats by comparing neighbours (np.unique would also import numpy.ma the first
    # time, ~60 ms on the GUI thread under the first picture of a chart).
    starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]
    starts = starts[starts < len(xs)]
    low = np.minimum.reduceat(ys, starts)
    high = np.maximum.reduceat(ys, starts)
    out_x = np.repeat(xs[starts], 2)
    out_y = np.empty(2 * len(starts), dtype=ys.dtype)
    out_y[0::2], out_y[1::2] = low, high
    return out_x, out_y


def cell_counts(
    x: np.ndarray, y: np.ndarray, view: tuple[float, float, float, float], cells: tuple[int, int]
) -> np.ndarray:
    """How many points fall in each of the `cells` (columns, rows) cells `view` (x0, x1, y0, y1) is cut into,
    as an array indexed [column, row] (row 0 at y0). One pass, no sort: fast enough for millions of points."""
    x0, x1, y0, y1 = view
    columns, rows = cells
    width, height = max(x1 - x0, 1e-300), max(y1 - y0, 1e-300)
    # In place and without fancy indexing: each step is one pass over the points, no more copies than two.
    cx = np.subtract(x, x0)
    cx *= columns / width
    cy = np.subtract(y, y0)
    cy *= rows / height
    outside = ~((cx >= 0) & (cx < columns) & (cy >= 0) & (cy < rows))  # NaN compares False: outside
    np.copyto(cx, 0.0, where=outside)
    np.copyto(cy, 0.0, where=outside)
    index = cx.astype(np.int64)
    index *= rows
    index += cy.astype(np.int64)
    index[outside] = columns * rows  # one bin past the last, dropped below
    return np.bincount(index, minlength=columns * rows + 1)[:-1].reshape(columns, rows)


class LineThinner:
    """`minmax_per_bucket` for one sorted line at any zoom, in time that does not grow with the line.

    Each run of `chunk` points is reduced to its lowest and highest value once; a view wide enough to
    put at least two runs in every bucket is thinned from those (a few thousand values, not millions),
    a narrower one from the points themselves.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, chunk: int = 64) -> None:
        self.x, self.y, self.chunk = x, y, chunk
        runs = len(x) // chunk
        self.covered = runs * chunk
        self.run_x = x[: self.covered : chunk]
        self.run_low = y[: self.covered].reshape(runs, chunk).min(axis=1)
        self.run_high = y[: self.covered].reshape(runs, chunk).max(axis=1)

    def extent(self) -> tuple[float, float, float, float]:
        """x0, x1, y0, y1 of the whole line (quick: from the runs)."""
        if not len(self.x):
            return 0.0, 1.0, 0.0, 1.0
        tail = self.y[self.covered :]
        lows = [self.run_low.min()] if len(self.run_low) else []
        highs = [self.run_high.max()] if len(self.run_high) else []
        low = min([*lows, *([tail.min()] if len(tail) else [])])
        high = max([*highs, *([tail.max()] if len(tail) else [])])
        return float(self.x[0]), float(self.x[-1]), float(low), float(high)

    def view(self, x0: float, x1: float, buckets: int) -> tuple[np.ndarray, np.ndarray]:
        """The line's points in [x0, x1] reduced to each bucket's lowest and highest value."""
        part = visible_slice(self.x, x0, x1)
        if part.stop - part.start <= 2 * self.chunk * buckets or x1 <= x0:
            return minmax_per_bucket(self.x, self.y, x0, x1, buckets)
        first, last = part.start // self.chunk, min(-(-part.stop // self.chunk), len(self.run_x))
        run_x = self.run_x[first:last]
        edges = x0 + (x1 - x0) * np.arange(buckets) / buckets
        starts = np.unique(np.concatenate(([0], np.searchsorted(run_x, edges, side="left"))))
        starts = starts[starts < len(run_x)]
        low = np.minimum.reduceat(self.run_low[first:last], starts)
        high = np.maximum.reduceat(self.run_high[first:last], starts)
        out_x = np.repeat(run_x[starts], 2)
        out_y = np.empty(2 * len(starts), dtype=self.y.dtype)
        out_y[0::2], out_y[1::2] = low, high
        if part.stop > self.covered:  # the last few points, fewer than a run
            out_x = np.concatenate((out_x, self.x[self.covered : part.stop]))
            out_y = np.concatenate((out_y, self.y[self.covered : part.stop]))
        return out_x, out_y
