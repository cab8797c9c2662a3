"""Candidate table shapes: how a table's (or index's) records are laid out, from the catalog."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from desktop_app.core.schema.catalog import SCHEMA_TABLE, Catalog, Index, Table, TableKind


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

    def fit(self, position: int, kind: str) -> float:
        """How well a value of storage class `kind` fits the column at record `position` (0: impossible)."""
        if position == self.alias:
            return 1.0 if kind == "null" else 0.0
        if kind == "null":
            return 0.0 if self.not_null[position] else 1.0
        table = _STRICT_FIT if self.strict else _FIT
        return table[self.affinities[position]].get(kind, 0.0)

    def in_table_order(self, values: tuple[object, ...]) -> tuple[object, ...]:
        """Record-order values rearranged into the table's column order."""
        return tuple(values[i] for i in self.display) if self.display else values

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order."""
        return tuple(self.columns[i] for i in self.display) if self.display else self.columns


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
    return Shape(
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
