"""Tell recovered records apart from copies of rows that are still live.

Page splits and moves leave copies of live rows in free space; they are not deleted rows, so they are
set aside (counted, not listed). One scan of each table concerned, comparing every surviving value.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from desktop_app.core.progress import CancelToken
from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.core.recovery.record import LOST
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier

_FETCH_ROWS = 2000


def _key(values: Sequence[object], positions: tuple[int, ...]) -> tuple[object, ...]:
    """Values as a dictionary key that tells 1 from 1.0 (and b'' from '')."""
    return tuple((type(values[i]).__name__, values[i]) for i in positions)


def live_copies(
    conn: sqlite3.Connection, records: Sequence[RecoveredRecord], cancel: CancelToken | None = None
) -> set[int]:
    """Indexes into `records` of those whose every surviving value equals a live row of their table."""
    copies: set[int] = set()
    by_table: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        if record.table is not None and not record.table_dropped:
            by_table.setdefault(record.table, []).append(index)
    for table, indexes in by_table.items():
        columns = records[indexes[0]].columns
        patterns: dict[tuple[int, ...], dict[tuple[object, ...], list[int]]] = {}
        for index in indexes:
            values = records[index].values
            kept = tuple(i for i, v in enumerate(values) if v is not LOST)
            if kept:
                patterns.setdefault(kept, {}).setdefault(_key(values, kept), []).append(index)
        # One set lookup a row and pattern (on the first surviving value) before the typed comparison.
        pivots = [(kept[0], {key[0][1] for key in wanted}, kept, wanted) for kept, wanted in patterns.items()]
        select = ", ".join(quote_identifier(c) for c in columns)
        try:
            with cancellable(conn, cancel):
                cursor = conn.execute(f"SELECT {select} FROM {quote_identifier(table)}")
                while rows := cursor.fetchmany(_FETCH_ROWS):
                    for row in rows:
                        for pivot, first_values, kept, wanted in pivots:
                            if row[pivot] in first_values and (found := wanted.get(_key(row, kept))):
                                copies.update(found)
        except sqlite3.Error:
            continue  # a table that cannot be read (a damaged page): its records all stay listed
    return copies
