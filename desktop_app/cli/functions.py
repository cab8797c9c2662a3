"""`snapshot-browser-cli functions [--file F] [--json]`: list every SQL function available."""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import sys

from desktop_app.cli.common import emit_json, escape_for_terminal
from desktop_app.core.functions.registry import FunctionInfo, FunctionRegistry, registry_from_file
from desktop_app.core.sqlite.connection import configure_connection

_DESCRIPTION_WIDTH = 72


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `functions` command."""
    parser = subparsers.add_parser(
        "functions",
        help="list every SQL function and collation available (SQLite's, built-in and yours)",
    )
    parser.add_argument("--file", metavar="F", help="a Python file of user SQL functions to load")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def load_registry(path: str | None) -> FunctionRegistry:
    """Return the registry for `--file`/`--functions`, printing each skipped declaration as a warning."""
    registry = registry_from_file(path)
    for problem in registry.problems:
        print(f"warning: {escape_for_terminal(str(problem))}", file=sys.stderr)
    return registry


def run(args: argparse.Namespace) -> int:
    """List the functions: a text table, or JSON with --json."""
    registry = load_registry(args.file)
    conn = sqlite3.connect(":memory:")
    try:
        configure_connection(conn, [registry.hook])
        infos = registry.describe(conn)
    finally:
        conn.close()
    if args.json:
        emit_json([dataclasses.asdict(info) for info in infos])
    else:
        _print_table(infos)
    return 0


def _print_table(infos: list[FunctionInfo]) -> None:
    header = ("NAME", "KIND", "ARGS", "SOURCE", "DESCRIPTION")
    rows = [
        (
            escape_for_terminal(info.name),
            info.kind,
            "any" if info.narg < 0 else str(info.narg),
            escape_for_terminal(info.source),
            escape_for_terminal(_first_line(info.doc)),
        )
        for info in infos
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def _first_line(doc: str) -> str:
    line = doc.strip().splitlines()[0] if doc.strip() else ""
    return line if len(line) <= _DESCRIPTION_WIDTH else line[: _DESCRIPTION_WIDTH - 1] + "…"
