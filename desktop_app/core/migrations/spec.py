"""What a migration tool looks like (the shape of its table) and how its state is read and compared."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.migrations.model import PendingReport, ToolStatus
from desktop_app.core.migrations.tables import TableShape
from desktop_app.core.progress import CancelToken

#: Opens a new connection to the same snapshot (alembic's own API needs one of its own).
ConnectionFactory = Callable[[], sqlite3.Connection]


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


Reader = Callable[[ReadContext, TableShape], ToolStatus]
Comparer = Callable[[ToolStatus, Path, FolderOptions], PendingReport]
#: Extra test beyond the columns, for shapes generic enough to be an ordinary user table.
Acceptor = Callable[[ReadContext, TableShape], bool]


@dataclass(frozen=True)
class ToolSpec:
    """One migration tool: the columns that identify its table, and how to read and compare it."""

    key: str
    label: str
    default_table: str
    #: Lower-case columns the table must have.
    required: frozenset[str]
    read: Reader
    compare: Comparer | None = None
    #: Lower-case columns the table may have; None = any extra columns allowed.
    allowed: frozenset[str] | None = None
    accepts: Acceptor | None = None
    related: tuple[str, ...] = field(default_factory=tuple)

    def matches(self, ctx: ReadContext, shape: TableShape) -> bool:
        """True when `shape` is this tool's table."""
        columns = shape.column_set
        if not self.required <= columns:
            return False
        if self.allowed is not None and not columns <= self.allowed | self.required:
            return False
        return self.accepts is None or self.accepts(ctx, shape)


def columns(*names: str) -> frozenset[str]:
    """A set of lower-case column names."""
    return frozenset(n.lower() for n in names)


def related_present(ctx: ReadContext, *names: str) -> list[str]:
    """The given companion tables that exist, as named in the database."""
    return [ctx.shapes[n.lower()].name for n in names if n.lower() in ctx.shapes]


def is_default_name(spec_table: str, shape: TableShape) -> bool:
    """True when the table still has the tool's default name."""
    return shape.name.lower() == spec_table.lower()


def new_status(spec_key: str, label: str, shape: TableShape | None) -> ToolStatus:
    """An empty status for a tool found in `shape`."""
    return ToolStatus(tool=spec_key, label=label, table=shape.name if shape else None, current_version=None)
