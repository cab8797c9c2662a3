"""`snapshot-browser-cli query FILE SQL`: run SQL on the snapshot; table, JSON or CSV out."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterator
from itertools import islice
from typing import Any

from desktop_app.cli.common import add_file_argument, emit_json, open_connection
from desktop_app.cli.functions import load_registry
from desktop_app.core.errors import QueryError, ReadOnlyError, UserError
from desktop_app.core.functions_guard import function_query_error
from desktop_app.core.limits import LIMITS
from desktop_app.core.output_paths import ensure_not_source
from desktop_app.core.sqlite.guard import check_user_sql, refused_error


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `query` command."""
    parser = subparsers.add_parser("query", help="run SQL on the snapshot")
    add_file_argument(parser)
    parser.add_argument("sql", metavar="SQL", help="one statement (the snapshot is read-only)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="OUT", help="write every row as CSV to OUT ('-' for stdout)")
    out.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--limit", type=int, metavar="N", help="at most N rows")
    parser.add_argument("--functions", metavar="FILE", help="a Python file of user SQL functions")
    parser.add_argument(
        "--allow-schema-collations",
        action="store_true",
        help="register your collations even where the database's schema names them (it could run your code)",
    )
    parser.set_defaults(run=run)


def _pages(cursor: sqlite3.Cursor, limit: int | None) -> Iterator[list[tuple[Any, ...]]]:
    remaining = limit
    while remaining is None or remaining > 0:
        size = LIMITS.page_rows if remaining is None else min(LIMITS.page_rows, remaining)
        rows = cursor.fetchmany(size)
        if not rows:
            return
        if remaining is not None:
            remaining -= len(rows)
        yield rows


def run(args: argparse.Namespace) -> int:
    """Run the statement and print or export its rows."""
    if not args.sql.strip():
        raise UserError("No SQL given.")
    if args.limit is not None and args.limit < 0:
        raise UserError("--limit must be 0 or more.")
    check_user_sql(args.sql)
    if args.csv and args.csv != "-":
        ensure_not_source(args.csv, args.file)  # before the snapshot: refused at once, nothing read
    registry = load_registry(args.functions)
    registry.allow_schema_collations(args.allow_schema_collations)
    with open_connection(args.file, [registry.hook]) as conn:
        for name in sorted(registry.withheld_collations):
            print(
                f"note: your collation {name} is not registered: this database's schema names it "
                "(--allow-schema-collations registers it)",
                file=sys.stderr,
            )
        try:
            if args.csv:
                return _export_csv(conn, args)
            cursor = conn.execute(args.sql)
            columns = [d[0] for d in cursor.description or ()]
            rows = [row for page in _pages(cursor, args.limit) for row in page]
        except sqlite3.Error as exc:
            raise (
                function_query_error(conn, exc, args.sql)
                or refused_error(conn, exc, args.sql)
                or _query_error(exc, args.sql)
            ) from None
        except UnicodeDecodeError:  # SQLite's message or a column name quotes bytes that are not UTF-8
            raise QueryError(
                "SQLite's answer holds a name that is not valid UTF-8 (a damaged schema?).", sql=args.sql
            ) from None
    if args.json:
        emit_json({"columns": columns, "rows": [list(r) for r in rows]})
    else:
        _print_table(columns, rows)
    return 0


def _query_error(exc: sqlite3.Error, sql: str) -> QueryError:
    text = str(exc)
    if "readonly" in text.replace(" ", "").lower():
        return ReadOnlyError("The snapshot is read-only: this statement would change it.", sql=sql)
    return QueryError(f"SQL error: {text}", sql=sql)


def _export_csv(conn: sqlite3.Connection, args: argparse.Namespace) -> int:
    from desktop_app.core.export import CsvOptions, export_csv

    cursor = conn.execute(args.sql)
    columns = [d[0] for d in cursor.description or ()]
    pages = _pages(cursor, args.limit)
    if args.csv == "-":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for page in pages:
            writer.writerows(page)
        return 0
    result = export_csv(pages, columns, args.csv, CsvOptions(), source_path=args.file)
    print(f"{result.rows:,} rows written to {result.path}", file=sys.stderr)
    return 0


def _print_table(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    def cell(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bytes):
            return f"<BLOB {len(value)} bytes>"
        return str(value).replace("\n", "\\n")

    shown = [[cell(v) for v in row] for row in islice(rows, None)]
    widths = [min(40, max([len(c)] + [len(r[i]) for r in shown])) for i, c in enumerate(columns)]
    print("  ".join(c[:40].ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in shown:
        print("  ".join(v[:40].ljust(w) for v, w in zip(row, widths, strict=True)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
