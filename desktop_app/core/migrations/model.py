"""Plain results of the migration inspection: what each tool recorded and what the folder holds."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        """Return this result as JSON-ready plain data (datetimes as ISO 8601 with offset)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass
class AppliedMigration(_Serialisable):
    """One row of a tool's history: a migration the database says it ran."""

    id: str
    name: str | None = None
    applied_at: datetime | None = None
    batch: int | None = None
    checksum: str | None = None
    #: False when the tool marks the row failed or dirty; None when it keeps no such flag.
    success: bool | None = None
    rolled_back: bool = False
    #: Tool-specific columns worth showing (Django app, Liquibase author, Flyway type...).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DiskMigration(_Serialisable):
    """A migration found in the project's folder."""

    id: str
    name: str | None
    path: str


@dataclass
class ChecksumMismatch(_Serialisable):
    """An applied migration whose file no longer matches the checksum the tool stored."""

    id: str
    path: str
    stored: str
    computed: str


@dataclass
class ReversibleMigration(_Serialisable):
    """An (up, down) pair of the hand-rolled pattern, shown only, never applied."""

    version: int
    name: str | None
    up: str
    down: str | None
    source: str
    applied: bool


@dataclass
class SkippedFile(_Serialisable):
    """A file named like a migration that was not read, and why (not a regular file, too large...)."""

    path: str
    reason: str


@dataclass
class PendingReport(_Serialisable):
    """The folder compared with the history: not yet applied, applied but missing, changed since applied."""

    folder: str
    pending: list[DiskMigration] = field(default_factory=list)
    missing: list[AppliedMigration] = field(default_factory=list)
    checksum_mismatches: list[ChecksumMismatch] = field(default_factory=list)
    #: Alembic: the heads of the revision graph on disk.
    heads: list[str] = field(default_factory=list)
    reversible: list[ReversibleMigration] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: False when the folder holds no file of this tool (nothing was compared).
    compared: bool = True
    #: Files named like a migration that were not read (FIFOs, devices, links leaving the folder, too large).
    skipped: list[SkippedFile] = field(default_factory=list)
    #: Why the folder was not read completely (a limit stopped the walk or a file was too large), else
    #: None; pending, missing and heads may then be incomplete.
    incomplete: str | None = None


@dataclass
class ToolStatus(_Serialisable):
    """One migration tool found in the database: its current version, history and warnings."""

    tool: str
    label: str
    table: str | None
    current_version: str | None
    history: list[AppliedMigration] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Tables the tool keeps beside its main one (locks, metadata, logs).
    related_tables: list[str] = field(default_factory=list)
    #: Side facts worth showing (Rails environment, EF Core product version, Room identity hash...).
    details: dict[str, str] = field(default_factory=dict)
    pending: PendingReport | None = None


@dataclass
class MigrationReport(_Serialisable):
    """Every migration tool found in one database."""

    tools: list[ToolStatus] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """True when at least one migration tool was detected."""
        return bool(self.tools)
