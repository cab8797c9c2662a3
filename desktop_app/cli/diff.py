"""`snapshot-browser-cli diff A B`: what changed between two databases (counts, rows as JSON, or SQL)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop_app.cli.common import (
    add_source_arguments,
    emit_json,
    escape_for_terminal,
    open_source,
    source_options,
    terminal_name,
)
from desktop_app.cli.interrupts import active
from desktop_app.core.diff.compare import compare, snapshot_both
from desktop_app.core.diff.model import DatabaseDiff, RowChange
from desktop_app.core.diff.pairing import open_pair
from desktop_app.core.diff.script import write_sql
from desktop_app.core.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `diff` command."""
    parser = subparsers.add_parser("diff", help="what changed between two databases (rows and schema)")
    parser.add_argument(
        "file", metavar="A", help="the database before (never modified); may be packed or encrypted"
    )
    parser.add_argument(
        "other", metavar="B", help="the database after (never modified); may be packed or encrypted"
    )
    # --key-file, --member, --cipher-* open A; the same options with --b- open B.
    add_source_arguments(parser, whose="A")
    add_source_arguments(parser, prefix="b-", whose="B")
    parser.add_argument("--table", metavar="T", help="compare only this table")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print per-table counts as JSON")
    out.add_argument("--sql", action="store_true", help="print SQL that turns A into B")
    parser.add_argument("--rows", action="store_true", help="with --json: every changed row, old and new")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compare A with B and print the result; exit status 0 whatever differs."""
    if args.rows and not args.json:
        raise UserError("--rows goes with --json.")
    stopper = active()
    options = (source_options(args), source_options(args, prefix="b-"))
    first, second = snapshot_both(
        args.file,
        args.other,
        stopper.cancel,
        opener=lambda path, side: open_source(str(path), options[side], stopper.cancel, in_place=True),
    )
    try:
        pair = open_pair(first, second, stopper.cancel, in_place=True)
        try:
            if args.sql:
                write_sql(pair, sys.stdout.write, only=args.table, cancel=stopper.cancel)
                return 0
            collected: dict[str, list[RowChange]] = {}
            diff = compare(
                pair,
                only=args.table,
                rows=args.rows,
                on_rows=lambda table, page: collected.setdefault(table.name, []).extend(page),
                cancel=stopper.cancel,
            )
            if pair.note:
                diff.settings.append(pair.note)
        finally:
            pair.close()
    finally:
        first.close()
        second.close()
    if args.json:
        emit_json(as_json(diff, collected if args.rows else None))
    else:
        _print_text(diff)
    return 0


def as_json(diff: DatabaseDiff, rows: dict[str, list[RowChange]] | None = None) -> dict[str, Any]:
    """The command's JSON: `tables` (name, added, removed, changed, schema_changed: the contract), then
    details; with `rows`, each table's changed rows."""
    if rows is not None:  # only here: it brings the browse modules, a good part of start-up
        from desktop_app.core.diff.change_rows import row_json
    tables = []
    for table in diff.tables:
        entry: dict[str, Any] = {
            "name": table.name,
            "added": table.added,
            "removed": table.removed,
            "changed": table.changed,
            "schema_changed": table.schema_changed,
            "in_a": table.in_a,
            "in_b": table.in_b,
            "matched_by": table.matching.value,
            "schema_changes": [c.describe() for c in table.schema_changes],
        }
        if table.note:
            entry["note"] = table.note
        if rows is not None:
            entry["columns"] = table.columns
            entry["rows"] = [row_json(table, change) for change in rows.get(table.name, [])]
        tables.append(entry)
    return {
        "tables": tables,
        "other_changes": [c.describe() for c in diff.other_changes],
        "settings": diff.settings,
        "summary": diff.summary(),
    }


def _print_text(diff: DatabaseDiff) -> None:
    print(escape_for_terminal(diff.summary()))
    changed = diff.changed_tables
    if changed:
        print(f"{'table':<28} {'added':>9} {'removed':>9} {'changed':>9}  schema")
        for table in changed:
            schema = "; ".join(c.describe() for c in table.schema_changes) or "-"
            print(
                f"{terminal_name(table.name):<28} {table.added:>9,} {table.removed:>9,} {table.changed:>9,}  "
                f"{escape_for_terminal(schema)}"
            )
    for change in diff.other_changes:
        print(escape_for_terminal(change.describe()))
    for setting in diff.settings:
        print(escape_for_terminal(setting))
