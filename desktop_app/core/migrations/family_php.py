"""PHP: Laravel's `migrations(id, migration, batch)`."""

from __future__ import annotations

import re
from pathlib import Path

from desktop_app.core.migrations.common import read_history
from desktop_app.core.migrations.model import AppliedMigration, DiskMigration, PendingReport, ToolStatus
from desktop_app.core.migrations.pending import files_matching, locate, nothing_found, set_difference
from desktop_app.core.migrations.spec import FolderOptions, ReadContext, ToolSpec, columns, new_status
from desktop_app.core.migrations.tables import TableShape, integer, text

_LARAVEL_FILE = re.compile(r"(\d{4}_\d{2}_\d{2}_\d{6}_\w+)\.php")


def _read_laravel(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("laravel", "Laravel", shape)

    def make(row: dict) -> AppliedMigration:
        return AppliedMigration(
            id=text(row["migration"]) or "", batch=integer(row["batch"]), extra={"row_id": row["id"]}
        )

    status.history = read_history(ctx, shape, ["id", "migration", "batch"], make)
    status.history.sort(
        key=lambda row: (row.batch or 0, row.id)
    )  # Laravel's own order: batch, then migration
    if status.history:
        status.current_version = status.history[-1].id
        status.details["batch"] = str(status.history[-1].batch)
    return status


def _compare_laravel(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "database/migrations")
    found = files_matching(where, _LARAVEL_FILE)
    if not found:
        return nothing_found(where, "Laravel", "YYYY_MM_DD_HHMMSS_name.php")
    disk = [DiskMigration(id=m[1], name=m[1][18:], path=str(path)) for path, m in found]
    return set_difference(where, status.history, disk)


SPECS = (
    ToolSpec(
        "laravel",
        "Laravel",
        "migrations",
        columns("id", "migration", "batch"),
        _read_laravel,
        _compare_laravel,
        allowed=columns("id", "migration", "batch"),
    ),
)
