"""Version numbers: the hand-rolled `schema_version(version)` table and `PRAGMA user_version` (Room)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from desktop_app.core.migrations.common import sample
from desktop_app.core.migrations.model import (
    AppliedMigration,
    ChecksumMismatch,
    DiskMigration,
    PendingReport,
    ToolStatus,
)
from desktop_app.core.migrations.pending import (
    files_matching,
    locate,
    nothing_found,
    read_bytes,
    versions_above,
)
from desktop_app.core.migrations.reversible import read_reversible
from desktop_app.core.migrations.spec import (
    FolderOptions,
    ReadContext,
    ToolSpec,
    columns,
    is_default_name,
    new_status,
    related_present,
)
from desktop_app.core.migrations.tables import TableShape, integer, stream_rows, text, user_version

_NUMBERED_FILE = re.compile(r"(\d+)(?:[_\-.](.*?))?(\.down)?\.\w+", re.IGNORECASE)
_ROOM_SCHEMA = re.compile(r"(\d+)\.json")

# --- hand-rolled schema_version(version) -------------------------------------------------------------------


def _accepts_hand_rolled(ctx: ReadContext, shape: TableShape) -> bool:
    if "ar_internal_metadata" in ctx.shapes:
        return False
    if "INT" not in shape.declared_type("version") and shape.name.lower() != "schema_version":
        return False
    values = sample(ctx, shape, "version")
    if not values:  # an empty one-column table is only taken for the pattern under its usual name
        return is_default_name("schema_version", shape)
    return all(integer(v) is not None for v in values)


def _read_hand_rolled(ctx: ReadContext, shape: TableShape) -> ToolStatus:
    status = new_status("schema_version", "Hand-rolled schema_version", shape)
    versions = sorted(
        {
            number
            for row in stream_rows(ctx.conn, shape, ["version"], cancel=ctx.cancel)
            if (number := integer(row["version"])) is not None
        }
    )
    status.history = [AppliedMigration(id=str(number)) for number in versions]
    status.current_version = str(versions[-1]) if versions else None  # MAX(version)
    if not versions:
        status.warnings.append("The table is empty: no version recorded.")
    return status


def _compare_hand_rolled(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "migrations")
    current = integer(status.current_version)
    applied_numbers = {integer(row.id) for row in status.history}

    def is_applied(version: int) -> bool:
        return version in applied_numbers or (current is not None and version <= current)

    reversible = read_reversible(where, is_applied)
    found = [(path, m) for path, m in files_matching(where, _NUMBERED_FILE) if not m[3]]
    if not found and not reversible:
        return nothing_found(where, "schema_version", "files named with a leading number")
    disk = [(m.version, DiskMigration(id=str(m.version), name=m.name, path=m.source)) for m in reversible]
    disk += [
        (int(m[1]), DiskMigration(id=str(int(m[1])), name=m[2] or None, path=str(path))) for path, m in found
    ]
    stored = [(number, row) for row in status.history if (number := integer(row.id)) is not None]
    report = versions_above(where, current, disk, stored)
    report.reversible = reversible
    return report


# --- PRAGMA user_version / Android Room ---------------------------------------------------------------------


def read_user_version(ctx: ReadContext) -> ToolStatus | None:
    """The user_version scheme (SQLiteOpenHelper, Room), or None when it is unused and Room is absent."""
    version = user_version(ctx.conn)
    room = ctx.shapes.get("room_master_table")
    android = related_present(ctx, "room_master_table", "android_metadata")
    if version == 0 and not android:
        return None
    label = "Android Room" if room is not None else "PRAGMA user_version"
    status = ToolStatus(tool="user_version", label=label, table=None, current_version=str(version))
    status.related_tables = android
    status.history = [AppliedMigration(id=str(version), name="user_version")]
    if room is not None and "identity_hash" in room.columns:
        for row in stream_rows(ctx.conn, room, ["identity_hash"], limit=1, cancel=ctx.cancel):
            status.details["identity_hash"] = text(row["identity_hash"]) or ""
    if version == 0:
        status.warnings.append("user_version is 0: usually means it is unused (no schema version set).")
    return status


def _compare_user_version(status: ToolStatus, folder: Path, _options: FolderOptions) -> PendingReport:
    where = locate(folder, "schemas", "app/schemas")
    found = files_matching(where, _ROOM_SCHEMA, recursive=True)
    if not found:
        return nothing_found(where, "Room", "exported schemas <N>.json")
    current = integer(status.current_version) or 0
    disk = [(int(m[1]), DiskMigration(id=m[1], name=path.parent.name, path=str(path))) for path, m in found]
    stored = [(current, row) for row in status.history if current]
    report = versions_above(where, current, disk, stored)
    stored_hash = status.details.get("identity_hash")
    for number, item in disk:
        if number != current or not stored_hash:
            continue
        exported = _room_identity_hash(Path(item.path))
        if exported and exported != stored_hash:
            report.checksum_mismatches.append(
                ChecksumMismatch(id=item.id, path=item.path, stored=stored_hash, computed=exported)
            )
    return report


def _room_identity_hash(path: Path) -> str | None:
    try:
        data = json.loads(read_bytes(path) or b"null")
    except ValueError:
        return None
    database = data.get("database") if isinstance(data, dict) else None
    value = database.get("identityHash") if isinstance(database, dict) else None
    return value if isinstance(value, str) else None


def _not_a_table(_ctx: ReadContext, _shape: TableShape) -> bool:
    return False


def _read_user_version_spec(ctx: ReadContext, _shape: TableShape | None) -> ToolStatus:
    status = read_user_version(ctx)
    return status if status is not None else ToolStatus("user_version", "PRAGMA user_version", None, "0")


#: Detected from the PRAGMA, not from a table (see `read_user_version`).
USER_VERSION = ToolSpec(
    "user_version",
    "PRAGMA user_version",
    "",
    frozenset(),
    _read_user_version_spec,
    _compare_user_version,
    accepts=_not_a_table,
    related=("room_master_table", "android_metadata"),
)

SPECS = (
    ToolSpec(
        "schema_version",
        "Hand-rolled schema_version",
        "schema_version",
        columns("version"),
        _read_hand_rolled,
        _compare_hand_rolled,
        allowed=columns("version"),
        accepts=_accepts_hand_rolled,
    ),
)
