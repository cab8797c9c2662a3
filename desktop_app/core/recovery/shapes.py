"""Candidate table shapes: how a table's (or index's) records are laid out, from the catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from desktop_app.core.recovery.record import LOST
from desktop_app.core.schema.catalog import SCHEMA_TABLE, Catalog, Column, Index, Table, TableKind


class Affinity(StrEnum):
    """A column's type affinity (SQLite's rules from the declared type); STRICT types keep their own."""

    INTEGER = "integer"
    TEXT = "text"
    BLOB = "blob"
    REAL = "real"
    NUMERIC = "numeric"
    ANY = "any"


def affinity_of(declared: str) -> Affinity:
    """The affinity SQLite gives a declared type."""
    upper = declared.upper()
    if "INT" in upper:
        return Affinity.INTEGER
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return Affinity.TEXT
    if "BLOB" in upper or not upper.strip():
        return Affinity.BLOB
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return Affinity.REAL
    return Affinity.NUMERIC


#: How likely a value of each storage class is in a column of each affinity (0: impossible).
_FIT = {
    Affinity.INTEGER: {"integer": 1.0, "real": 0.9, "text": 0.3, "blob": 0.5},
    Affinity.REAL: {"integer": 0.9, "real": 1.0, "text": 0.3, "blob": 0.5},
    Affinity.NUMERIC: {"integer": 1.0, "real": 1.0, "text": 0.4, "blob": 0.5},
    Affinity.TEXT: {"integer": 0.0, "real": 0.0, "text": 1.0, "blob": 0.6},
    Affinity.BLOB: {"integer": 0.9, "real": 0.9, "text": 0.9, "blob": 0.9},
    Affinity.ANY: {"integer": 0.9, "real": 0.9, "text": 0.9, "blob": 0.9},
}
_STRICT_FIT = {
    Affinity.INTEGER: {"integer": 1.0},
    Affinity.REAL: {"integer": 1.0, "real": 1.0},
    Affinity.TEXT: {"text": 1.0},
    Affinity.BLOB: {"blob": 1.0},
    Affinity.ANY: _FIT[Affinity.ANY],
    Affinity.NUMERIC: _FIT[Affinity.NUMERIC],
}


@dataclass(frozen=True)
class Shape:
    """The layout of one b-tree's records: stored columns in record order and what each may hold."""

    #: The table (or index) name; an index's records are matched only so they are not taken for rows.
    name: str
    columns: tuple[str, ...]
    affinities: tuple[Affinity, ...]
    not_null: tuple[bool, ...]
    #: Record position of the INTEGER PRIMARY KEY column (stored as NULL: its value is the rowid).
    alias: int | None
    #: True for index b-trees (WITHOUT ROWID tables and indexes): no rowid in the cell.
    index_btree: bool
    #: True for an index (its records are not rows).
    is_index: bool = False
    strict: bool = False
    #: For each column in table order, its position in the record (WITHOUT ROWID tables store keys first).
    display: tuple[int, ...] = ()
    #: True when the table is not in the live schema (its CREATE statement was carved from free space).
    dropped: bool = False
    #: Serial types to try first, per record position, when that position's type byte was overwritten.
    hints: tuple[tuple[int, ...], ...] = ()
    #: For the layout of a record written before its trailing columns were added (ALTER TABLE ADD
    #: COLUMN): those columns' names, and what they read as (their defaults, `LOST` when not a literal).
    added: tuple[str, ...] = ()
    added_defaults: tuple[object, ...] = ()
    #: The shorter layouts of this table's older records (one a column that may have been added).
    older: tuple[Shape, ...] = ()
    #: How likely a record of this layout is before its values are looked at (older layouts are rarer).
    prior: float = 1.0

    def fit(self, position: int, kind: str) -> float:
        """How well a value of storage class `kind` fits the column at record `position` (0: impossible)."""
        if position == self.alias:
            return 1.0 if kind == "null" else 0.0
        if kind == "null":
            return 0.0 if self.not_null[position] else 1.0
        table = _STRICT_FIT if self.strict else _FIT
        return table[self.affinities[position]].get(kind, 0.0)

    def in_table_order(self, values: tuple[object, ...]) -> tuple[object, ...]:
        """Record-order values rearranged into the table's column order (added columns' defaults too)."""
        values = (*values, *self.added_defaults)
        return tuple(values[i] for i in self.display) if self.display else values

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order."""
        names = (*self.columns, *self.added)
        return tuple(names[i] for i in self.display) if self.display else names

    @property
    def defaulted(self) -> tuple[int, ...]:
        """Table-order positions of the columns this layout's records predate (they read as defaults)."""
        stored = len(self.columns)
        order = self.display or tuple(range(stored + len(self.added)))
        return tuple(p for p, i in enumerate(order) if i >= stored)


def _strict_affinity(declared: str) -> Affinity:
    upper = declared.upper().strip()
    if upper == "ANY":
        return Affinity.ANY
    if upper in ("INT", "INTEGER"):
        return Affinity.INTEGER
    return {"REAL": Affinity.REAL, "TEXT": Affinity.TEXT, "BLOB": Affinity.BLOB}.get(upper, Affinity.ANY)


def table_shape(table: Table, *, dropped: bool = False) -> Shape | None:
    """The record layout of a table (None for views, virtual tables, tables without columns)."""
    if table.kind not in (TableKind.TABLE, TableKind.SHADOW) or not table.columns:
        return None
    stored = [c for c in table.columns if c.hidden != 2]
    affinity = _strict_affinity if table.strict else (lambda d: affinity_of(d))
    if table.without_rowid:
        keys = sorted((c for c in stored if c.pk_position), key=lambda c: c.pk_position)
        order = keys + [c for c in stored if not c.pk_position]
        alias = None
    else:
        order = stored
        keys = [c for c in stored if c.pk_position]
        single = keys[0] if len(keys) == 1 else None
        is_alias = single is not None and single.declared_type.strip().upper() == "INTEGER"
        alias = order.index(single) if is_alias and single is not None else None
    position = {c.name: i for i, c in enumerate(order)}
    shape = Shape(
        name=table.name,
        columns=tuple(c.name for c in order),
        affinities=tuple(affinity(c.declared_type) for c in order),
        not_null=tuple(c.not_null for c in order),
        alias=alias,
        index_btree=table.without_rowid,
        strict=table.strict,
        display=tuple(position[c.name] for c in stored),
        dropped=dropped,
    )
    return replace(shape, older=_older_layouts(shape, order))


#: Said of a value a record predates (its column was added since): it is the column's default.
DEFAULTED_TIP = "not stored in the record: the column was added since (ALTER TABLE ADD COLUMN); its default"
#: How much less likely a record of an older (shorter) layout is than one of the table's own.
_OLDER_PRIOR = 0.9


def _older_layouts(shape: Shape, order: list[Column]) -> tuple[Shape, ...]:
    """The layouts of records written before trailing columns were added by ALTER TABLE ADD COLUMN.

    SQLite reads such a short record with the missing columns at their defaults. Only a trailing run of
    columns that ADD COLUMN could have added counts (no key, not NOT NULL without a default, not stored
    generated); records must still hold every column before it, the key and two more values.
    """
    addable = 0
    for column in reversed(order):
        if column.pk_position or column.hidden or (column.not_null and column.default is None):
            break
        addable += 1
    count = len(order)
    keys = shape.alias + 1 if shape.alias is not None else sum(1 for c in order if c.pk_position)
    shortest = max(count - addable, keys + 2, 2)  # two values past the key: fewer fit noise too easily
    layouts = []
    for kept in range(count - 1, shortest - 1, -1):
        layouts.append(
            replace(
                shape,
                columns=shape.columns[:kept],
                affinities=shape.affinities[:kept],
                not_null=shape.not_null[:kept],
                added=shape.columns[kept:],
                added_defaults=tuple(
                    default_value(c.default, shape.affinities[kept + i]) for i, c in enumerate(order[kept:])
                ),
                prior=_OLDER_PRIOR,
            )
        )
    return tuple(layouts)


_INTEGER = re.compile(r"[+-]?\d+")
_REAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BLOB = re.compile(r"[xX]'((?:[0-9a-fA-F]{2})*)'")


def default_value(text: str | None, affinity: Affinity) -> object:
    """What a column's DEFAULT (as the catalog reads it) reads as: a literal with the column's
    affinity applied; `LOST` for anything but a literal (ADD COLUMN allows only literals)."""
    if text is None or text.upper() == "NULL":
        return None
    if text.upper() in ("TRUE", "FALSE"):
        truth = int(text.upper() == "TRUE")  # stays a number even in a TEXT column
        return float(truth) if affinity is Affinity.REAL else truth
    if match := _BLOB.fullmatch(text):
        return bytes.fromhex(match.group(1))
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return _with_affinity(text[1:-1].replace("''", "'"), affinity)
    if _INTEGER.fullmatch(text) or _REAL.fullmatch(text):
        # A number literal takes NUMERIC affinity first (an integral real becomes an integer).
        if affinity is Affinity.TEXT and not _INTEGER.fullmatch(text):
            return text if text[0] != "+" else LOST  # a real literal reads as written
        number = int(text) if _INTEGER.fullmatch(text) else float(text)
        return _with_affinity(_numeric(number), affinity)
    return LOST


def _numeric(number: float) -> int | float:
    if isinstance(number, float):
        return int(number) if number.is_integer() and abs(number) < 2**63 else number
    return number if -(2**63) <= number < 2**63 else float(number)


def _with_affinity(value: object, affinity: Affinity) -> object:
    if isinstance(value, str) and affinity in (Affinity.INTEGER, Affinity.REAL, Affinity.NUMERIC):
        stripped = value.strip()
        if _INTEGER.fullmatch(stripped) or _REAL.fullmatch(stripped):
            value = _numeric(int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped))
        else:
            return value
    if isinstance(value, int) and affinity is Affinity.REAL:
        return float(value)
    if isinstance(value, int | float) and affinity is Affinity.TEXT:
        return str(value) if isinstance(value, int) else LOST  # SQLite's float text ("%!.15g") differs
    return value


def index_shape(index: Index, table: Table) -> Shape | None:
    """The record layout of an index on a rowid table (its columns, then the rowid)."""
    if table.without_rowid or not table.has_rowid or any(c is None for c in index.columns):
        return None
    columns = [table.column(c) for c in index.columns if c is not None]
    if any(c is None for c in columns):
        return None
    names = (*tuple(c.name for c in columns if c is not None), "rowid")
    affinities = (*tuple(affinity_of(c.declared_type) for c in columns if c is not None), Affinity.INTEGER)
    return Shape(
        name=index.name,
        columns=names,
        affinities=affinities,
        not_null=(False,) * (len(names) - 1) + (True,),
        alias=None,
        index_btree=True,
        is_index=True,
    )


def shapes_of(catalog: Catalog) -> list[Shape]:
    """Every table's and index's record layout in the catalog (the candidates records are matched to)."""
    shapes = [s for t in catalog.tables if (s := table_shape(t)) is not None]
    by_name = {t.name: t for t in catalog.tables}
    for index in catalog.indexes:
        table = by_name.get(index.table)
        if table is not None and (s := index_shape(index, table)) is not None:
            shapes.append(s)
    return shapes


#: The schema table's own layout: type, name, tbl_name, rootpage, sql.
SCHEMA_SHAPE = Shape(
    name=SCHEMA_TABLE,
    columns=("type", "name", "tbl_name", "rootpage", "sql"),
    affinities=(Affinity.TEXT, Affinity.TEXT, Affinity.TEXT, Affinity.INTEGER, Affinity.TEXT),
    not_null=(False,) * 5,
    alias=None,
    index_btree=False,
    is_index=True,  # its rows are schema, not user rows: matched to learn dropped tables
    hints=((23, 21, 27),),  # 'table'/'index', 'view', 'trigger'
)
