"""Tell recovered records apart from copies of rows that are still live.

Page splits and moves leave copies of live rows in free space; they are not deleted rows, so they are
set aside (counted, not listed). A record is a copy when every surviving value equals a live row's. Where
one of its surviving values is in a column SQLite can search (the rowid alias, an index's first column),
only the rows holding those values are read; the other records of a table cost one scan of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from desktop_app.core.progress import CancelToken
from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.core.recovery.record import LOST
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier

_FETCH_ROWS = 2000
#: How the sqlite3 module's error starts when text is not UTF-8 and the text factory is `str`.
_NOT_UTF8 = "Could not decode to UTF-8"
#: Most values bound to one search statement (SQLite's default limit is 32766).
_SEARCH_VALUES = 10_000

#: Positions of the surviving values → their typed key → indexes of the records holding them.
_Patterns = dict[tuple[int, ...], dict[tuple[object, ...], list[int]]]


def _key(values: Sequence[object], positions: tuple[int, ...]) -> tuple[object, ...]:
    """Values as a dictionary key that tells 1 from 1.0 (and b'' from '')."""
    return tuple((type(values[i]).__name__, values[i]) for i in positions)


def live_copies(
    conn: sqlite3.Connection,
    records: Sequence[RecoveredRecord],
    cancel: CancelToken | None = None,
    searchable: Mapping[str, Iterable[str]] | None = None,
) -> set[int]:
    """Indexes into `records` of those whose every surviving value equals a live row of their table.

    `searchable` names, per table, the columns a lookup by value is cheap in (rowid alias, indexed)."""
    copies: set[int] = set()
    by_table: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        if record.table is not None and not record.table_dropped:
            by_table.setdefault(record.table, []).append(index)
    for table, indexes in by_table.items():
        columns = records[indexes[0]].columns
        cheap = {columns.index(c) for c in (searchable or {}).get(table, ()) if c in columns}
        searched: dict[int, _Patterns] = {}
        scanned: _Patterns = {}
        for index in indexes:
            values = records[index].values
            kept = tuple(i for i, v in enumerate(values) if v is not LOST)
            if not kept:
                continue
            pivot = next((i for i in kept if i in cheap and values[i] is not None), None)
            patterns = scanned if pivot is None else searched.setdefault(pivot, {})
            patterns.setdefault(kept, {}).setdefault(_key(values, kept), []).append(index)
        try:
            with cancellable(conn, cancel):
                try:
                    # Text decoded by the library, not the connection's Python factory: a carved text is
                    # valid UTF-8, so only a table holding text that is not needs the factory (read again).
                    with _text_factory(conn, str):
                        copies |= _table_copies(conn, table, columns, searched, scanned)
                except sqlite3.OperationalError as exc:
                    if not str(exc).startswith(_NOT_UTF8):
                        raise
                    copies |= _table_copies(conn, table, columns, searched, scanned)
        except sqlite3.Error:
            continue  # a table that cannot be read (a damaged page): its records all stay listed
    return copies


_Pivots = list[tuple[int, set[object], tuple[int, ...], dict[tuple[object, ...], list[int]]]]


def _table_copies(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    searched: dict[int, _Patterns],
    scanned: _Patterns,
) -> set[int]:
    """The copies among one table's records: those with a searchable value looked up, the others scanned."""
    copies: set[int] = set()
    for pivot, patterns in searched.items():
        try:
            copies |= _search(conn, table, columns, pivot, patterns)
        except sqlite3.Error as exc:  # e.g. an index on a collation we lack: read every row instead
            if str(exc).startswith(_NOT_UTF8):
                raise
            for kept, keys in patterns.items():
                for key, hits in keys.items():
                    scanned.setdefault(kept, {}).setdefault(key, []).extend(hits)
    if scanned:
        copies |= _scan(conn, table, columns, scanned)
    return copies


def _pivots(patterns: _Patterns) -> _Pivots:
    """Per pattern: its first position and the values there (one set lookup a row before the typed key)."""
    return [(kept[0], {key[0][1] for key in wanted}, kept, wanted) for kept, wanted in patterns.items()]


@contextmanager
def _text_factory(conn: sqlite3.Connection, factory: type[str]) -> Iterator[None]:
    saved = conn.text_factory
    conn.text_factory = factory
    try:
        yield
    finally:
        conn.text_factory = saved


def _matches(rows: Iterable[Sequence[object]], pivots: _Pivots) -> set[int]:
    """Indexes of the records some row of `rows` equals."""
    found: set[int] = set()
    for row in rows:
        for pivot, first_values, kept, wanted in pivots:
            if row[pivot] in first_values and (hit := wanted.get(_key(row, kept))):
                found.update(hit)
    return found


def _search(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], pivot: int, patterns: _Patterns
) -> set[int]:
    """The copies among `patterns`, reading only the rows whose `pivot` column holds one of their values."""
    wanted = list({key[kept.index(pivot)][1] for kept, keys in patterns.items() for key in keys})
    select = ", ".join(quote_identifier(c) for c in columns)
    where = quote_identifier(columns[pivot])
    pivots = _pivots(patterns)
    found: set[int] = set()
    for start in range(0, len(wanted), _SEARCH_VALUES):
        chunk = wanted[start : start + _SEARCH_VALUES]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT {select} FROM {quote_identifier(table)} WHERE {where} IN ({marks})"
        found |= _matches(conn.execute(sql, chunk).fetchall(), pivots)
    return found


def _scan(conn: sqlite3.Connection, table: str, columns: Sequence[str], patterns: _Patterns) -> set[int]:
    """The copies among `patterns`, reading every row of `table`."""
    select = ", ".join(quote_identifier(c) for c in columns)
    cursor = conn.execute(f"SELECT {select} FROM {quote_identifier(table)}")
    pivots = _pivots(patterns)
    found: set[int] = set()
    while rows := cursor.fetchmany(_FETCH_ROWS):
        found |= _matches(rows, pivots)
    return found
