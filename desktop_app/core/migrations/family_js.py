"""JavaScript/TypeScript tools: Prisma, Knex, Sequelize (umzug), TypeORM and Drizzle."""

from __future__ import annotations

import json
import re
from pathlib import Path

from desktop_app.core.migrations.checksums import prisma_checksum, prisma_checksum_matches, sha256_hex
from desktop_app.core.migrations.common import failed_warning, highest, numeric_key, read_history, sample
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
    Comparer,
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

_ANY_DIR = re.compile(r".+")
_KNEX_FILE = re.compile(r"(?!.*\.d\.ts\Z).+\.(js|ts|cjs|mjs|coffee)")
_SEQUELIZE_FILE = re.compile(r"(?!.*\.d\.ts\Z).+\.(js|cjs|mjs|ts)")
_SEQUELIZE_NAME = re.compile(r".+\.(js|cjs|mjs|ts)", re.IGNORECASE)
_TYPEORM_FILE = re.compile(r"(\d+)-(\w+)\.(ts|js)")
_TYPEORM_CLASS = re.compile(r"class\s+(\w+)\s+implements\s+MigrationInterface")
_HEX_64 = re.compile(r"[0-9a-fA-F]{64}")

# --- Prisma ------------------------------------------------------------------------------------------------


def _read_prisma(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("prisma", "Prisma", shape)

    def make(row: dict) -> AppliedMigration:
        finished = parse_time(row["finished_at"])
        rolled_back = row["rolled_back_at"] is not None
        return AppliedMigration(
            id=text(row["migration_name"]) or "",
            applied_at=finished or parse_time(row["started_at"]),
            checksum=text(row["checksum"]),
            # Prisma: neither finished nor rolled back = failed.
            success=finished is not None or rolled_back,
            rolled_back=rolled_back,
            extra={
                "row_id": text(row["id"]),
                "started_at": parse_time(row["started_at"]),
                "applied_steps_count": row["applied_steps_count"],
                "logs": text(row["logs"]),
            },
        )

    wanted = ["id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at"]
    wanted.append("applied_steps_count")
    status.history = read_history(ctx, shape, wanted, make, order_by=["started_at"])
    applied = _prisma_applied(status.history)
    status.current_version = applied[-1].id if applied else None
    status.warnings += failed_warning(status.history, "failed (run `prisma migrate resolve` once fixed)")
    rolled_back = [row.id for row in status.history if row.rolled_back]
    if rolled_back:
        status.warnings.append(f"Rolled back: {', '.join(rolled_back)}")
    return status


def _prisma_applied(history: list[AppliedMigration]) -> list[AppliedMigration]:
    return [row for row in history if row.success and not row.rolled_back]


def _compare_prisma(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "prisma/migrations", "migrations")
    found = [path for path, _m in dirs_matching(where, _ANY_DIR) if (path / "migration.sql").is_file()]
    if not found:
        return nothing_found(where, "Prisma", "<timestamp>_<name>/migration.sql")
    disk = [
        DiskMigration(id=p.name, name=p.name.partition("_")[2] or None, path=str(p / "migration.sql"))
        for p in found
    ]

    def matches(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        content = read_bytes(Path(file.path))
        if content is None or row.checksum is None:
            return None
        return prisma_checksum_matches(content, row.checksum), prisma_checksum(content)

    return set_difference(where, _prisma_applied(status.history), disk, stored_matches=matches)


# --- Knex --------------------------------------------------------------------------------------------------


def _read_knex(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("knex", "Knex", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["name"]) or "",
            applied_at=parse_time(row["migration_time"]),
            batch=integer(row["batch"]),
            extra={"row_id": row["id"]},
        )

    status.history = read_history(
        ctx, shape, ["id", "name", "batch", "migration_time"], make, order_by=["id"]
    )
    status.history.sort(key=lambda row: (row.batch or 0, row.extra["row_id"] or 0))
    if status.history:
        status.current_version = status.history[-1].id
        status.details["batch"] = str(status.history[-1].batch)
    lock_name = f"{shape.name}_lock"
    status.related_tables = related_present(ctx, lock_name)
    lock = ctx.shapes.get(lock_name.lower())
    if lock is not None and "is_locked" in lock.columns:
        locked = [flag(r["is_locked"]) for r in stream_rows(ctx.conn, lock, ["is_locked"], cancel=ctx.cancel)]
        if any(locked):
            status.warnings.append(f"{lock.name} is locked: a migration is running or crashed.")
    return status


def _compare_by_file_name(label: str, pattern: re.Pattern[str]) -> Comparer:
    """Tools whose table stores the migration's file name (Knex, Sequelize)."""

    def compare(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
        where = locate(folder, "migrations")
        found = files_matching(where, pattern)
        if not found:
            return nothing_found(where, label, "migration scripts")
        disk = [DiskMigration(id=path.name, name=path.stem, path=str(path)) for path, _m in found]
        return set_difference(where, status.history, disk)

    return compare


# --- Sequelize ---------------------------------------------------------------------------------------------


def _accepts_sequelize(ctx: ReadContext, shape: TableShape) -> bool:
    values = sample(ctx, shape, "name")
    if not values:
        return is_default_name("SequelizeMeta", shape)
    return all(isinstance(v, str) and _SEQUELIZE_NAME.fullmatch(v.strip()) for v in values)


def _read_sequelize(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("sequelize", "Sequelize (umzug)", shape)
    status.history = read_history(
        ctx, shape, ["name"], lambda row: AppliedMigration(id=text(row["name"]) or "")
    )
    status.current_version = highest(row.id for row in status.history)
    return status


# --- TypeORM -----------------------------------------------------------------------------------------------


def _read_typeorm(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("typeorm", "TypeORM", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["name"]) or "",
            extra={"row_id": row["id"], "timestamp": integer(row["timestamp"])},
        )

    status.history = read_history(ctx, shape, ["id", "timestamp", "name"], make, order_by=["id"])
    if status.history:
        status.current_version = max(status.history, key=lambda row: row.extra["timestamp"] or 0).id
    return status


def _compare_typeorm(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "src/migrations", "src/migration", "migrations", "migration")
    found = files_matching(where, _TYPEORM_FILE)
    if not found:
        return nothing_found(where, "TypeORM", "<timestamp>-Name.ts")
    disk = []
    for path, m in found:
        content = (read_bytes(path) or b"").decode("utf-8", "replace")
        declared = _TYPEORM_CLASS.search(content)
        class_name = declared[1] if declared else f"{m[2]}{m[1]}"
        disk.append(DiskMigration(id=class_name, name=m[2], path=str(path)))
    return set_difference(where, status.history, disk)


# --- Drizzle -----------------------------------------------------------------------------------------------


def _accepts_drizzle(ctx: ReadContext, shape: TableShape) -> bool:
    values = sample(ctx, shape, "hash")
    if not values:
        return is_default_name("__drizzle_migrations", shape)
    return all(isinstance(v, str) and _HEX_64.fullmatch(v) for v in values)


def _read_drizzle(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("drizzle", "Drizzle", shape)

    def make(row: dict) -> AppliedMigration:
        # created_at is the journal's `when` (when the migration was generated), not when it ran.
        return AppliedMigration(
            id=text(row["created_at"]) or "",
            checksum=text(row["hash"]),
            extra={"row_id": row["id"], "generated_at": parse_time(row["created_at"])},
        )

    status.history = read_history(
        ctx, shape, ["id", "hash", "created_at"], make, order_by=["created_at", "id"]
    )
    status.current_version = highest(row.id for row in status.history)
    return status


def _compare_drizzle(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "drizzle", "migrations")
    journal_path = where / "meta" / "_journal.json"
    entries = _journal_entries(journal_path)
    if entries is None:
        return nothing_found(where, "Drizzle", "meta/_journal.json")
    disk = [
        DiskMigration(id=str(entry["when"]), name=str(entry["tag"]), path=str(where / f"{entry['tag']}.sql"))
        for entry in entries
    ]

    def matches(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        content = read_bytes(Path(file.path))
        if content is None or row.checksum is None:
            return None
        computed = sha256_hex(content)
        return computed == row.checksum.lower(), computed

    report = set_difference(where, status.history, disk, key=numeric_key, stored_matches=matches)
    last = integer(status.current_version)
    skipped = [item.name for item in report.pending if last is not None and (integer(item.id) or 0) <= last]
    if skipped:
        report.notes.append(
            "Drizzle applies only migrations newer than the last one applied; it will skip: "
            + ", ".join(name or "?" for name in skipped)
        )
    return report


def _journal_entries(path: Path) -> list[dict] | None:
    content = read_bytes(path)
    if content is None:
        return None
    try:
        journal = json.loads(content)
    except ValueError:
        return None
    entries = journal.get("entries") if isinstance(journal, dict) else None
    if not isinstance(entries, list):
        return None
    return [e for e in entries if isinstance(e, dict) and "when" in e and "tag" in e]


SPECS = (
    ToolSpec(
        "prisma",
        "Prisma",
        "_prisma_migrations",
        columns("id", "checksum", "finished_at", "migration_name", "started_at"),
        _read_prisma,
        _compare_prisma,
    ),
    ToolSpec(
        "knex",
        "Knex",
        "knex_migrations",
        columns("id", "name", "batch", "migration_time"),
        _read_knex,
        _compare_by_file_name("Knex", _KNEX_FILE),
        allowed=columns("id", "name", "batch", "migration_time"),
        related=("knex_migrations_lock",),
    ),
    ToolSpec(
        "sequelize",
        "Sequelize (umzug)",
        "SequelizeMeta",
        columns("name"),
        _read_sequelize,
        _compare_by_file_name("Sequelize", _SEQUELIZE_FILE),
        allowed=columns("name"),
        accepts=_accepts_sequelize,
    ),
    ToolSpec(
        "typeorm",
        "TypeORM",
        "migrations",
        columns("id", "timestamp", "name"),
        _read_typeorm,
        _compare_typeorm,
        allowed=columns("id", "timestamp", "name"),
    ),
    ToolSpec(
        "drizzle",
        "Drizzle",
        "__drizzle_migrations",
        columns("id", "hash", "created_at"),
        _read_drizzle,
        _compare_drizzle,
        allowed=columns("id", "hash", "created_at"),
        accepts=_accepts_drizzle,
    ),
)
