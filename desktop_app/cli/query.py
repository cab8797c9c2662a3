"""`snapshot-browser-cli query FILE SQL`: run SQL on the snapshot; table, JSON or CSV out."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from desktop_app.cli import common
from desktop_app.cli.functions import load_registry
from desktop_app.cli.interrupts import active
from desktop_app.core.errors import QueryError, ReadOnlyError, UserError
from desktop_app.core.export.formats import ExportFormat, available, format_for_path, parse_format
from desktop_app.core.export.output_paths import ensure_not_source
from desktop_app.core.functions.failures import function_query_error
from desktop_app.core.limits import LIMITS
from desktop_app.core.sqlite.guard import check_user_sql, execute_user_sql, refused_error

#: Widest a table cell is printed (longer values are cut).
_CELL_WIDTH = 40


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `query` command."""
    parser = subparsers.add_parser("query", help="run SQL on the snapshot")
    common.add_file_argument(parser, as_of_commit=True)
    parser.add_argument("sql", metavar="SQL", help="one statement (the snapshot is read-only)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", metavar="OUT", help="write every row as CSV to OUT ('-' for stdout)")
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument(
        "--out", metavar="PATH", help="write every row to the file PATH (format from its extension)"
    )
    parser.add_argument(
        "--format",
        choices=[fmt.value for fmt in ExportFormat],
        help="the format of --out (default: from its extension); parquet needs pyarrow",
    )
    common.add_attach_argument(parser)
    parser.add_argument("--limit", type=int, metavar="N", help="at most N rows")
    parser.add_argument("--functions", metavar="FILE", help="a Python file of user SQL functions")
    parser.add_argument(
        "--allow-schema-collations",
        action="store_true",
        help="register your collations even where the database's schema names them (it could run your code)",
    )
    common.add_time_limit_argument(parser, "the query")
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
    """Run the statement and stream its rows out as a table, JSON or CSV (never all of them in memory)."""
    if not args.sql.strip():
        raise UserError("No SQL given.")
    if args.limit is not None and args.limit < 0:
        raise UserError("--limit must be 0 or more.")
    common.check_time_limit(args.time_limit)
    check_user_sql(args.sql)
    outputs = [o for o in (args.csv, args.out) if o and o != "-"]
    for output in outputs:
        ensure_not_source(output, args.file)  # before the snapshot: refused at once, nothing read
    attach = common.check_attach_arguments(args, outputs)
    fmt = _out_format(args)
    registry = load_registry(args.functions)
    registry.allow_schema_collations(args.allow_schema_collations)
    with common.open_connection(args.file, [registry.hook], attach, common.source_options(args)) as conn:
        for name in sorted(registry.withheld_collations):
            print(
                f"note: your collation {common.escape_for_terminal(name)} is not registered: this database's "
                "schema names it (--allow-schema-collations registers it)",
                file=sys.stderr,
            )
        active().start_time_limit(args.time_limit)
        with _translated_errors(conn, args.sql):
            cursor = execute_user_sql(conn, args.sql)  # the one place the user's statement runs
            columns = [d[0] for d in cursor.description or ()]
            pages = _pages(cursor, args.limit)
            if fmt is not None:
                _write_file(columns, pages, args.out, fmt, args.file)
            elif args.csv:
                _write_csv(columns, pages, args.csv, args.file)
            elif args.json:
                _stream_json(columns, pages)
            else:
                _print_table(columns, pages)
    return 0


@contextmanager
def _translated_errors(conn: sqlite3.Connection, sql: str) -> Iterator[None]:
    """Turn SQLite's errors while the statement runs or its rows are read into one clear UserError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise (
            function_query_error(conn, exc, sql) or refused_error(conn, exc, sql) or _query_error(exc, sql)
        ) from None
    except UnicodeDecodeError:  # SQLite's message or a column name quotes bytes that are not UTF-8
        raise QueryError(
            "SQLite's answer holds a name that is not valid UTF-8 (a damaged schema?).", sql=sql
        ) from None


def _query_error(exc: sqlite3.Error, sql: str) -> QueryError:
    text = str(exc)
    if "readonly" in text.replace(" ", "").lower():
        return ReadOnlyError("The snapshot is read-only: this statement would change it.", sql=sql)
    return QueryError(f"SQL error: {text}", sql=sql)


def _write_csv(columns: list[str], pages: Iterator[list[tuple[Any, ...]]], out: str, source: str) -> None:
    """CSV to stdout, or to the file `out` through a temporary file renamed when complete."""
    if out == "-":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for page in pages:
            writer.writerows(page)
        return
    from desktop_app.core.export.csv_file import CsvOptions, export_csv

    with active().quiet() as cancel:  # Ctrl-C: the export stops at its next page, the file is removed
        # The one place the file is opened; never the source database or its sidecars.
        result = export_csv(pages, columns, out, CsvOptions(), cancel=cancel, source_path=source)
    print(f"{result.rows:,} rows written to {result.path}", file=sys.stderr)


def _out_format(args: argparse.Namespace) -> ExportFormat | None:
    """The format `--out` writes (from `--format` or the extension), checked before anything is read."""
    if args.format and not args.out:
        raise UserError("--format goes with --out PATH.")
    if not args.out:
        return None
    if args.out == "-":
        raise UserError("--out needs a file name (for stdout use --csv - or --json).")
    fmt = parse_format(args.format) if args.format else format_for_path(args.out)
    if fmt is None:
        names = ", ".join(f.value for f in ExportFormat)
        raise UserError(f"Cannot tell the format from the name {args.out!r}: add --format ({names}).")
    if not available(fmt):
        raise UserError(fmt.info.install_hint or f"{fmt.info.label} export is not available here.")
    return fmt


def _write_file(
    columns: list[str], pages: Iterator[list[tuple[Any, ...]]], out: str, fmt: ExportFormat, source: str
) -> None:
    """Every row to the file `out` in `fmt`, through a temporary file renamed when complete."""
    from desktop_app.core.export.run import export_rows

    with active().quiet() as cancel:  # Ctrl-C: the export stops at its next page, the file is removed
        result = export_rows(pages, columns, out, fmt, cancel=cancel, source_path=source)
    print(f"{result.rows:,} rows written to {result.path} ({fmt.info.label})", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)


def _stream_json(columns: list[str], pages: Iterator[list[tuple[Any, ...]]]) -> None:
    """Print `{"columns": [...], "rows": [[...], ...]}` a page at a time, one row a line."""
    out = sys.stdout

    def dumps(value: Any) -> str:
        return json.dumps(common.to_jsonable(value), ensure_ascii=False, allow_nan=False)

    out.write(f'{{\n  "columns": {dumps(columns)},\n  "rows": [')
    any_rows = False
    for page in pages:
        lines = ",\n    ".join(dumps(list(row)) for row in page)
        out.write(f"{',' if any_rows else ''}\n    {lines}")
        any_rows = True
    out.write("\n  ]\n}\n" if any_rows else "]\n}\n")


def _print_table(columns: list[str], pages: Iterator[list[tuple[Any, ...]]]) -> None:
    """Print rows as they come; column widths are set by the header and the first page."""

    def cell(value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bytes):
            return f"<BLOB {len(value)} bytes>"
        return common.escape_for_terminal(str(value))

    def line(cells: list[str], widths: list[int]) -> str:
        return "  ".join(c[:_CELL_WIDTH].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    names = [common.escape_for_terminal(c) for c in columns]
    first = next(pages, [])
    shown = [[cell(v) for v in row] for row in first]
    widths = [min(_CELL_WIDTH, max([len(c)] + [len(r[i]) for r in shown])) for i, c in enumerate(names)]
    print(line(names, widths))
    print("  ".join("-" * w for w in widths))
    count = 0
    for row in shown:
        print(line(row, widths))
    count += len(shown)
    for page in pages:
        for row in page:
            print(line([cell(v) for v in row], widths))
        count += len(page)
    print(f"({count:,} row{'s' if count != 1 else ''})")
