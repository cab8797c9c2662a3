"""`snapshot-browser-cli migrations FILE`: migration tools found, what they applied, what is pending."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from desktop_app.cli import common
from desktop_app.cli.common import escape_for_terminal as _t
from desktop_app.core.migrations import (
    AppliedMigration,
    MigrationReport,
    PendingReport,
    ReversibleMigration,
    ToolStatus,
    incomplete_note,
    known_tools,
    migration_status,
)

_ALLOW_IMPORT_HELP = "let alembic import the revision files (runs their code; default: read them with ast)"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `migrations` command."""
    tools = ", ".join(key for key, _label in known_tools())
    parser = subparsers.add_parser(
        "migrations", help="migration tools, applied history and pending migrations"
    )
    common.add_file_argument(parser)
    parser.add_argument(
        "--folder", metavar="DIR", help="the project's migrations folder, to list what is pending"
    )
    parser.add_argument("--tool", metavar="NAME", help=f"only this tool: {tools}")
    parser.add_argument("--allow-import", action="store_true", help=_ALLOW_IMPORT_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the migration status of FILE."""
    with common.open_snapshot_for_cli(args.file, common.source_options(args)) as snapshot:
        conn = common.connect(snapshot)
        try:
            report = migration_status(
                conn,
                folder=args.folder,
                tool=args.tool,
                allow_import=args.allow_import,
                connect=lambda: common.connect(snapshot),
            )
        finally:
            conn.close()
    if args.json:
        common.emit_json({"file": args.file, "found": report.found, **report.to_dict()})
        return 0
    print_report(args.file, report, args.tool)
    return 0


def print_report(path: str, report: MigrationReport, tool: str | None = None) -> None:
    """Print the report as text: one section per tool."""
    if not report.found:
        what = f"no {tool} tracking table" if tool else "no migration tracking table and user_version is 0"
        print(f"No migration tool found: {_t(path)} has {what}.")
        return
    for index, status in enumerate(report.tools):
        if index:
            print()
        _print_tool(status)


def _print_tool(status: ToolStatus) -> None:
    print(f"{status.label} (table {common.terminal_name(status.table)})" if status.table else status.label)
    version = _t(str(status.current_version)) if status.current_version is not None else "(none)"
    print(f"  current version: {version}")
    for key, value in status.details.items():
        print(f"  {_t(str(key))}: {_t(str(value))}")
    if status.related_tables:
        print(f"  related tables: {', '.join(common.terminal_name(name) for name in status.related_tables)}")
    for warning in status.warnings:
        print(f"  warning: {_t(warning)}")
    if status.history:
        print(f"  applied ({len(status.history)}):")
        _print_table(_history_rows(status.history), indent="    ")
    if status.pending is not None:
        _print_pending(status.pending)


def _history_rows(history: Sequence[AppliedMigration]) -> list[list[str]]:
    columns = ["id", "name", "applied", "batch", "checksum", "status"]
    keep = [
        column for column in columns if column == "id" or any(_history_cell(row, column) for row in history)
    ]
    rows = [[column.upper() for column in keep]]
    rows += [[_history_cell(row, column) for column in keep] for row in history]
    return rows


def _history_cell(row: AppliedMigration, column: str) -> str:
    if column == "applied":
        return _local(row.applied_at)
    if column == "status":
        if row.rolled_back:
            return "rolled back"
        return {True: "ok", False: "FAILED", None: ""}[row.success]
    value: Any = getattr(row, column)
    return "" if value is None or (column == "name" and value == row.id) else _t(str(value))


def _print_pending(pending: PendingReport) -> None:
    print(f"  folder: {_t(str(pending.folder))}")
    note = incomplete_note(pending)
    if note is not None:
        print(f"  warning: {_t(note)}")
    if pending.compared:
        if not pending.pending:
            print("  pending: none")
        _print_section("pending", [f"{_t(str(item.id))}  {_t(str(item.path))}" for item in pending.pending])
        _print_section("applied but missing from the folder", [_t(str(row.id)) for row in pending.missing])
        _print_section(
            "changed since applied",
            [
                f"{_t(str(mismatch.id))}  {_t(str(mismatch.path))}  "
                f"stored {_t(str(mismatch.stored))}, file {_t(str(mismatch.computed))}"
                for mismatch in pending.checksum_mismatches
            ],
        )
        if pending.heads:
            print(f"  heads in folder: {', '.join(_t(head) for head in pending.heads)}")
        _print_section(
            "reversible migrations",
            [_reversible_line(migration) for migration in pending.reversible],
            count_note=", shown only",
        )
    _print_section("not read", [f"{_t(str(item.path))}  {_t(item.reason)}" for item in pending.skipped])
    for note in pending.notes:
        print(f"  note: {_t(note)}")


def _print_section(title: str, lines: Sequence[str], count_note: str = "") -> None:
    """`title (n):` and one indented line per item; nothing when there are none."""
    if lines:
        print(f"  {title} ({len(lines)}{count_note}):")
        for line in lines:
            print(f"    {line}")


def _reversible_line(migration: ReversibleMigration) -> str:
    state = "applied" if migration.applied else "not applied"
    down = "with down" if migration.down is not None else "no down"
    name = _t(migration.name or "")
    return f"{_t(str(migration.version))}  {name}  {state}, {down}  {_t(str(migration.source))}"


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _print_table(rows: list[list[str]], indent: str) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
