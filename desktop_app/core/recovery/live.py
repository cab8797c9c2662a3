"""Recovered records against the live rows.

Page splits and moves leave copies of live rows in free space; they are not deleted rows, so they are
set aside (counted, not listed). A record is a copy when every surviving value equals a live row's. Where
one of its surviving values is in a column SQLite can search (the rowid alias, an index's first column),
only the rows holding those values are read; the other records of a table cost one scan of it.
A record whose key (rowid or primary key) a live row still has is shown next to that row, its differing
values marked: an earlier version of the row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from desktop_app.core.browse.rows import rowid_alias_column, rowid_name
from desktop_app.core.progress import CancelToken
from desktop_app.core.recovery.gil import release
from desktop_app.core.recovery.model import RecoveredRecord
from desktop_app.core.recovery.record import LOST
from desktop_app.core.schema.catalog import Table, read_catalog
from desktop_app.core.sqlite.interrupt import cancellable
from desktop_app.core.sqlite.quoting import quote_identifier

_FETCH_ROWS = 2000
#: How the sqlite3 module's error starts when text is not UTF-8 and the text factory is `str`.
_NOT_UTF8 = "Could not decode to UTF-8"
#: SQLite's error when a statement is interrupted (Stop).
_INTERRUPTED = "interrupted"
#: Records looked at between two looks at Stop while their values are gathered (~10 ms of work).
_CANCEL_EVERY = 2048
#: Most values bound to one search statement (SQLite's default limit is 32766).
_SEARCH_VALUES = 10_000

#: Positions of the surviving values → their typed key → indexes of the records holding them.
_Patterns = dict[tuple[int, ...], dict[tuple[object, ...], list[int]]]


def _key(values: Sequence[object], positions: tuple[int, ...]) -> tuple[object, ...]:
    """Values as a dictionary key that tells 1 from 1.0 (and b'' from ''): their classes, then the
    values (one flat tuple; the value at `positions[i]` is at `len(positions) + i`)."""
    picked = [values[i] for i in positions]
    return (*map(type, picked), *picked)


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
        cheap_kept: dict[tuple[int, ...], list[int]] = {}  # per surviving positions: the cheap ones
        every: dict[int, tuple[int, ...]] = {}  # per count of values: every position
        for index in indexes:
            if not index % _CANCEL_EVERY and cancel is not None:
                cancel.raise_if_cancelled()
            values = records[index].values
            if LOST in values:
                kept = tuple([i for i, v in enumerate(values) if v is not LOST])
            else:
                kept = every.get(len(values)) or every.setdefault(len(values), tuple(range(len(values))))
            if not kept:
                continue
            looked_up = cheap_kept.get(kept)
            if looked_up is None:
                looked_up = cheap_kept[kept] = [i for i in kept if i in cheap]
            pivot = None
            for i in looked_up:
                if values[i] is not None:
                    pivot = i
                    break
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
        finally:
            release(searched)
            release(scanned)
    release(by_table)
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
    return [(kept[0], {key[len(kept)] for key in wanted}, kept, wanted) for kept, wanted in patterns.items()]


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
    wanted = list({key[len(kept) + kept.index(pivot)] for kept, keys in patterns.items() for key in keys})
    return _matches_where(conn, table, columns, quote_identifier(columns[pivot]), wanted, _pivots(patterns))


def _matches_where(
    conn: sqlite3.Connection,
    table: str,
    columns: Sequence[str],
    where: str,
    wanted: list[object],
    pivots: _Pivots,
) -> set[int]:
    """The copies among `pivots`' patterns in the rows whose `where` expression holds one of `wanted`."""
    select = ", ".join(quote_identifier(c) for c in columns)
    found: set[int] = set()
    for start in range(0, len(wanted), _SEARCH_VALUES):
        chunk = wanted[start : start + _SEARCH_VALUES]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT {select} FROM {quote_identifier(table)} WHERE {where} IN ({marks})"
        found |= _matches(conn.execute(sql, chunk).fetchall(), pivots)
    return found


def _scan(conn: sqlite3.Connection, table: str, columns: Sequence[str], patterns: _Patterns) -> set[int]:
    """The copies among `patterns`, reading every row of `table` (where every pattern's first surviving
    value is in one column, that column alone, then the whole rows holding one of its values)."""
    taken = {c.lower() for c in columns}
    key = next((n for n in ("rowid", "_rowid_", "oid") if n not in taken), None)
    if key is not None and len({kept[0] for kept in patterns}) == 1:
        try:
            return _scan_one_column(conn, table, columns, patterns, key)
        except sqlite3.Error as exc:  # a WITHOUT ROWID table: read every row
            if str(exc).startswith(_NOT_UTF8) or str(exc) == _INTERRUPTED:  # Stop: no other read starts
                raise
    select = ", ".join(quote_identifier(c) for c in columns)
    cursor = conn.execute(f"SELECT {select} FROM {quote_identifier(table)}")
    pivots = _pivots(patterns)
    found: set[int] = set()
    while rows := cursor.fetchmany(_FETCH_ROWS):
        found |= _matches(rows, pivots)
    return found


def _scan_one_column(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], patterns: _Patterns, key: str
) -> set[int]:
    """`_scan` for patterns that share their first surviving column: that column of every row read with
    its `key` (a name of the rowid no column takes), then the rows whose value there is one of the
    patterns' (a live copy's row is among them, as it holds its first value)."""
    pivots = _pivots(patterns)
    column = pivots[0][0]
    firsts = set().union(*(values for _pivot, values, _kept, _wanted in pivots))
    cursor = conn.execute(f"SELECT {key}, {quote_identifier(columns[column])} FROM {quote_identifier(table)}")
    keys: list[object] = []
    while rows := cursor.fetchmany(_FETCH_ROWS):
        keys += [k for k, value in rows if value in firsts]
    return _matches_where(conn, table, columns, key, keys, pivots)


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
