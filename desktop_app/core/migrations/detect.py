"""Finding migration tools by the shape of their tracking tables (columns and side facts, not names)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from desktop_app.core.migrations.readers import user_version_status
from desktop_app.core.migrations.spec import ReadContext, ToolSpec
from desktop_app.core.migrations.tables import TableShape, read_shapes
from desktop_app.core.migrations.tools import ALL_TOOLS, TABLE_TOOLS, USER_VERSION
from desktop_app.core.progress import CancelToken


@dataclass(frozen=True)
class Detection:
    """A tool found in the database: its spec and its table (None for `PRAGMA user_version`)."""

    spec: ToolSpec
    shape: TableShape | None


def read_context(conn: sqlite3.Connection, cancel: CancelToken | None = None) -> ReadContext:
    """The table shapes of `conn`, bundled for the readers."""
    return ReadContext(conn=conn, shapes=read_shapes(conn), cancel=cancel)


def detect(ctx: ReadContext) -> list[Detection]:
    """Every migration tool whose table (or user_version) is in the database, ordered by label then table."""
    found: list[Detection] = []
    for shape in sorted(ctx.shapes.values(), key=lambda s: s.name):
        if ctx.cancel:
            ctx.cancel.raise_if_cancelled()
        spec = next((spec for spec in TABLE_TOOLS if spec.matches(ctx, shape)), None)
        if spec is not None:
            found.append(Detection(spec, shape))
    if user_version_status(ctx) is not None:
        found.append(Detection(USER_VERSION, None))
    return sorted(found, key=lambda d: (d.spec.label.lower(), d.shape.name if d.shape else ""))


def spec_for(name: str) -> ToolSpec | None:
    """The tool whose key or label is `name` (case-insensitive), None when there is none."""
    wanted = name.strip().lower()
    for spec in ALL_TOOLS:
        if wanted in {spec.key.lower(), spec.label.lower()}:
            return spec
    return None
