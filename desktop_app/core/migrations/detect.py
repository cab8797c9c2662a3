"""Finding migration tools by the shape of their tracking tables (columns and side facts, not names)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from desktop_app.core.migrations import (
    family_compiled,
    family_js,
    family_jvm,
    family_php,
    family_python,
    family_schema_migrations,
    family_simple,
)
from desktop_app.core.migrations.spec import ReadContext, ToolSpec
from desktop_app.core.migrations.tables import TableShape, read_shapes
from desktop_app.core.progress import CancelToken

#: Every table-based tool; for a table matching several, the first wins (the look-alikes exclude each other).
TABLE_SPECS: tuple[ToolSpec, ...] = (
    *family_python.SPECS,
    *family_jvm.SPECS,
    *family_js.SPECS,
    *family_php.SPECS,
    *family_compiled.SPECS,
    *family_schema_migrations.SPECS,
    *family_simple.SPECS,
)
ALL_SPECS: tuple[ToolSpec, ...] = (*TABLE_SPECS, family_simple.USER_VERSION)


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
        spec = next((spec for spec in TABLE_SPECS if spec.matches(ctx, shape)), None)
        if spec is not None:
            found.append(Detection(spec, shape))
    if family_simple.read_user_version(ctx) is not None:
        found.append(Detection(family_simple.USER_VERSION, None))
    return sorted(found, key=lambda d: (d.spec.label.lower(), d.shape.name if d.shape else ""))


def spec_for(name: str) -> ToolSpec | None:
    """The tool whose key or label is `name` (case-insensitive), None when there is none."""
    wanted = name.strip().lower()
    for spec in ALL_SPECS:
        if wanted in {spec.key.lower(), spec.label.lower()}:
            return spec
    return None
