"""`snapshot-browser-cli blobs FILE (--table T | --query SQL) --column C --out DIR`: export blobs to files."""

from __future__ import annotations

import argparse
import sys

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.blobs.export import BlobExportOptions, export_column, export_query_column
from desktop_app.core.blobs.names import DEFAULT_NAME_PATTERN
from desktop_app.core.progress import Progress

#: Failures listed one per line before the summary; the rest are counted.
_FAILURES_SHOWN = 20


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `blobs` command."""
    parser = subparsers.add_parser(
        "blobs",
        help="export every blob of a column to files in a folder",
        description=(
            "Export each value of TABLE.COLUMN to its own file in DIR. NULLs are skipped; empty blobs "
            "become empty files. Name fields: {rowid}, {pk}, {n} (row number), {ext} (from the type), "
            "or any column, e.g. {zoom_level}-{tile_column}{ext}; format specs work: {n:05d}. "
            "With --query, COLUMN is a column of the query's result."
        ),
    )
    common.add_file_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--table", help="table or view holding the blobs")
    source.add_argument("--query", metavar="SQL", help="a SELECT whose result holds the blobs")
    parser.add_argument("--column", required=True, help="column holding the blobs")
    parser.add_argument("--schema", default="main", help="attached schema (default: main)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write to (created if missing)")
    parser.add_argument(
        "--name",
        default=DEFAULT_NAME_PATTERN,
        metavar="PATTERN",
        help=f"file name pattern ({DEFAULT_NAME_PATTERN})",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace files already in DIR")
    parser.add_argument("--skip-empty", action="store_true", help="write no file for empty blobs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def _print_progress(progress: Progress) -> None:
    total = f"/{progress.total}" if progress.total is not None else ""
    sys.stderr.write(f"\r{progress.done}{total} rows  {progress.label[:60]:<60}")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Export the column and print a summary; exit status 1 when any row failed."""
    show_progress = not args.json and sys.stderr.isatty()
    options: BlobExportOptions = {
        "pattern": args.name,
        "overwrite": args.overwrite,
        "skip_empty": args.skip_empty,
        "progress": _print_progress if show_progress else lambda _progress: None,
        "source_path": args.file,  # no file written may be the database or one of its sidecars
    }
    # Ctrl-C: the export stops between two chunks, removes the file it was writing, keeps earlier ones.
    with (
        common.open_connection(args.file, options=common.source_options(args)) as conn,
        active().quiet() as cancel,
    ):
        options["cancel"] = cancel
        if args.query is not None:
            result = export_query_column(conn, args.query, args.column, args.out, **options)
        else:
            result = export_column(conn, args.table, args.column, args.out, schema=args.schema, **options)
    if show_progress:
        sys.stderr.write("\r" + " " * 80 + "\r")
    if args.json:
        common.emit_json(result.as_dict())
    else:
        for failure in result.failures[:_FAILURES_SHOWN]:
            row, reason = common.escape_for_terminal(failure.row), common.escape_for_terminal(failure.reason)
            print(f"failed: {row}: {reason}", file=sys.stderr)
        if result.failed > _FAILURES_SHOWN:
            print(f"failed: … and {result.failed - _FAILURES_SHOWN} more", file=sys.stderr)
        print(common.escape_for_terminal(result.summary()))
    return 1 if result.failures else 0
