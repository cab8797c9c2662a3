"""The `schema_migrations` look-alikes: Rails, golang-migrate, dbmate and Ecto."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.core.migrations.common import all_digits, highest, numeric_key, read_history, sample
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import (
    files_matching,
    locate,
    nothing_found,
    set_difference,
    versions_above,
)
from desktop_app.core.migrations.spec import (
    FolderOptions,
    ReadContext,
    ToolSpec,
    columns,
    is_default_name,
    new_status,
    related_present,
)
from desktop_app.core.migrations.tables import TableShape, flag, integer, stream_rows, text
from desktop_app.core.migrations.times import parse_time
from desktop_app.core.schema.catalog import index_names

_RAILS_FILE = re.compile(r"(\d+)_(\w+)\.rb")
_GOLANG_UP_FILE = re.compile(r"(\d+)_(.*)\.up\.(\w+)")
_DBMATE_FILE = re.compile(r"(\d+)_?(.*)\.sql")
_ECTO_FILE = re.compile(r"(\d+)_(\w+)\.exs")
_OLD_RAILS_INDEX = "unique_schema_migrations"


def _integer_affinity(shape: TableShape, column: str) -> bool:
    return "INT" in shape.declared_type(column)


# --- Rails -------------------------------------------------------------------------------------------------


def _accepts_rails(ctx: ReadContext, shape: TableShape) -> bool:
    # Rails 5+ keeps ar_internal_metadata beside the table; older Rails left only its unique index.
    return "ar_internal_metadata" in ctx.shapes or _OLD_RAILS_INDEX in _index_names(ctx, shape)


def _index_names(ctx: ReadContext, shape: TableShape) -> set[str]:
    return {name.lower() for name in index_names(ctx.conn, shape.name)}


def _read_rails(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("rails", "Rails (Active Record)", shape)
    status.related_tables = related_present(ctx, "ar_internal_metadata")
    status.history = _version_rows(ctx, shape)
    status.current_version = highest(row.id for row in status.history)
    meta = ctx.shapes.get("ar_internal_metadata")
    if meta is None:
        status.details["rails"] = "before 5.0 (no ar_internal_metadata)"
        return status
    for row in stream_rows(ctx.conn, meta, ["key", "value"], limit=50, cancel=ctx.cancel):
        if row["key"] is not None:
            status.details[str(row["key"])] = text(row["value"]) or ""
    return status


def _compare_rails(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "db/migrate")
    found = files_matching(where, _RAILS_FILE)
    if not found:
        return nothing_found(where, "Rails", "NNN_name.rb")
    disk = [DiskMigration(id=m[1], name=m[2], path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk, key=numeric_key)


# --- golang-migrate ----------------------------------------------------------------------------------------


def _read_golang_migrate(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("golang-migrate", "golang-migrate", shape)

    def make(row: dict) -> AppliedMigration:
        dirty = flag(row["dirty"])
        return AppliedMigration(id=text(row["version"]) or "", success=None if dirty is None else not dirty)

    status.history = read_history(ctx, shape, ["version", "dirty"], make)
    if status.history:
        status.current_version = status.history[-1].id
    if len(status.history) > 1:
        status.warnings.append(f"golang-migrate keeps exactly one row; this table has {len(status.history)}.")
    for row in status.history:
        if row.success is False:
            status.warnings.append(
                f"Dirty: migration {row.id} failed part-way. Fix the database, then run `migrate force` with "
                "the last version that is really applied."
            )
    return status


def _compare_golang_migrate(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations", "db/migrations")
    found = files_matching(where, _GOLANG_UP_FILE)
    if not found:
        return nothing_found(where, "golang-migrate", "N_title.up.sql")
    disk = [(int(m[1]), DiskMigration(id=m[1], name=m[2], path=str(path))) for path, m in found]
    current = integer(status.current_version)
    stored = [(number, row) for row in status.history if (number := integer(row.id)) is not None]
    return versions_above(where, current, disk, stored)


# --- dbmate ------------------------------------------------------------------------------------------------


def _accepts_dbmate(ctx: ReadContext, shape: TableShape) -> bool:
    if _accepts_rails(ctx, shape) or _looks_hand_rolled(shape):
        return False
    values = sample(ctx, shape, "version")
    return all_digits(values) if values else is_default_name("schema_migrations", shape)


def _looks_hand_rolled(shape: TableShape) -> bool:
    return _integer_affinity(shape, "version") or shape.name.lower() == "schema_version"


def _read_dbmate(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("dbmate", "dbmate", shape)
    status.history = _version_rows(ctx, shape)
    status.current_version = highest(row.id for row in status.history)
    return status


def _compare_dbmate(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "db/migrations")
    found = files_matching(where, _DBMATE_FILE)
    if not found:
        return nothing_found(where, "dbmate", "NNN_name.sql")
    disk = [DiskMigration(id=m[1], name=m[2] or None, path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk, key=numeric_key)


# --- Ecto --------------------------------------------------------------------------------------------------


def _read_ecto(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("ecto", "Ecto", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(id=text(row["version"]) or "", applied_at=parse_time(row["inserted_at"]))

    status.history = read_history(ctx, shape, ["version", "inserted_at"], make, order_by=["version"])
    status.current_version = highest(row.id for row in status.history)
    return status


def _compare_ecto(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "priv/repo/migrations")
    found = files_matching(where, _ECTO_FILE)
    if not found:
        return nothing_found(where, "Ecto", "NNN_name.exs")
    disk = [DiskMigration(id=m[1], name=m[2], path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk, key=numeric_key)


def _version_rows(ctx: ReadContext, shape: TableShape) -> list[AppliedMigration]:
    rows = read_history(ctx, shape, ["version"], lambda row: AppliedMigration(id=text(row["version"]) or ""))
    return sorted(rows, key=lambda row: (len(numeric_key(row.id)), numeric_key(row.id)))


SPECS = (
    ToolSpec(
        "rails",
        "Rails (Active Record)",
        "schema_migrations",
        columns("version"),
        _read_rails,
        _compare_rails,
        allowed=columns("version"),
        accepts=_accepts_rails,
        related=("ar_internal_metadata",),
    ),
    ToolSpec(
        "golang-migrate",
        "golang-migrate",
        "schema_migrations",
        columns("version", "dirty"),
        _read_golang_migrate,
        _compare_golang_migrate,
        allowed=columns("version", "dirty"),
    ),
    ToolSpec(
        "ecto",
        "Ecto",
        "schema_migrations",
        columns("version", "inserted_at"),
        _read_ecto,
        _compare_ecto,
        allowed=columns("version", "inserted_at"),
    ),
    ToolSpec(
        "dbmate",
        "dbmate",
        "schema_migrations",
        columns("version"),
        _read_dbmate,
        _compare_dbmate,
        allowed=columns("version"),
        accepts=_accepts_dbmate,
    ),
)
