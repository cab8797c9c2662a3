"""What a chart shows: its kind, the columns it draws, and what came back from reading them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from desktop_app.core.errors import UserError

if TYPE_CHECKING:  # numpy is imported by the modules that build arrays, not by those that only name a chart
    import numpy as np

    from desktop_app.core.chart.summary import LineSummary
    from desktop_app.core.chart.thinning import LineThinner


class ChartError(UserError):
    """A chart cannot be drawn from the chosen columns (no numbers in a Y column, too many bars…)."""


class ChartKind(enum.Enum):
    """The kinds of chart offered."""

    LINE = "line"
    BAR = "bar"
    SCATTER = "scatter"
    HISTOGRAM = "histogram"


class AxisKind(enum.Enum):
    """How the X values are read and drawn."""

    NUMBER = "number"
    #: Epoch seconds (UTC), drawn on a date axis.
    TIME = "time"
    #: Distinct values at 0, 1, 2, … with their text as tick labels.
    CATEGORY = "category"


#: `ChartSpec.x_axis` values besides an encoding name from `core/values/timestamps.py`.
AUTO, NUMBER, CATEGORY = "auto", "number", "category"


@dataclass(frozen=True)
class ChartSpec:
    """A chart of one result: columns by position in the result (names may repeat in a query)."""

    kind: ChartKind
    #: The X column; for a histogram, the column whose values are binned.
    x: int
    #: The Y columns (none for a histogram).
    ys: tuple[int, ...] = ()
    #: A column whose values split each Y into one series per value (group by), or None.
    series: int | None = None
    #: "auto", "number", "category" or a time encoding's name (`unix_s`, `julian_day`, `iso8601`, …).
    x_axis: str = AUTO
    #: Bins of a histogram.
    bins: int = 50


@dataclass
class Series:
    """One drawn series: for a histogram `x` holds the bin edges (one more than `y`, the counts)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    #: A line's per-run minima and maxima, computed off the UI thread with the arrays.
    thinner: LineThinner | None = None


@dataclass
class ChartData:
    """Everything read for a chart, ready to draw."""

    spec: ChartSpec
    x_kind: AxisKind
    x_label: str
    series: list[Series]
    #: Tick labels of a category axis, by position.
    categories: list[str] = field(default_factory=list)
    #: Rows the query returned.
    rows: int = 0
    #: What was left out and why, for the user (NULLs, text in a number column, too many series…).
    notes: list[str] = field(default_factory=list)
    #: The time encoding the X values were read in, when the axis is a time axis.
    time_encoding: str = ""
    elapsed_s: float = 0.0
    #: True for the rows read so far of a read still under way.
    partial: bool = False
    #: A big line summarised in SQLite (each X column's extremes): what reads a zoomed range again.
    summary: LineSummary | None = None

    @property
    def points(self) -> int:
        """Points drawn in all series (bins for a histogram)."""
        return sum(len(s.y) for s in self.series)
