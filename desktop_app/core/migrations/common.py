"""Small pieces shared by the readers and the tool-specific rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from desktop_app.core.migrations.model import AppliedMigration
from desktop_app.core.migrations.pending import natural_key
from desktop_app.core.migrations.spec import ReadContext
from desktop_app.core.migrations.tables import TableShape, stream_rows


def sample(ctx: ReadContext, shape: TableShape, column: str, limit: int = 20) -> list[Any]:
    """The first few values of `column` (to tell a tracking table from an ordinary one)."""
    return [row[column] for row in stream_rows(ctx.conn, shape, [column], limit=limit, cancel=ctx.cancel)]


def highest(ids: Iterable[str | None]) -> str | None:
    """The largest id in natural order (numbers compared by value), None when there is none."""
    present = [i for i in ids if i is not None]
    return max(present, key=natural_key) if present else None


def numeric_key(ident: str) -> str:
    """Compare numeric versions without their leading zeros ('0001' = '1')."""
    stripped = ident.strip()
    return stripped.lstrip("0") or "0" if stripped.isdigit() else stripped


def failed_warning(rows: Iterable[AppliedMigration], what: str = "failed") -> list[str]:
    """One warning naming the rows marked failed or dirty, or none."""
    bad = [row.id for row in rows if row.success is False]
    if not bad:
        return []
    return [f"{len(bad)} migration(s) {what}: {', '.join(bad)}"]
