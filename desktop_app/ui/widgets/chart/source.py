"""What a chart window reads (a statement and its columns), and the first chart it offers (no pyqtgraph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.chart.spec import ChartKind

_NUMERIC_TYPES = ("INT", "REAL", "FLOA", "DOUB", "NUM", "DEC")
_TIME_WORDS = ("DATE", "TIME")


@dataclass(frozen=True)
class ChartSource:
    """What a chart reads: one statement (a table as Browse shows it, or a query) and its columns."""

    title: str
    sql: str
    params: Any = ()
    #: (name, declared type) of each column of the statement's result.
    columns: list[tuple[str, str]] = field(default_factory=list)
    #: Rows the statement returns, when known (determinate progress).
    total_rows: int | None = None


def default_choice(columns: list[tuple[str, str]]) -> tuple[ChartKind, int, list[int]]:
    """A first chart for these columns: a date or the first column as X, the first number column as Y."""
    types = [declared.upper() for _name, declared in columns]
    names = [name.upper() for name, _declared in columns]
    timeish = [i for i, t in enumerate(types) if any(w in t or w in names[i] for w in _TIME_WORDS)]
    x = timeish[0] if timeish else 0
    numeric = [i for i, t in enumerate(types) if i != x and any(w in t for w in _NUMERIC_TYPES)]
    y = numeric[-1:] if timeish else numeric[:1]  # a dated table's measure tends to come last (totals)
    if not y:
        y = [1 if len(columns) > 1 and x == 0 else 0]
    text_x = any(w in types[x] for w in ("CHAR", "TEXT", "CLOB")) and not timeish
    return (ChartKind.BAR if text_x else ChartKind.LINE), x, y
