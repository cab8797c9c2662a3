"""Python tools: Alembic (table side), Django, yoyo, peewee-migrate, aerich and sqlalchemy-migrate."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from desktop_app.core.migrations.alembic_support import compare_alembic
from desktop_app.core.migrations.common import highest, read_history
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import (
    dirs_matching,
    files_matching,
    locate,
    nothing_found,
    read_bytes,
    set_difference,
    versions_above,
)
from desktop_app.core.migrations.spec import (
    FolderOptions,
    ReadContext,
    ToolSpec,
    columns,
    new_status,
    related_present,
)
from desktop_app.core.migrations.tables import TableShape, integer, stream_rows, text
from desktop_app.core.migrations.times import parse_time

_DJANGO_FILE = re.compile(r"[^_~][\w]*\.py")
_YOYO_FILE = re.compile(r"(?!post-apply)(?!__)(.+?)(\.rollback)?\.(py|sql)")
_PEEWEE_FILE = re.compile(r"(\d{3}_[^.]+)\.py")
_AERICH_FILE = re.compile(r"(\d+)_.+\.(py|sql|json)")
_ANY_DIR = re.compile(r"[^._].*")
_NUMBERED_FILE = re.compile(r"(\d+)_.*\.(py|sql)")

# --- Alembic (what the table holds; the folder side is in alembic_support) ---------------------------------


def _read_alembic(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("alembic", "Alembic", shape)
    status.history = read_history(
        ctx, shape, ["version_num"], lambda r: AppliedMigration(id=text(r["version_num"]) or "")
    )
    heads = [row.id for row in status.history]
    status.current_version = ", ".join(heads) if heads else None
    if len(heads) > 1:
        status.warnings.append(
            f"{len(heads)} heads stored ({', '.join(heads)}): unmerged branches; `alembic merge` joins them."
        )
    if not heads:
        status.warnings.append("The version table is empty: no revision applied (or all were downgraded).")
    return status


# --- Django ------------------------------------------------------------------------------------------------


def _read_django(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("django", "Django", shape)

    def make(row: dict) -> AppliedMigration:
        app, name = text(row["app"]) or "", text(row["name"]) or ""
        return AppliedMigration(
            id=f"{app}.{name}",
            name=name,
            applied_at=parse_time(row["applied"]),
            extra={"app": app, "row_id": row["id"]},
        )

    status.history = read_history(ctx, shape, ["id", "app", "name", "applied"], make, order_by=["id"])
    if status.history:
        status.current_version = status.history[-1].id
    for row in status.history:
        status.details[f"latest in {row.extra['app']}"] = row.name or ""
    return status


def _compare_django(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    found = [
        (path, app)
        for path, _m in files_matching(folder, _DJANGO_FILE, recursive=True)
        if path.parent.name == "migrations"
        and (path.parent / "__init__.py").is_file()
        and (app := path.parent.parent.name)
    ]
    if not found:
        return nothing_found(folder, "Django", "<app>/migrations/NNNN_name.py")
    apps = {app for _path, app in found}
    disk = [DiskMigration(id=f"{app}.{path.stem}", name=path.stem, path=str(path)) for path, app in found]
    disk_ids = {item.id for item in disk}
    # Built-in apps (auth, admin...) live in site-packages: compare only the apps found in this folder.
    applied = [row for row in status.history if row.extra["app"] in apps]
    applied_ids = {row.id for row in applied}
    squashes = {
        item.id: [f"{r_app}.{r_name}" for r_app, r_name in _django_replaces(path)]
        for item, (path, _a) in zip(disk, found, strict=True)
    }
    squashes = {squashed: replaced for squashed, replaced in squashes.items() if replaced}
    replaced_by = {r: squashed for squashed, replaced in squashes.items() for r in replaced}
    report = PendingReport(folder=str(folder))
    for item in disk:
        if item.id not in applied_ids and not _django_covered(
            item.id, squashes, replaced_by, applied_ids, disk_ids
        ):
            report.pending.append(item)
    # A replaced migration whose file was deleted after squashing is not missing.
    report.missing = [row for row in applied if row.id not in disk_ids and row.id not in replaced_by]
    return report


def _django_covered(
    ident: str, squashes: dict[str, list[str]], replaced_by: dict[str, str], applied: set[str], disk: set[str]
) -> bool:
    """True when squashing makes an unrecorded migration not pending (Django's own rules)."""
    replaced = squashes.get(ident)
    if replaced:
        done = [r for r in replaced if r in applied]
        # All replaced applied: the squashed one counts as applied. Part applied with the old files still
        # present: Django runs the remaining old ones instead.
        return len(done) == len(replaced) or (bool(done) and any(r in disk for r in replaced))
    squashed = replaced_by.get(ident)
    if squashed is not None and squashed in disk:
        # None of the replaced applied yet: Django runs the squashed migration instead of this one.
        return not any(r in applied for r in squashes[squashed])
    return False


def _django_replaces(path: Path) -> list[tuple[str, str]]:
    """The `replaces` list of a squashed migration, read with ast (nothing is executed)."""
    tree = _parse(path)
    if tree is None:
        return []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for statement in node.body:
                value = _assigned_value(statement, "replaces")
                if value is not None:
                    try:
                        pairs = ast.literal_eval(value)
                    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                        return []
                    if not isinstance(pairs, list | tuple):
                        return []
                    return [
                        (pair[0], pair[1])
                        for pair in pairs
                        if isinstance(pair, tuple | list)
                        and len(pair) == 2
                        and all(isinstance(part, str) for part in pair)
                    ]
    return []


def _assigned_value(statement: ast.stmt, name: str) -> ast.expr | None:
    if isinstance(statement, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in statement.targets
    ):
        return statement.value
    if (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == name
    ):
        return statement.value
    return None


def _parse(path: Path) -> ast.Module | None:
    content = read_bytes(path)
    if content is None:
        return None
    try:
        return ast.parse(content, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# --- yoyo --------------------------------------------------------------------------------------------------


def _read_yoyo(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("yoyo", "yoyo-migrations", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["migration_id"]) or "",
            applied_at=parse_time(row["applied_at_utc"]),
            extra={"migration_hash": text(row["migration_hash"])},
        )

    wanted = ["migration_hash", "migration_id", "applied_at_utc"]
    status.history = read_history(ctx, shape, wanted, make, order_by=["applied_at_utc"])
    if status.history:
        status.current_version = status.history[-1].id
    status.related_tables = related_present(ctx, "_yoyo_log", "_yoyo_version", "yoyo_lock")
    log = ctx.shapes.get("_yoyo_log")
    if log is not None and {"operation", "migration_id"} <= log.column_set:
        rows = stream_rows(ctx.conn, log, ["operation", "migration_id"], cancel=ctx.cancel)
        rolled_back = [text(r["migration_id"]) or "?" for r in rows if text(r["operation"]) == "rollback"]
        if rolled_back:
            status.warnings.append(f"Rolled back (per _yoyo_log): {', '.join(rolled_back)}")
    lock = ctx.shapes.get("yoyo_lock")
    if lock is not None and any(True for _ in stream_rows(ctx.conn, lock, list(lock.column_set), limit=1)):
        status.warnings.append("yoyo_lock is held: a migration is running or crashed.")
    return status


def _compare_yoyo(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    found = [(path, m) for path, m in files_matching(folder, _YOYO_FILE) if not m[2]]
    if not found:
        return nothing_found(folder, "yoyo", "*.py or *.sql")
    disk = [DiskMigration(id=m[1], name=m[1], path=str(path)) for path, m in found]
    return set_difference(folder, status.history, disk)


# --- peewee-migrate ----------------------------------------------------------------------------------------


def _read_peewee(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("peewee-migrate", "peewee-migrate", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["name"]) or "", applied_at=parse_time(row["migrated_at"]), extra={"row_id": row["id"]}
        )

    status.history = read_history(ctx, shape, ["id", "name", "migrated_at"], make, order_by=["id"])
    if status.history:
        status.current_version = status.history[-1].id
    return status


def _compare_peewee(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations")
    found = files_matching(where, _PEEWEE_FILE)
    if not found:
        return nothing_found(where, "peewee-migrate", "NNN_name.py")
    disk = [DiskMigration(id=m[1], name=m[1], path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk)


# --- aerich ------------------------------------------------------------------------------------------------


def _read_aerich(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("aerich", "aerich (Tortoise ORM)", shape)

    def make(row: dict) -> AppliedMigration:
        app = text(row["app"]) or ""
        return AppliedMigration(
            id=f"{app}/{text(row['version']) or ''}", name=text(row["version"]), extra={"app": app}
        )

    status.history = read_history(ctx, shape, ["id", "version", "app"], make, order_by=["id"])
    if status.history:
        status.current_version = status.history[-1].id
    for row in status.history:
        status.details[f"latest in {row.extra['app']}"] = row.name or ""
    return status


def _compare_aerich(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations")
    disk = [
        DiskMigration(id=f"{app_dir.name}/{path.name}", name=path.name, path=str(path))
        for app_dir, _m in dirs_matching(where, _ANY_DIR)
        for path, _f in files_matching(app_dir, _AERICH_FILE)
    ]
    key = None
    if not disk:  # the user pointed at one app's folder: match on the file name alone
        disk = [
            DiskMigration(id=path.name, name=path.name, path=str(path))
            for path, _m in files_matching(where, _AERICH_FILE)
        ]
        key = _file_part
    if not disk:
        return nothing_found(where, "aerich", "<app>/<n>_<timestamp>_<name>.py")
    if key is None:
        return set_difference(where, status.history, disk)
    return set_difference(where, status.history, disk, key=key)


def _file_part(ident: str) -> str:
    return ident.rpartition("/")[2]


# --- sqlalchemy-migrate ------------------------------------------------------------------------------------


def _read_sqlalchemy_migrate(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("sqlalchemy-migrate", "sqlalchemy-migrate", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["version"]) or "",
            name=text(row["repository_id"]),
            extra={"repository_path": text(row["repository_path"])},
        )

    status.history = read_history(ctx, shape, ["repository_id", "repository_path", "version"], make)
    status.current_version = highest(row.id for row in status.history)
    if len(status.history) > 1:
        status.warnings.append(
            f"{len(status.history)} repositories share this table; versions are per repository."
        )
    return status


def _compare_sqlalchemy_migrate(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "versions")
    found = files_matching(where, _NUMBERED_FILE)
    if not found:
        return nothing_found(where, "sqlalchemy-migrate", "versions/NNN_name.py")
    disk = [
        (int(m[1]), DiskMigration(id=str(int(m[1])), name=path.stem, path=str(path))) for path, m in found
    ]
    current = integer(status.current_version)
    stored = [(current, row) for row in status.history[-1:] if current]
    return versions_above(where, current, disk, stored)


SPECS = (
    ToolSpec(
        "alembic",
        "Alembic",
        "alembic_version",
        columns("version_num"),
        _read_alembic,
        compare_alembic,
        allowed=columns("version_num"),
    ),
    ToolSpec(
        "django",
        "Django",
        "django_migrations",
        columns("app", "name", "applied"),
        _read_django,
        _compare_django,
        allowed=columns("id", "app", "name", "applied"),
    ),
    ToolSpec(
        "yoyo",
        "yoyo-migrations",
        "_yoyo_migration",
        columns("migration_hash", "migration_id", "applied_at_utc"),
        _read_yoyo,
        _compare_yoyo,
        related=("_yoyo_log", "_yoyo_version", "yoyo_lock"),
    ),
    ToolSpec(
        "peewee-migrate",
        "peewee-migrate",
        "migratehistory",
        columns("id", "name", "migrated_at"),
        _read_peewee,
        _compare_peewee,
        allowed=columns("id", "name", "migrated_at"),
    ),
    ToolSpec(
        "aerich",
        "aerich (Tortoise ORM)",
        "aerich",
        columns("id", "version", "app", "content"),
        _read_aerich,
        _compare_aerich,
        allowed=columns("id", "version", "app", "content"),
    ),
    ToolSpec(
        "sqlalchemy-migrate",
        "sqlalchemy-migrate",
        "migrate_version",
        columns("repository_id", "repository_path", "version"),
        _read_sqlalchemy_migrate,
        _compare_sqlalchemy_migrate,
        allowed=columns("repository_id", "repository_path", "version"),
    ),
)
