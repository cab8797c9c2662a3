"""A column's profile: the figures, filled in two stages (cheap pass first, then distinct/top/histogram)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: SQLite's storage classes other than NULL, in the order they sort.
STORAGE_CLASSES = ("integer", "real", "text", "blob")


class Stage(StrEnum):
    """How far a column's profile has got."""

    SAMPLE = "sample"  #: NULLs, storage classes, min/max, length range of the first rows only
    CHEAP = "cheap"  #: NULLs, storage classes, min/max, length range of every row
    COMPLETE = "complete"  #: also distinct, top values and histogram


@dataclass(frozen=True)
class HistogramBin:
    """Values from `low` (inclusive) to `high` (exclusive, inclusive for the last bin) and their count.

    For a column read as timestamps `low`/`high` are in its stored unit and `low_time`/`high_time` say
    when, in ISO-8601 UTC.
    """

    low: float
    high: float
    count: int
    low_time: str | None = None
    high_time: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        data: dict[str, Any] = {"low": self.low, "high": self.high, "count": self.count}
        if self.low_time is not None:
            data["low_time"], data["high_time"] = self.low_time, self.high_time
        return data


@dataclass
class ColumnProfile:
    """What a column holds. `count` is the table's rows; `distinct` counts non-NULL values.

    At `Stage.SAMPLE` the NULLs, storage classes, min/max and lengths are those of the first
    `sampled_rows` rows (show them as estimates); later stages cover every row.
    """

    name: str
    count: int  #: min, max and top values are as read; text that is not UTF-8 is `values.text.InvalidText`
    stage: Stage = Stage.CHEAP
    sampled_rows: int | None = None
    nulls: int = 0
    types: dict[str, int] = field(default_factory=dict)
    min: Any = None
    max: Any = None
    #: Shortest and longest text (characters) or blob (bytes); None when the column has neither.
    length: tuple[int, int] | None = None
    distinct: int | None = None
    #: The most frequent non-NULL values, most frequent first (ties in SQLite order), with their counts.
    top: list[tuple[Any, int]] = field(default_factory=list)
    histogram: list[HistogramBin] | None = None
    #: Key of the timestamp encoding the values were read with (see core/values/timestamps), or None.
    time_encoding: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (`snapshot-browser-cli profile --json`)."""
        return {
            "name": self.name,
            "count": self.count,
            "nulls": self.nulls,
            "distinct": self.distinct,
            "min": self.min,
            "max": self.max,
            "top": [[value, count] for value, count in self.top],
            "types": dict(self.types),
            "length": list(self.length) if self.length is not None else None,
            "histogram": [b.as_dict() for b in self.histogram] if self.histogram is not None else None,
            "time_encoding": self.time_encoding,
        }
