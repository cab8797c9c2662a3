"""One reader per family of tracking table; each tool's entry in `tools` names its family.

- `read_history`: one row per applied migration (most tools); `Roles` say what each column means.
- `read_heads`: Alembic's table of the current head(s), no history.
- `read_numbers`: a hand-rolled `schema_version(version INTEGER)`, current = MAX(version).
- `read_user_version`: no table, `PRAGMA user_version` (SQLiteOpenHelper, Android Room).
"""

from __future__ import annotations

from desktop_app.core.migrations.common import failed_warning
from desktop_app.core.migrations.model import AppliedMigration, ToolStatus
from desktop_app.core.migrations.spec import Lock, ReadContext, ToolSpec, new_status, related_present
from desktop_app.core.migrations.tables import TableShape, flag, integer, stream_rows, text, user_version


def read_history(spec: ToolSpec, ctx: ReadContext, shape: TableShape | None) -> ToolStatus:
    """A table holding one row per applied migration, read through the tool's `Roles`."""
    assert spec.roles is not None and shape is not None, spec.key
    status = new_status(spec, shape)
    rows = stream_rows(ctx.conn, shape, spec.roles.columns, order_by=spec.roles.order_by, cancel=ctx.cancel)
    history = [spec.roles.make(row) for row in rows]
    if spec.keep is not None:
        history = [row for row in history if spec.keep(row)]
    if spec.sort is not None:
        history.sort(key=spec.sort)
    status.history = history
    status.current_version = spec.current(spec.in_force(history))
    if spec.latest_per is not None:
        for row in history:
            status.details[f"latest in {row.extra[spec.latest_per]}"] = row.name or ""
    if spec.last_detail is not None and history:
        row = history[-1]
        value = row.batch if spec.last_detail == "batch" else row.extra.get(spec.last_detail)
        status.details[spec.last_detail] = "" if value is None else str(value)
    if spec.many_rows is not None and len(history) > 1:
        status.warnings.append(spec.many_rows.format(n=len(history)))
    if spec.failed is not None:
        status.warnings += failed_warning(history, spec.failed)
    if spec.inspect is not None:
        spec.inspect(ctx, shape, status)
    status.related_tables = related_present(ctx, *spec.related)
    if spec.lock is not None:
        _check_lock(spec.lock, ctx, shape, status)
    return status


def _check_lock(lock: Lock, ctx: ReadContext, shape: TableShape, status: ToolStatus) -> None:
    table = ctx.shapes.get(lock.table.format(table=shape.name).lower())
    if table is None:
        return
    if table.name not in status.related_tables:
        status.related_tables.append(table.name)
    if lock.held is not None and lock.held not in table.columns:
        return
    wanted = [column for column in (lock.held, lock.holder) if column] or list(table.column_set)
    limit = None if lock.held else 1
    rows = stream_rows(ctx.conn, table, wanted, limit=limit, cancel=ctx.cancel)
    held = [row for row in rows if lock.held is None or flag(row[lock.held])]
    if held:
        holders = ", ".join(text(row[lock.holder]) or "?" for row in held) if lock.holder else ""
        status.warnings.append(lock.message.format(lock=table.name, holders=holders))


def read_heads(spec: ToolSpec, ctx: ReadContext, shape: TableShape | None) -> ToolStatus:
    """Alembic's version table: one row per current head, no history (more than one = unmerged)."""
    status = read_history(spec, ctx, shape)
    heads = [row.id for row in status.history]
    status.current_version = ", ".join(heads) if heads else None
    if len(heads) > 1:
        status.warnings.append(
            f"{len(heads)} heads stored ({', '.join(heads)}): unmerged branches; `alembic merge` joins them."
        )
    if not heads:
        status.warnings.append("The version table is empty: no revision applied (or all were downgraded).")
    return status


def read_numbers(spec: ToolSpec, ctx: ReadContext, shape: TableShape | None) -> ToolStatus:
    """A table of version numbers (the hand-rolled pattern): the current version is the largest."""
    assert spec.roles is not None and shape is not None and isinstance(spec.roles.id, str), spec.key
    column = spec.roles.id
    status = new_status(spec, shape)
    rows = stream_rows(ctx.conn, shape, [column], cancel=ctx.cancel)
    versions = sorted({number for row in rows if (number := integer(row[column])) is not None})
    status.history = [AppliedMigration(id=str(number)) for number in versions]
    status.current_version = str(versions[-1]) if versions else None  # MAX(version)
    if not versions:
        status.warnings.append("The table is empty: no version recorded.")
    return status


def user_version_status(ctx: ReadContext) -> ToolStatus | None:
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


def read_user_version(spec: ToolSpec, ctx: ReadContext, _shape: TableShape | None) -> ToolStatus:
    """`PRAGMA user_version` as a tool status (detected from the PRAGMA, not from a table)."""
    status = user_version_status(ctx)
    return status if status is not None else ToolStatus(spec.key, spec.label, None, "0")
