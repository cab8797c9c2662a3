"""What a chart says about what it drew: columns with nothing to draw refused, values left out counted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from desktop_app.core.chart.columns import NULL, Column, TimeColumn
from desktop_app.core.chart.spec import ChartError


def check_has_values(column: Column, rows: int, role: str) -> None:
    """A column with rows but not one drawable value cannot be charted: say what it holds instead."""
    if column.numbers or not rows:
        return
    held = ", ".join(f"{count:,} {kind}" for kind, count in column.skipped.most_common())
    wanted = f"times in {column.encoding.label}" if isinstance(column, TimeColumn) else "numbers"
    hint = (
        ""
        if role != "Y"
        else " A Y column must hold numbers; text can be the X of a bar chart, or the series."
    )
    raise ChartError(f"The {role} column {column.name!r} holds no {wanted} ({held}).{hint}")


def skipped_note(name: str, skipped: Counter[str]) -> str:
    """ "v: 31 NULL, 10 text values left out." """
    parts = [
        f"{count:,} {kind if kind == NULL else kind + ' value' + ('s' if count != 1 else '')}"
        for kind, count in skipped.most_common()
    ]
    return f"{name}: {', '.join(parts)} left out."


def dropped_note(rows: int, column: str, most: int) -> str:
    """The note on rows of series values past the `most` drawn."""
    return f"{rows:,} rows of further {column} values left out (a chart draws {most} series at most)."


def series_name(column: str, group: str | None, *, several_ys: bool) -> str:
    """The name of one Y's series of one group (the group alone when one Y is drawn)."""
    if group is None:
        return column
    return f"{column} · {group}" if several_ys else group


def value_text(value: Any) -> str:
    """A series value as a legend names it."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"x'{value[:8].hex()}…'" if len(value) > 8 else f"x'{value.hex()}'"
    return str(value)
