"""JVM tools: Flyway (≥5 `flyway_schema_history`, ≤4 `schema_version`) and Liquibase."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.core.migrations.checksums import flyway_checksum
from desktop_app.core.migrations.common import failed_warning, read_history
from desktop_app.core.migrations.liquibase_changelog import read_changesets
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import (
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
from desktop_app.core.migrations.tables import TableShape, flag, integer, stream_rows, text
from desktop_app.core.migrations.times import parse_time

_FLYWAY_VERSIONED = re.compile(r"V(\d[\d._]*)__(.+)\.(sql|java|kt)")
_FLYWAY_REPEATABLE = re.compile(r"R__(.+)\.sql")
_FLYWAY_UNDO_TYPES = frozenset({"UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT"})
#: Rows Flyway writes that stand for no migration file.
_FLYWAY_MARKER_TYPES = frozenset({"SCHEMA", "BASELINE", "DELETE"})
_FLYWAY_SPEC_COLUMNS = columns("installed_rank", "version", "script", "checksum", "success")

# --- Flyway ------------------------------------------------------------------------------------------------


def flyway_version_key(version: str) -> tuple[int, ...]:
    """Flyway's version order: parts split on '.' or '_' compared as numbers ('1.10' after '1.9')."""
    return tuple(int(part) for part in re.split(r"[._]", version) if part.isdigit())


def _flyway_label(shape: TableShape) -> str:
    return "Flyway (4 or older)" if "version_rank" in shape.columns else "Flyway"


def _read_flyway(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("flyway", _flyway_label(shape), shape)

    def make(row: dict) -> AppliedMigration:
        version = text(row["version"])
        return AppliedMigration(
            id=version if version is not None else text(row["description"]) or "",
            name=text(row["description"]),
            applied_at=parse_time(row["installed_on"]),
            checksum=text(row["checksum"]),
            success=flag(row["success"]),
            extra={
                "installed_rank": row["installed_rank"],
                "type": text(row["type"]),
                "script": text(row["script"]),
                "installed_by": text(row["installed_by"]),
                "execution_time_ms": row["execution_time"],
                "repeatable": version is None,
            },
        )

    wanted = ["installed_rank", "version", "description", "type", "script", "checksum", "installed_by"]
    wanted += ["installed_on", "execution_time", "success"]
    status.history = read_history(ctx, shape, wanted, make, order_by=["installed_rank"])
    applied = _flyway_versioned_applied(status.history)
    if applied:
        status.current_version = max(applied, key=lambda row: flyway_version_key(row.id)).id
    status.warnings += failed_warning(status.history, "failed (run `flyway repair` once fixed)")
    undone = [row.id for row in status.history if row.extra["type"] in _FLYWAY_UNDO_TYPES]
    if undone:
        status.warnings.append(f"Undone: {', '.join(undone)}")
    return status


def _flyway_versioned_applied(history: list[AppliedMigration]) -> list[AppliedMigration]:
    """Successful versioned rows still in force (a later undo row takes its version back out)."""
    in_force: dict[tuple[int, ...], AppliedMigration] = {}
    for row in history:
        if row.extra["repeatable"] or row.success is False:
            continue
        key = flyway_version_key(row.id)
        if row.extra["type"] in _FLYWAY_UNDO_TYPES:
            in_force.pop(key, None)
        elif row.extra["type"] not in {"SCHEMA", "DELETE"}:
            in_force[key] = row
    return list(in_force.values())


def _compare_flyway(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "src/main/resources/db/migration", "db/migration")
    versioned = files_matching(where, _FLYWAY_VERSIONED, recursive=True)
    repeatable = files_matching(where, _FLYWAY_REPEATABLE, recursive=True)
    if not versioned and not repeatable:
        return nothing_found(where, "Flyway", "V<version>__<desc>.sql, R__<desc>.sql")

    def version_id(raw: str) -> str:
        return ".".join(str(part) for part in flyway_version_key(raw))

    disk = [
        DiskMigration(id=version_id(m[1]), name=m[2].replace("_", " "), path=str(p)) for p, m in versioned
    ]
    applied = [
        row
        for row in _flyway_versioned_applied(status.history)
        if row.extra["type"] not in _FLYWAY_MARKER_TYPES
    ]

    def matches(row: AppliedMigration, file: DiskMigration) -> tuple[bool, str] | None:
        stored = integer(row.checksum)
        content = read_bytes(Path(file.path)) if file.path.endswith(".sql") else None
        if stored is None or content is None:
            return None
        computed = flyway_checksum(content)
        return computed == stored, str(computed)

    report = set_difference(where, applied, disk, key=version_id, stored_matches=matches)
    if applied:
        top = max(flyway_version_key(row.id) for row in applied)
        late = [item.id for item in report.pending if flyway_version_key(item.id) < top]
        if late:
            report.notes.append(
                "Below the current version, so Flyway ignores them unless outOfOrder is on: "
                + ", ".join(late)
            )
    _compare_repeatables(status, repeatable, report)
    return report


def _compare_repeatables(
    status: ToolStatus, found: list[tuple[Path, re.Match[str]]], report: PendingReport
) -> None:
    """A repeatable migration is pending when never applied or changed since its last run."""
    last_run: dict[str, AppliedMigration] = {}
    for row in status.history:
        if row.extra["repeatable"] and row.success is not False:
            last_run[(row.name or "").lower()] = row
    seen: set[str] = set()
    for path, match in found:
        description = match[1].replace("_", " ")
        seen.add(description.lower())
        row = last_run.get(description.lower())
        content = read_bytes(path)
        if row is None:
            report.pending.append(DiskMigration(id=f"R__{match[1]}", name=description, path=str(path)))
        elif content is not None and integer(row.checksum) != flyway_checksum(content):
            report.pending.append(DiskMigration(id=f"R__{match[1]}", name=description, path=str(path)))
            report.notes.append(
                f"Repeatable {path.name} changed since its last run; Flyway will run it again."
            )
    report.missing += [row for key, row in last_run.items() if key not in seen]


# --- Liquibase ---------------------------------------------------------------------------------------------

_LIQUIBASE_COLUMNS = ["id", "author", "filename", "dateexecuted", "orderexecuted", "exectype", "md5sum"]
_LIQUIBASE_COLUMNS += ["description", "comments", "tag", "liquibase", "deployment_id"]


def _liquibase_id(filename: str, changeset_id: str, author: str) -> str:
    return f"{filename}::{changeset_id}::{author}"


def _liquibase_key(ident: str) -> str:
    # The stored FILENAME is the path as the changelog referenced it; match on (id, author) only.
    return ident.split("::", 1)[1] if "::" in ident else ident


def _read_liquibase(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("liquibase", "Liquibase", shape)

    def make(row: dict) -> AppliedMigration:
        exectype = (text(row["exectype"]) or "").upper()
        return AppliedMigration(
            id=_liquibase_id(text(row["filename"]) or "", text(row["id"]) or "", text(row["author"]) or ""),
            name=text(row["description"]),
            applied_at=parse_time(row["dateexecuted"]),
            checksum=text(row["md5sum"]),
            success=exectype != "FAILED",
            extra={
                "changeset_id": text(row["id"]),
                "author": text(row["author"]),
                "filename": text(row["filename"]),
                "exectype": exectype,
                "order": row["orderexecuted"],
                "tag": text(row["tag"]),
                "deployment_id": text(row["deployment_id"]),
                "comments": text(row["comments"]),
            },
        )

    status.history = read_history(
        ctx, shape, _LIQUIBASE_COLUMNS, make, order_by=["orderexecuted", "dateexecuted"]
    )
    if status.history:
        status.current_version = status.history[-1].id
    tags = [row.extra["tag"] for row in status.history if row.extra["tag"]]
    if tags:
        status.details["last_tag"] = tags[-1]
    status.warnings += failed_warning(status.history, "failed")
    status.related_tables = related_present(ctx, "DATABASECHANGELOGLOCK")
    lock = ctx.shapes.get("databasechangeloglock")
    if lock is not None and "locked" in lock.columns:
        rows = stream_rows(ctx.conn, lock, ["locked", "lockedby"], cancel=ctx.cancel)
        holders = [text(r["lockedby"]) or "?" for r in rows if flag(r["locked"])]
        if holders:
            status.warnings.append(f"DATABASECHANGELOGLOCK is held by {', '.join(holders)}.")
    return status


def _compare_liquibase(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "src/main/resources/db/changelog", "db/changelog", "changelog")
    changesets = read_changesets(where)
    if not changesets:
        return nothing_found(where, "Liquibase", "changelog files with changesets")
    disk = [
        DiskMigration(id=_liquibase_id(cs.path.name, cs.id, cs.author), name=cs.id, path=str(cs.path))
        for cs in changesets
    ]
    applied = [row for row in status.history if row.success]
    report = set_difference(where, applied, disk, key=_liquibase_key)
    report.notes.append("MD5SUM is shown but not verified: Liquibase's checksum depends on its version.")
    return report


SPECS = (
    ToolSpec(
        "flyway",
        "Flyway",
        "flyway_schema_history",
        _FLYWAY_SPEC_COLUMNS,
        _read_flyway,
        _compare_flyway,
    ),
    ToolSpec(
        "liquibase",
        "Liquibase",
        "DATABASECHANGELOG",
        columns("id", "author", "filename", "dateexecuted", "orderexecuted"),
        _read_liquibase,
        _compare_liquibase,
        related=("DATABASECHANGELOGLOCK",),
    ),
)
