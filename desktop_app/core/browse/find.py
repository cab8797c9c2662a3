"""Find in a grid's rows: which cells hold a text (what Ctrl+F in Browse and SQL results looks for)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from desktop_app.core.browse.paging import Truncated


def cell_matches(value: Any, needle: str) -> bool:
    """True when `value` holds `needle`, ignoring case.

    Numbers match as written (`repr` of a float); a NULL holds no text (find "NULL" does not match it: the
    filter menu's "Filter on this value" finds NULLs); a blob matches its bytes in hex (`0aff`) or text
    that occurs in it as UTF-8. A value held only in part (`Truncated`) is searched in the part held.
    """
    if value is None or not needle:
        return False
    if isinstance(value, Truncated):
        value = value.head
    folded = needle.casefold()
    if isinstance(value, bytes):
        return folded in value.hex() or needle.encode("utf-8", "surrogatepass") in value
    text = repr(value) if isinstance(value, float) else str(value)
    return folded in text.casefold()


def matching_cells(rows: Iterable[Sequence[Any]], first_row: int, needle: str) -> list[tuple[int, int]]:
    """The (row, column) of every cell of `rows` holding `needle`; rows are numbered from `first_row`."""
    return [
        (first_row + r, c)
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if cell_matches(value, needle)
    ]
