"""What a migration tool is, as data: its table's shape, what each column means, where its files are.

A `ToolSpec` names a *family* reader (how its kind of tracking table is read) and, for the history
family, the role of each column (`Roles`); `Files` says where the project keeps the tool's migrations
and how a file name gives a migration's id. The table of every tool is in `tools`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.migrations.checksums import Checksum
from desktop_app.core.migrations.model import AppliedMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.tables import TableShape, flag, integer, text
from desktop_app.core.migrations.times import parse_time
from desktop_app.core.progress import CancelToken

#: Opens a new connection to the same snapshot (alembic's own API needs one of its own).
ConnectionFactory = Callable[[], sqlite3.Connection]
#: One row of a tracking table, keyed by lower-cased column name.
Row = dict[str, Any]


@dataclass(frozen=True)
class FolderOptions:
    """How far the folder comparison may go."""

    #: Let alembic import (and so execute) the revision files; off by default for untrusted folders.
    allow_import: bool = False
    connect: ConnectionFactory | None = None


@dataclass(frozen=True)
class ReadContext:
    """What a reader may look at besides its own table."""

    conn: sqlite3.Connection
    shapes: dict[str, TableShape]
    cancel: CancelToken | None = None


@dataclass(frozen=True)
class Cell:
    """A column read through a conversion (text, time, whole number...), for `Roles.extra`."""

    column: str
    convert: Callable[[Any], Any]

    def __call__(self, row: Row) -> Any:
        return self.convert(row[self.column])


def as_text(column: str) -> Cell:
    """The column as text (None stays None)."""
    return Cell(column, text)


def as_str(column: str) -> Cell:
    """The column as text, '' for NULL."""
    return Cell(column, lambda value: text(value) or "")


def as_time(column: str) -> Cell:
    """The column as an aware datetime (ISO text or Unix seconds/milliseconds: see `parse_time`)."""
    return Cell(column, parse_time)


def as_int(column: str) -> Cell:
    """The column as a whole number, None when it is not one."""
    return Cell(column, integer)


#: A role's source: a column name (converted as the role wants), a `Cell`, or a rule over the row.
Source = str | Cell | Callable[[Row], Any]


@dataclass(frozen=True)
class Roles:
    """What the columns of a one-row-per-migration table mean.

    A role given as a column name is converted for its role: id and name as text, applied_at as a
    time, success as a stored boolean, batch as a whole number. `id` may also be a template of
    columns (`"{app}.{name}"`). Extra values given as a bare column name are kept as stored.
    """

    id: Source
    name: Source | None = None
    applied_at: Source | None = None
    #: Kept beside the roles, under these keys (Django's app, Flyway's type...).
    extra: Mapping[str, Source] = field(default_factory=dict)
    checksum: str | None = None
    success: Source | None = None
    batch: str | None = None
    rolled_back: Callable[[Row], bool] | None = None
    order_by: tuple[str, ...] = ()
    #: Columns the rules (plain callables) read beyond those named above.
    reads: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Rows are keyed by lower-cased column names (SQLite's are case-insensitive).
        upper = [name for name in [*self.columns, *self.order_by] if name != name.lower()]
        if upper:
            raise ValueError(f"Roles name columns in lower case: {upper}")

    @property
    def columns(self) -> list[str]:
        """Every column the roles read, in a stable order."""
        named: list[str] = [*self.reads]
        for source in (self.id, self.name, self.applied_at, self.checksum, self.success, self.batch):
            named += _columns_of(source)
        for source in self.extra.values():
            named += _columns_of(source)
        return list(dict.fromkeys(named))

    def make(self, row: Row) -> AppliedMigration:
        """The history row for one table row."""
        return AppliedMigration(
            id=_id(self.id, row),
            name=_value(self.name, row, text),
            applied_at=_value(self.applied_at, row, parse_time),
            batch=_value(self.batch, row, integer),
            checksum=_value(self.checksum, row, text),
            success=_value(self.success, row, flag),
            rolled_back=bool(self.rolled_back(row)) if self.rolled_back else False,
            extra={key: _value(source, row, lambda value: value) for key, source in self.extra.items()},
        )


_TEMPLATE_FIELD = re.compile(r"\{(\w+)\}")


def _columns_of(source: Source | None) -> list[str]:
    if isinstance(source, Cell):
        return [source.column]
    if isinstance(source, str):
        return _TEMPLATE_FIELD.findall(source) or [source]
    return []


def _id(source: Source, row: Row) -> str:
    if isinstance(source, str) and "{" in source:
        return _TEMPLATE_FIELD.sub(lambda m: text(row[m[1]]) or "", source)
    return str(_value(source, row, lambda value: text(value) or ""))


def _value(source: Source | None, row: Row, convert: Callable[[Any], Any]) -> Any:
    if source is None:
        return None
    if isinstance(source, str):
        return convert(row[source])
    return source(row)


#: How a file name gives a migration's id or name: a group of the pattern, or a rule.
Naming = int | Callable[[Path, re.Match[str]], str | None]


@dataclass(frozen=True)
class Files:
    """Where a tool keeps its migrations in the project, and how their names read."""

    #: The file name (or, with `inside`, the folder name) of one migration, matched in full; None for
    #: tools whose own comparison finds them (Drizzle's journal).
    pattern: re.Pattern[str] | None
    #: Said when the folder holds none: "No <label> migrations (<looked_for>) in <folder>."
    label: str
    looked_for: str
    #: The tool's usual sub-folders, first found wins (else the folder given).
    places: tuple[str, ...] = ()
    id: Naming = 1
    name: Naming | None = 2
    #: A group that, when set, marks a file to leave out (rollback and down scripts).
    skip: int | None = None
    recursive: bool = False
    #: Each migration is a folder holding this file (Prisma's migration.sql, Diesel's up.sql).
    inside: str | None = None
    #: Turns an id into what is compared (numbers without leading zeros...).
    key: Callable[[str], str] = str
    checksum: Checksum | None = None


Reader = Callable[["ToolSpec", ReadContext, TableShape | None], ToolStatus]
Comparer = Callable[["ToolSpec", ToolStatus, Path, FolderOptions], PendingReport]
#: Extra test beyond the columns, for shapes generic enough to be an ordinary user table.
Acceptor = Callable[["ToolSpec", ReadContext, TableShape], bool]
#: Tool-specific facts read after the history (companion tables, warnings only this tool gives).
Inspector = Callable[[ReadContext, TableShape, ToolStatus], None]
History = list[AppliedMigration]


@dataclass(frozen=True)
class Lock:
    """A companion table whose rows say a migration is running (or crashed while running)."""

    #: Its name; `{table}` stands for the tracking table's own name.
    table: str
    #: Said when it is held; `{lock}` is the lock table's name, `{holders}` who holds it.
    message: str
    #: A boolean column that marks a held row; None: any row means held.
    held: str | None = None
    holder: str | None = None


def last(rows: History) -> str | None:
    """The id of the last row (tables kept in the order the tool ran them)."""
    return rows[-1].id if rows else None


@dataclass(frozen=True)
class ToolSpec:
    """One migration tool, as data: the shape of its table, how it is read, and its files."""

    key: str
    label: str
    #: The reader of its family of tracking table (see `readers`).
    read: Reader
    #: Lower-case columns the table must have.
    required: frozenset[str]
    #: Lower-case columns the table may have; None = any extra columns allowed.
    allowed: frozenset[str] | None = None
    accepts: Acceptor | None = None
    #: An empty table with only generic columns is taken for this tool only under this name.
    empty_as: str | None = None
    roles: Roles | None = None
    #: Drops rows that are no migration (goose's version-0 row at creation).
    keep: Callable[[AppliedMigration], bool] | None = None
    #: Re-orders the history the way the tool itself orders it.
    sort: Callable[[AppliedMigration], Any] | None = None
    #: The rows still in force (not failed, rolled back or undone): the current version and the folder
    #: comparison look at these.
    in_force: Callable[[History], History] = list
    current: Callable[[History], str | None] = last
    #: Words of the warning naming failed or dirty rows.
    failed: str | None = None
    #: Warning when the table has more than one row (`{n}`: how many).
    many_rows: str | None = None
    #: Details "latest in <value>" per value of this extra column (Django and aerich apps).
    latest_per: str | None = None
    #: A detail taken from the last row: `batch` or an extra column.
    last_detail: str | None = None
    inspect: Inspector | None = None
    related: tuple[str, ...] = ()
    lock: Lock | None = None
    files: Files | None = None
    #: The folder comparison; None with `files` = pending and missing by set difference.
    compare: Comparer | None = None

    def matches(self, ctx: ReadContext, shape: TableShape) -> bool:
        """True when `shape` is this tool's table."""
        columns = shape.column_set
        if not self.required <= columns:
            return False
        if self.allowed is not None and not columns <= self.allowed | self.required:
            return False
        return self.accepts is None or self.accepts(self, ctx, shape)


def columns(*names: str) -> frozenset[str]:
    """A set of lower-case column names."""
    return frozenset(n.lower() for n in names)


def related_present(ctx: ReadContext, *names: str) -> list[str]:
    """The given companion tables that exist, as named in the database."""
    return [ctx.shapes[n.lower()].name for n in names if n.lower() in ctx.shapes]


def new_status(spec: ToolSpec, shape: TableShape | None) -> ToolStatus:
    """An empty status for a tool found in `shape`."""
    return ToolStatus(
        tool=spec.key, label=spec.label, table=shape.name if shape else None, current_version=None
    )
