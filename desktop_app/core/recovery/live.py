"""Recovered records against the live rows.

Page splits and moves leave copies of live rows in free space; they are not deleted rows, so they are
set aside (counted, not listed): one scan of each table concerned, comparing every surviving value.
A record whose key (rowid or primary key) a live row still has is shown next to that row, its differing
values marked: an earlier version of the row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from desktop_app.core.browse.rows import rowid_alias_column, rowid_name
from desktop_app.core.progress import CancelToken
from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.core.recovery.record import LOST
from desktop_app.core.schema.catalog import Table, read_catalog
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


class LiveMatch(StrEnum):
    """How a recovered record stands against the live row with its key."""

    #: A live row has the record's key and some surviving value differs (an earlier version of it).
    DIFFERENT = "different"
    #: A live row has the record's key and every surviving value equals it.
    IDENTICAL = "identical"
    #: No live row has the record's key (the row is gone).
    NO_LIVE_ROW = "no-live-row"
    #: The record's key was overwritten, or its table has no key to look it up by.
    NO_KEY = "no-key"
    #: The record's table is not in the live schema (dropped, or unknown).
    NO_TABLE = "no-table"


@dataclass(frozen=True)
class LiveComparison:
    """A recovered record next to the live row with the same key (table and rowid or primary key)."""

    status: LiveMatch
    #: The key looked up: its columns ("rowid" or the primary key's) and values; empty without one.
    key_columns: tuple[str, ...] = ()
    key: tuple[object, ...] = ()
    #: The live row's values in the record's column order (None when there is no live row).
    live: tuple[object, ...] | None = None
    #: Positions where a surviving recovered value differs from the live one.
    differs: tuple[int, ...] = ()

    def message(self, columns: Sequence[str]) -> str:
        """One line for the user: how the record compares with the live row."""
        key = ", ".join(f"{c} = {v!r}" for c, v in zip(self.key_columns, self.key, strict=True))
        if self.status is LiveMatch.DIFFERENT:
            names = ", ".join(columns[i] for i in self.differs)
            count = len(self.differs)
            return f"The live row with {key} differs in {count} column{'s' if count != 1 else ''}: {names}."
        if self.status is LiveMatch.IDENTICAL:
            return f"Live row identical ({key}): every surviving value equals it."
        if self.status is LiveMatch.NO_LIVE_ROW:
            return f"No live row with this key ({key}): the row is gone from the table."
        if self.status is LiveMatch.NO_TABLE:
            return "No live table to compare with: the record's table is not in the database now."
        return "No live row to compare with: the record's key was overwritten (or its table has none)."

    def as_dict(self) -> dict[str, object]:
        """The comparison in the `recover --json --compare-live` shape."""
        return {
            "status": self.status.value,
            "key": dict(zip(self.key_columns, self.key, strict=True)),
            "values": list(self.live) if self.live is not None else None,
            "differs": list(self.differs),
        }


#: Keys looked up per statement (well under SQLite's bound on parameters).
_KEYS_PER_QUERY = 400


def compare_with_live(
    conn: sqlite3.Connection, records: Sequence[RecoveredRecord], cancel: CancelToken | None = None
) -> list[LiveComparison]:
    """For each record, the live row of its table with the same key (rowid, else primary key), compared
    value by value. Lost values are not compared; defaulted ones are (SQLite reads the live row so too)."""
    catalog = read_catalog(conn)
    answers: list[LiveComparison | None] = [None] * len(records)
    lookups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[tuple[int, tuple[object, ...]]]] = {}
    for index, record in enumerate(records):
        table = catalog.table(record.table) if record.table is not None and not record.table_dropped else None
        if table is None or any(table.column(c) is None for c in record.columns):
            answers[index] = LiveComparison(LiveMatch.NO_TABLE)
            continue
        found = _record_key(table, record)
        if found is None:
            answers[index] = LiveComparison(LiveMatch.NO_KEY)
            continue
        key_columns, key = found
        lookups.setdefault((table.name, key_columns, record.columns), []).append((index, key))
    with cancellable(conn, cancel):
        for (table_name, key_columns, columns), wanted in lookups.items():
            rows = _live_rows(conn, table_name, key_columns, columns, [k for _, k in wanted])
            for index, key in wanted:
                live = rows.get(_typed(key))
                answers[index] = _compare(records[index], key_columns, key, live)
    return [a if a is not None else LiveComparison(LiveMatch.NO_KEY) for a in answers]


def _record_key(table: Table, record: RecoveredRecord) -> tuple[tuple[str, ...], tuple[object, ...]] | None:
    """The key to look the record up by: its rowid (or the rowid alias's value), else its primary key."""
    rowid = rowid_name(table)
    if rowid is not None:
        if isinstance(record.rowid, int) and not isinstance(record.rowid, bool):
            return (rowid,), (record.rowid,)
        alias = rowid_alias_column(table)
        if alias is not None:
            value = record.values[record.columns.index(alias)]
            return ((rowid,), (value,)) if isinstance(value, int) else None
    keys = table.primary_key
    if not keys:
        return None
    values = tuple(record.values[record.columns.index(k)] for k in keys)
    if any(v is LOST or v is None for v in values):
        return None
    return tuple(keys), values


def _typed(values: Sequence[object]) -> tuple[object, ...]:
    return _key(values, tuple(range(len(values))))


def _live_rows(
    conn: sqlite3.Connection,
    table: str,
    key_columns: tuple[str, ...],
    columns: tuple[str, ...],
    keys: list[tuple[object, ...]],
) -> dict[tuple[object, ...], tuple[object, ...]]:
    """Live rows of `table` whose key is one of `keys`, by typed key, values in `columns` order."""
    width = len(key_columns)
    names = [quote_identifier(c) for c in key_columns]  # a quoted "rowid" still names the rowid
    select = ", ".join([*names, *(quote_identifier(c) for c in columns)])
    target = names[0] if width == 1 else "(" + ", ".join(names) + ")"
    found: dict[tuple[object, ...], tuple[object, ...]] = {}
    distinct = list(dict.fromkeys(keys))
    for at in range(0, len(distinct), _KEYS_PER_QUERY):
        batch = distinct[at : at + _KEYS_PER_QUERY]
        if width == 1:
            marks = ", ".join("?" * len(batch))
        else:
            marks = "VALUES " + ", ".join("(" + ", ".join("?" * width) + ")" for _ in batch)
        sql = f"SELECT {select} FROM {quote_identifier(table)} WHERE {target} IN ({marks})"
        try:
            for row in conn.execute(sql, [v for key in batch for v in key]):
                found[_typed(row[:width])] = tuple(row[width:])
        except sqlite3.Error:
            continue  # a table that cannot be read (a damaged page): its records find no live row
    return found


def _compare(
    record: RecoveredRecord,
    key_columns: tuple[str, ...],
    key: tuple[object, ...],
    live: tuple[object, ...] | None,
) -> LiveComparison:
    if live is None:
        return LiveComparison(LiveMatch.NO_LIVE_ROW, key_columns, key)
    differs = tuple(
        i
        for i, value in enumerate(record.values)
        if value is not LOST and (type(value) is not type(live[i]) or value != live[i])
    )
    status = LiveMatch.DIFFERENT if differs else LiveMatch.IDENTICAL
    return LiveComparison(status, key_columns, key, live, differs)
