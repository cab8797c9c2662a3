"""Migration status: which migration tools a database uses, what they applied, and what is pending.

Each tool is described as data in `tools` and read by the reader of its family of tracking table
(`readers`); tools are found by the shape of their tables (`detect`). The folder comparison
(`folders`, `quirks`) reads files only (Alembic revision files are parsed with `ast` unless the caller
allows importing them).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.migrations.checksums import flyway_checksum, prisma_checksum, sha256_hex, sqlx_checksum
from desktop_app.core.migrations.detect import Detection, detect, read_context, spec_for
from desktop_app.core.migrations.folders import compare_files
from desktop_app.core.migrations.model import (
    AppliedMigration,
    ChecksumMismatch,
    DiskMigration,
    MigrationReport,
    PendingReport,
    ReversibleMigration,
    SkippedFile,
    ToolStatus,
)
from desktop_app.core.migrations.pending import check_folder, incomplete_note, walking
from desktop_app.core.migrations.reversible import read_reversible
from desktop_app.core.migrations.spec import ConnectionFactory, FolderOptions, ReadContext, related_present
from desktop_app.core.migrations.times import parse_time
from desktop_app.core.migrations.tools import ALL_TOOLS
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress

__all__ = [
    "AppliedMigration",
    "ChecksumMismatch",
    "ConnectionFactory",
    "Detection",
    "DiskMigration",
    "MigrationReport",
    "PendingReport",
    "ReversibleMigration",
    "SkippedFile",
    "ToolStatus",
    "detect_tools",
    "flyway_checksum",
    "incomplete_note",
    "known_tools",
    "migration_status",
    "parse_time",
    "prisma_checksum",
    "read_reversible",
    "sha256_hex",
    "sqlx_checksum",
]


def known_tools() -> list[tuple[str, str]]:
    """(key, label) of every tool we recognise, for a `--tool` choice or a filter menu."""
    return [(spec.key, spec.label) for spec in ALL_TOOLS]


def detect_tools(conn: sqlite3.Connection, cancel: CancelToken | None = None) -> list[Detection]:
    """The migration tools present in the database behind `conn` (read-only)."""
    return detect(read_context(conn, cancel))


def migration_status(
    conn: sqlite3.Connection,
    *,
    folder: str | Path | None = None,
    tool: str | None = None,
    allow_import: bool = False,
    connect: ConnectionFactory | None = None,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> MigrationReport:
    """Current version, history and warnings of every tool found; with `folder`, also what is pending.

    `tool` keeps one tool (key or label). `allow_import` lets alembic import the revision files
    (it executes them); `connect` opens a new connection to the same snapshot for alembic's
    MigrationContext. Raises UserError for an unknown tool name or a folder that does not exist.
    """
    wanted = None
    if tool:
        wanted = spec_for(tool)
        if wanted is None:
            names = ", ".join(key for key, _label in known_tools())
            raise UserError(f"Unknown migration tool: {tool!r}. Known tools: {names}")
    where = check_folder(Path(folder).expanduser()) if folder is not None else None
    options = FolderOptions(allow_import=allow_import, connect=connect)
    ctx = read_context(conn, cancel)
    detections = [d for d in detect(ctx) if wanted is None or d.spec.key == wanted.key]
    report = MigrationReport()
    for done, detection in enumerate(detections):
        if cancel:
            cancel.raise_if_cancelled()
        progress(Progress(done, len(detections), detection.spec.label))
        status = _read_one(ctx, detection)
        compare = detection.spec.compare or (compare_files if detection.spec.files else None)
        if where is not None and compare is not None:
            with walking(where) as walk:
                status.pending = walk.apply(compare(detection.spec, status, where, options))
        report.tools.append(status)
    progress(Progress(len(detections), len(detections), "done"))
    return report


def _read_one(ctx: ReadContext, detection: Detection) -> ToolStatus:
    spec, shape = detection.spec, detection.shape
    try:
        status = spec.read(spec, ctx, shape)
    except sqlite3.DatabaseError as exc:
        if ctx.cancel and ctx.cancel.cancelled:
            raise
        status = ToolStatus(spec.key, spec.label, shape.name if shape else None, None)
        status.warnings.append(f"Could not read the table: {exc}")
    if not status.related_tables and spec.related:
        status.related_tables = related_present(ctx, *spec.related)
    return status
