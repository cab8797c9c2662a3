"""`snapshot-browser-cli profile FILE --table T [--column C] [--json]`: what each column holds."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.profile.model import ColumnProfile, Stage
from desktop_app.core.profile.run import ProfileError, profile_columns
from desktop_app.core.schema.catalog import read_table, read_tables

#: Widest a value is printed in the table (longer ones are cut).
_VALUE_WIDTH = 30


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `profile` command."""
    parser = subparsers.add_parser(
        "profile", help="column profiles: NULLs, distinct, range, storage classes, top values, histogram"
    )
    common.add_file_argument(parser)
    parser.add_argument("--table", required=True, help="table or view to profile")
    parser.add_argument("--column", help="profile only this column")
    parser.add_argument("--schema", default="main", help="attached schema (default: main)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    common.add_time_limit_argument(parser, "the profile")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Profile the table's columns and print them as they complete (JSON at the end)."""
    common.check_time_limit(args.time_limit)
    with common.open_connection(args.file, options=common.source_options(args)) as conn:
        table = read_table(conn, args.table, args.schema)
        if table is None:
            names = ", ".join(
                common.terminal_name(t.name) for t in read_tables(conn, args.schema, hidden=False)
            )
            raise ProfileError(f"No table or view called {args.table} (tables: {names or 'none'}).")
        active().start_time_limit(args.time_limit)
        columns = [args.column] if args.column is not None else None
        done = []
        with active().quiet() as cancel:  # Ctrl-C cancels the job, which stops SQLite mid-statement
            for profile in profile_columns(conn, table, columns, cancel=cancel):
                if profile.stage is Stage.COMPLETE:
                    done.append(profile)
                    if not args.json:
                        _print_profile(profile)
    if args.json:
        common.emit_json({"table": table.name, "columns": [p.as_dict() for p in done]})
    return 0


def _value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<BLOB {len(value):,} bytes>"
    text = common.escape_for_terminal(repr(value) if isinstance(value, float) else str(value))
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"


def _print_profile(p: ColumnProfile) -> None:
    types = ", ".join(f"{kind} {n:,}" for kind, n in p.types.items()) or "none"
    print(f"{common.terminal_name(p.name)}")
    print(f"  rows {p.count:,}  nulls {p.nulls:,}  distinct {p.distinct:,}  types: {types}")
    print(
        f"  min {_value(p.min)}  max {_value(p.max)}"
        + (f"  length {p.length[0]}..{p.length[1]}" if p.length else "")
    )
    if p.time_encoding:
        print(f"  read as time: {p.time_encoding}")
    if p.top:
        print("  top: " + ", ".join(f"{_value(v)} ×{n:,}" for v, n in p.top))
    if p.histogram:
        peak = max(b.count for b in p.histogram) or 1
        for b in p.histogram:
            edge = b.low_time or f"{b.low:.6g}"
            print(f"    {edge:>{_VALUE_WIDTH}} {'#' * round(20 * b.count / peak):<20} {b.count:,}")
    sys.stdout.flush()
