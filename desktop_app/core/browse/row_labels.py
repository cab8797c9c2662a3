"""How a row is named to the user, the same way in every pane.

"row 12" is always a position: the twelfth row in the order shown, counted from 1, as in Browse's row
numbers. A row's address is named by its key columns: "rowid 57", or "lang 'en', id 7" for a compound
key. Where both are known, both are shown: "row 12 (rowid 57)".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def key_label(key: Mapping[str, Any]) -> str:
    """A row's key as messages show it: `rowid 57`, `lang 'en', id 7` ('' for no key)."""
    return ", ".join(
        f"{name} {value!r}" if isinstance(value, str) else f"{name} {value}" for name, value in key.items()
    )


def row_label(position: int | None, key: Mapping[str, Any] | None = None) -> str:
    """`row 12 (rowid 57)`: the row's 1-based position (`position` counts from 0), then its key."""
    address = key_label(key or {})
    if position is None:
        return address or "row"
    where = f"row {position + 1:,}"
    return f"{where} ({address})" if address else where
