"""`snapshot-browser-cli info FILE`: what a database contains."""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.cli import common
from desktop_app.core.schema.catalog import TableKind, count_rows, read_catalog
from desktop_app.core.snapshot.snapshot import Snapshot
from desktop_app.core.structure.facts import read_facts


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `info` command."""
    parser = subparsers.add_parser("info", help="tables, views, indexes, triggers, row counts, page size")
    common.add_file_argument(parser, as_of_commit=True)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--all", action="store_true", help="include shadow and internal tables")
    parser.set_defaults(run=run)


def describe(snapshot: Snapshot, include_hidden: bool = False) -> dict[str, Any]:
    """Return the `info` report for a snapshot as plain data."""
    conn = common.connect(snapshot)
    try:
        catalog = read_catalog(conn)
        journal = "wal" if snapshot.header.is_wal else "rollback"
        facts = read_facts(conn, snapshot.database_header, catalog)
        tables = []
        for table in catalog.visible_tables(include_hidden):
            entry: dict[str, Any] = {
                "name": table.name,
                "kind": table.kind.value,
                "columns": [c.name for c in table.columns],
            }
            if table.module:
                entry["module"] = table.module
            if table.without_rowid:
                entry["without_rowid"] = True
            if table.strict:
                entry["strict"] = True
            if table.error:
                entry["error"] = table.error
            elif table.kind is not TableKind.VIEW:
                try:
                    entry["rows"] = count_rows(conn, table).value
                except Exception as exc:  # a virtual table whose module is missing, a corrupt page
                    entry["error"] = str(exc)
            tables.append(entry)
        return {
            "file": str(snapshot.path),
            "member": snapshot.member,
            "encrypted": snapshot.encrypted,
            "wal_commit": snapshot.wal_commit,
            "mode": snapshot.mode.value,
            "mode_reason": snapshot.mode_reason,
            "snapshot_ms": round(snapshot.elapsed_s * 1000, 1),
            "page_size": snapshot.header.page_size,
            "page_count": snapshot.header.page_count,
            "size_bytes": snapshot.size_bytes,
            "journal": journal,
            "encoding": snapshot.header.text_encoding,
            "user_version": snapshot.header.user_version,
            "application_id": snapshot.header.application_id,
            "application_id_name": facts.application_id_name,
            "application": facts.application,
            "schema_fingerprints": facts.schema_fingerprints,
            "sqlite_version": facts.sqlite_version,
            "schema_format": facts.schema_format,
            "freelist_pages": facts.freelist_pages,
            "auto_vacuum": facts.auto_vacuum,
            "reserved_bytes": facts.reserved_bytes,
            "change_counter": facts.change_counter,
            "notes": snapshot.notes,
            "tables": tables,
            "indexes": [{"name": i.name, "table": i.table, "unique": i.unique} for i in catalog.indexes],
            "triggers": [{"name": t.name, "table": t.table} for t in catalog.triggers],
        }
    finally:
        conn.close()


def run(args: argparse.Namespace) -> int:
    """Print the report."""
    with common.open_snapshot_for_cli(args.file, common.source_options(args)) as snapshot:
        report = describe(snapshot, args.all)
    if args.json:
        common.emit_json(report)
        return 0
    print(f"{common.escape_for_terminal(report['file'])}  ({report['mode']}, {report['snapshot_ms']} ms)")
    print(f"mode: {report['mode']} — {common.escape_for_terminal(report['mode_reason'])}")
    print(
        f"page size {report['page_size']}, {report['page_count']} pages, {report['journal']} journal, "
        f"{report['encoding']}, user_version {report['user_version']}"
    )
    if report["application"]:
        print(f"created by: {common.escape_for_terminal(report['application'])}")
    written = f"last written by SQLite {report['sqlite_version']}, " if report["sqlite_version"] else ""
    print(
        f"{written}schema format {report['schema_format']}, auto_vacuum {report['auto_vacuum']}, "
        f"{report['freelist_pages']} free pages, application_id {report['application_id']}"
    )
    for note in report["notes"]:
        print(f"note: {common.escape_for_terminal(note)}")
    for table in report["tables"]:
        rows = table.get("rows")
        extra = f"{rows:,} rows" if rows is not None else common.escape_for_terminal(table.get("error", ""))
        name = common.terminal_name(table["name"])
        print(f"  {table['kind']:<8} {name}  [{len(table['columns'])} columns]  {extra}")
    print(f"{len(report['indexes'])} indexes, {len(report['triggers'])} triggers")
    return 0
