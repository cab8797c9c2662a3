"""Tools of compiled ecosystems: goose (Go), Diesel and sqlx (Rust), Entity Framework Core (.NET)."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.core.migrations.checksums import sqlx_checksum
from desktop_app.core.migrations.common import failed_warning, highest, numeric_key, read_history
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import (
    dirs_matching,
    files_matching,
    locate,
    nothing_found,
    read_bytes,
    set_difference,
)
from desktop_app.core.migrations.spec import (
    FolderOptions,
    ReadContext,
    ToolSpec,
    columns,
    new_status,
    related_present,
)
from desktop_app.core.migrations.tables import TableShape, flag, stream_rows, text
from desktop_app.core.migrations.times import parse_time

_GOOSE_FILE = re.compile(r"(\d+)_(.+)\.(sql|go)")
_DIESEL_DIR = re.compile(r"([^_]+)_(.*)")
_SQLX_FILE = re.compile(r"(\d+)_(.*?)(\.up|\.down)?\.sql")
_EF_FILE = re.compile(r"(\d{14}_\w+)\.cs")

# --- goose -------------------------------------------------------------------------------------------------


def _read_goose(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("goose", "goose", shape)

    def make(row: dict) -> AppliedMigration:
        applied = flag(row["is_applied"])
        return AppliedMigration(
            id=text(row["version_id"]) or "",
            applied_at=parse_time(row["tstamp"]),
            success=None,
            rolled_back=applied is False,
            extra={"row_id": row["id"]},
        )

    rows = read_history(ctx, shape, ["id", "version_id", "is_applied", "tstamp"], make, order_by=["id"])
    # goose writes a version-0 row when it creates the table; it is not a migration.
    status.history = [row for row in rows if numeric_key(row.id) != "0"]
    applied = _goose_applied(status.history)
    status.current_version = highest(row.id for row in applied) or "0"
    rolled_back = sorted({row.id for row in status.history if row.rolled_back} - {row.id for row in applied})
    if rolled_back:
        status.warnings.append(f"Rolled back (goose down): {', '.join(rolled_back)}")
    return status


def _goose_applied(history: list[AppliedMigration]) -> list[AppliedMigration]:
    """The newest row of each version decides whether it is applied."""
    newest: dict[str, AppliedMigration] = {}
    for row in history:
        newest[numeric_key(row.id)] = row
    return [row for row in newest.values() if not row.rolled_back]


def _compare_goose(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations", "db/migrations")
    found = files_matching(where, _GOOSE_FILE)
    if not found:
        return nothing_found(where, "goose", "N_desc.sql or .go")
    disk = [DiskMigration(id=m[1], name=m[2], path=str(path)) for path, m in found]
    return set_difference(where, _goose_applied(status.history), disk, key=numeric_key)


# --- Diesel ------------------------------------------------------------------------------------------------


def _read_diesel(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("diesel", "Diesel", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(id=text(row["version"]) or "", applied_at=parse_time(row["run_on"]))

    status.history = read_history(ctx, shape, ["version", "run_on"], make, order_by=["version"])
    status.current_version = highest(row.id for row in status.history)
    return status


def _compare_diesel(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations")
    found = [(path, m) for path, m in dirs_matching(where, _DIESEL_DIR) if (path / "up.sql").is_file()]
    if not found:
        return nothing_found(where, "Diesel", "VERSION_name/up.sql")
    # Diesel's version is the folder name before the first '_', with its dashes removed.
    disk = [
        DiskMigration(id=m[1].replace("-", ""), name=m[2], path=str(path / "up.sql")) for path, m in found
    ]
    return set_difference(where, status.history, disk)


# --- sqlx --------------------------------------------------------------------------------------------------


def _read_sqlx(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("sqlx", "sqlx", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["version"]) or "",
            name=text(row["description"]),
            applied_at=parse_time(row["installed_on"]),
            checksum=text(row["checksum"]),
            success=flag(row["success"]),
            extra={"execution_time_ns": row["execution_time"]},
        )

    wanted = ["version", "description", "installed_on", "success", "checksum", "execution_time"]
    status.history = read_history(ctx, shape, wanted, make, order_by=["version"])
    status.current_version = highest(row.id for row in status.history if row.success is not False)
    status.warnings += failed_warning(status.history, "dirty (partly applied; sqlx refuses to go on)")
    return status


def _compare_sqlx(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations")
    found = [(path, m) for path, m in files_matching(where, _SQLX_FILE) if m[3] != ".down"]
    if not found:
        return nothing_found(where, "sqlx", "VERSION_desc.sql")
    disk = [DiskMigration(id=m[1], name=m[2].replace("_", " "), path=str(path)) for path, m in found]

    def matches(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        content = read_bytes(Path(file.path))
        if content is None or row.checksum is None:
            return None
        computed = sqlx_checksum(content)
        return computed == row.checksum.lower(), computed

    applied = [row for row in status.history if row.success is not False]
    return set_difference(where, applied, disk, key=numeric_key, stored_matches=matches)


# --- Entity Framework Core ---------------------------------------------------------------------------------


def _read_efcore(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("efcore", "Entity Framework Core", shape)

    def make(row: dict) -> AppliedMigration:
        migration_id = text(row["migrationid"]) or ""
        name = migration_id.partition("_")[2] or None
        return AppliedMigration(
            id=migration_id, name=name, extra={"product_version": text(row["productversion"])}
        )

    status.history = read_history(
        ctx, shape, ["migrationid", "productversion"], make, order_by=["migrationid"]
    )
    status.history.sort(key=lambda row: row.id)  # EF Core orders by ordinal comparison of MigrationId
    if status.history:
        status.current_version = status.history[-1].id
        status.details["product_version"] = str(status.history[-1].extra.get("product_version") or "")
    status.related_tables = related_present(ctx, "__EFMigrationsLock")
    if "__efmigrationslock" in ctx.shapes:
        lock = ctx.shapes["__efmigrationslock"]
        if any(True for _ in stream_rows(ctx.conn, lock, list(lock.column_set), limit=1, cancel=ctx.cancel)):
            status.warnings.append("__EFMigrationsLock holds a lock: a migration is running or crashed.")
    return status


def _compare_efcore(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "Migrations", "Data/Migrations")
    found = files_matching(where, _EF_FILE, recursive=True)
    if not found:
        return nothing_found(where, "EF Core", "YYYYMMDDHHMMSS_Name.cs")
    disk = [DiskMigration(id=m[1], name=m[1].partition("_")[2], path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk)


_SQLX_COLUMNS = columns("version", "description", "installed_on", "success", "checksum", "execution_time")

SPECS = (
    ToolSpec(
        "goose",
        "goose",
        "goose_db_version",
        columns("version_id", "is_applied"),
        _read_goose,
        _compare_goose,
    ),
    ToolSpec(
        "diesel",
        "Diesel",
        "__diesel_schema_migrations",
        columns("version", "run_on"),
        _read_diesel,
        _compare_diesel,
        allowed=columns("version", "run_on"),
    ),
    ToolSpec(
        "sqlx",
        "sqlx",
        "_sqlx_migrations",
        _SQLX_COLUMNS,
        _read_sqlx,
        _compare_sqlx,
        allowed=_SQLX_COLUMNS,
    ),
    ToolSpec(
        "efcore",
        "Entity Framework Core",
        "__EFMigrationsHistory",
        columns("MigrationId", "ProductVersion"),
        _read_efcore,
        _compare_efcore,
        related=("__EFMigrationsLock",),
    ),
)
