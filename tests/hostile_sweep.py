"""Drive one database through every core capability the way the app does (for the hostile tests).

    async with ...: report = await exercise_database(database, tmp_path / "out")

Only `UserError`s are caught and recorded (each is a message a user would see); anything else fails
the caller. Built for the hostile databases of `tests.hostile`, usable on any database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.blobs.export import export_column
from desktop_app.core.blobs.values import BlobRef, describe_ref, read_blob_range
from desktop_app.core.browse.paging import TablePager
from desktop_app.core.database import Database
from desktop_app.core.errors import UserError
from desktop_app.core.export.csv_file import export_query_csv
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.migrations import migration_status
from desktop_app.core.schema.catalog import Table, TableKind, count_rows, read_catalog
from desktop_app.core.search import SearchIndex, SearchOptions, collect

#: Tables (and columns of each) a sweep looks at; enough to meet every kind, bounded for wide schemas.
SWEEP_TABLES = 60
SWEEP_COLUMNS = 4
#: Seconds any single statement of a sweep may run (a hang is a failure, not a wait).
SWEEP_TIME_LIMIT_S = 20.0


@dataclass
class SweepReport:
    """What a sweep met: the messages of the UserErrors raised (each one is a message shown to a user)."""

    messages: list[str]
    tables: int = 0
    csv_files: int = 0
    blob_files: int = 0

    def note(self, where: str, error: Exception) -> None:
        """Record a UserError met at `where`."""
        self.messages.append(f"{where}: {error}")


async def exercise_database(database: Database, out: Path, *, deep: bool = True) -> SweepReport:
    """Run every core capability over `database` (a core `Database`) through its worker path.

    Only `UserError`s are caught (and recorded): anything else propagates and fails the caller.
    `deep` adds CSV and blob export, search with an index, migrations and the function list.
    """
    report = SweepReport([])
    limit = SWEEP_TIME_LIMIT_S
    out.mkdir(parents=True, exist_ok=True)
    try:
        tables = (await database.run_sync(read_catalog, time_limit_s=limit)).tables
    except UserError as exc:  # e.g. a schema SQLite refuses to load with trusted_schema=OFF
        report.note("catalog", exc)
        tables = []
    for number, table in enumerate(tables[:SWEEP_TABLES]):
        report.tables += 1
        where = f"table {table.name[:40]!r}"
        if table.kind is not TableKind.VIEW and not table.error:
            try:
                await database.run_sync(count_rows, table, 0.5, time_limit_s=limit)
            except UserError as exc:
                report.note(f"{where} count", exc)
        first_key: dict[str, Any] | None = None
        try:
            pager = TablePager(table)
            page = await database.run_sync(pager.fetch, 0, 50, time_limit_s=limit)
            if page.keys and page.keys[0]:
                first_key = pager.key_dict(page.keys[0])
        except UserError as exc:
            report.note(f"{where} browse", exc)
        try:
            await database.execute(f"SELECT * FROM {table.quoted} LIMIT 20", time_limit_s=limit)
        except UserError as exc:
            report.note(f"{where} query", exc)
        if not deep:
            continue
        try:
            await database.run_sync(
                export_query_csv,
                f"SELECT * FROM {table.quoted}",
                (),
                out / f"table-{number}.csv",
                time_limit_s=limit,
            )
            report.csv_files += 1
        except UserError as exc:
            report.note(f"{where} csv", exc)
        for column in table.columns[:SWEEP_COLUMNS]:
            if first_key is not None:
                ref = _blob_ref(table, column.name, first_key)
                try:
                    await database.run_sync(describe_ref, ref, time_limit_s=limit)
                    await database.run_sync(read_blob_range, ref, 0, 64, time_limit_s=limit)
                except UserError as exc:
                    report.note(f"{where} blob {column.name[:20]!r}", exc)
            try:
                result = await database.run_sync(
                    export_column,
                    table.name,
                    column.name,
                    out / f"blobs-{number}",
                    overwrite=True,
                    time_limit_s=limit,
                )
                report.blob_files += result.written
            except UserError as exc:
                report.note(f"{where} blob export {column.name[:20]!r}", exc)
    for options in (
        SearchOptions("e"),
        SearchOptions("x", include_blobs=True, include_numbers=True, include_views=True, limit=200),
        SearchOptions("[a-z]+\\d", regex=True, whole_word=True, limit=200),
    ):
        try:
            await database.run_sync(collect, options, time_limit_s=limit)
        except UserError as exc:
            report.note(f"search {options.text!r}", exc)
    if deep:
        index = None
        try:
            index = await database.run_sync(
                lambda conn: SearchIndex.build(conn, generation=database.generation), time_limit_s=limit
            )
            await database.run_sync(collect, SearchOptions("needle"), index=index, time_limit_s=limit)
        except UserError as exc:
            report.note("search index", exc)
        finally:
            if index is not None:
                index.close()
        try:
            await database.run_sync(migration_status, time_limit_s=limit)
        except UserError as exc:
            report.note("migrations", exc)
        await database.run_sync(FunctionRegistry(None).describe, time_limit_s=limit)
    answer = await database.execute("SELECT 1", use_cache=False)
    assert answer.rows == [(1,)], "the database stopped answering after the sweep"
    return report


def _blob_ref(table: Table, column: str, key: dict[str, Any]) -> BlobRef:
    """The reference the Blobs pane would build for `column` of the row with `key` (from the grid)."""
    if len(key) == 1 and next(iter(key)) in ("rowid", "_rowid_", "oid") and table.has_rowid:
        return BlobRef(table.schema, table.name, column, int(next(iter(key.values()))))
    return BlobRef.by_key(table.schema, table.name, column, key)
