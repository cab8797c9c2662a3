"""`snapshot-browser-cli search FILE TEXT`: find text anywhere in the database."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.search import (
    Hit,
    HitBatch,
    IndexTooLarge,
    SearchFinished,
    SearchIndex,
    SearchOptions,
    SearchStarted,
    TableDone,
    estimate_index,
    search,
)

_BOLD, _PLAIN = "\033[1m", "\033[0m"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `search` command."""
    parser = subparsers.add_parser("search", help="find text in every table and column")
    common.add_file_argument(parser, as_of_commit=True)
    parser.add_argument("text", metavar="TEXT", help="what to look for")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--limit", type=int, metavar="N", default=LIMITS.search_hits_total, help="stop after N hits in all"
    )
    parser.add_argument(
        "--per-table",
        type=int,
        metavar="N",
        default=LIMITS.search_hits_per_table,
        help="at most N hits a table",
    )
    parser.add_argument("--case-sensitive", action="store_true", help="match upper/lower case exactly")
    parser.add_argument("--whole-word", action="store_true", help="match whole words only")
    parser.add_argument("--regex", action="store_true", help="TEXT is a regular expression (RE2 syntax)")
    parser.add_argument("--blobs", action="store_true", help="also match blob bytes read as text")
    parser.add_argument("--numbers", action="store_true", help="also match numbers by their text form")
    parser.add_argument("--views", action="store_true", help="also search views")
    parser.add_argument(
        "--table", action="extend", nargs="+", default=[], metavar="T", help="search only these tables"
    )
    parser.add_argument(
        "--column",
        action="append",
        nargs=2,
        default=[],
        metavar=("T", "C"),
        help="search column C of table T",
    )
    parser.add_argument(
        "--no-fts", action="store_true", help="scan even where a full-text table could answer"
    )
    parser.add_argument("--index", action="store_true", help="build the instant search index first, use it")
    common.add_attach_argument(parser)
    parser.set_defaults(run=run)


def options_from(args: argparse.Namespace) -> SearchOptions:
    """The search options the command line asks for."""
    for flag, value in (("--limit", args.limit), ("--per-table", args.per_table)):
        if value < 1:
            raise UserError(f"{flag} must be 1 or more.")
    return SearchOptions(
        text=args.text,
        case_sensitive=args.case_sensitive,
        whole_word=args.whole_word,
        regex=args.regex,
        include_blobs=args.blobs,
        include_numbers=args.numbers,
        include_views=args.views,
        tables=tuple(args.table),
        columns=tuple((table, column) for table, column in args.column),
        limit_per_table=args.per_table,
        limit=args.limit,
        use_fts=not args.no_fts,
    )


def run(args: argparse.Namespace) -> int:
    """Search and print hits as they are found (or all of them as JSON at the end)."""
    options = options_from(args)
    cancel = active().cancel  # Ctrl-C: the search stops, SQLite mid-statement included
    attach = common.check_attach_arguments(args)
    with (
        common.open_snapshot_for_cli(args.file, common.source_options(args)) as snapshot,
        common.attached_for_cli(attach) as attachments,
    ):
        conn = common.connect(snapshot, [attachments.hook])
        index = None
        refused = None
        try:
            if args.index:
                index, refused = _build_index(conn, snapshot.generation, cancel, quiet=args.json)
            events = search(conn, options, index=index, cancel=cancel)
            if args.json:
                report = _report(events, options, index)
                if refused is not None:
                    report["index_refused"] = refused
                common.emit_json(report)
            else:
                _print_events(events, index, highlight=sys.stdout.isatty())
        finally:
            conn.close()
            if index is not None:
                index.close()
    return 0


def _build_index(
    conn: sqlite3.Connection, generation: int, cancel: CancelToken, *, quiet: bool
) -> tuple[SearchIndex | None, str | None]:
    """The index, after saying what it will take; (None, why) when it is too large: the search scans."""
    estimate = estimate_index(conn)
    if not quiet and estimate.refusal is None:
        print(f"index: building, {estimate.summary()}", file=sys.stderr)
    try:
        return SearchIndex.build(conn, generation=generation, cancel=cancel, estimate=estimate), None
    except IndexTooLarge as exc:
        if not quiet:
            print(f"note: {exc.message}", file=sys.stderr)
        return None, exc.message


def _report(events: Iterator[Any], options: SearchOptions, index: SearchIndex | None) -> dict[str, Any]:
    hits: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    report: dict[str, Any] = {"query": options.text, "hits": hits, "tables": tables}
    for event in events:
        if isinstance(event, SearchStarted):
            report["uses_index"] = event.uses_index
            report["index_note"] = event.note
        elif isinstance(event, HitBatch):
            hits.extend(hit.as_dict() for hit in event.hits)
        elif isinstance(event, TableDone):
            tables.append(
                {
                    "table": event.table,
                    "hits": event.hits,
                    "truncated": event.truncated,
                    "method": event.method.value,
                    "note": event.note,
                    "error": event.error,
                }
            )
        elif isinstance(event, SearchFinished):
            report["truncated"] = event.truncated
            report["elapsed_ms"] = round(event.elapsed_s * 1000, 1)
    if index is not None:
        report["index"] = _index_summary(index)
    return report


def _index_summary(index: SearchIndex) -> dict[str, Any]:
    return {
        "entries": index.entries,
        "size_bytes": index.size_bytes,
        "build_ms": round(index.build_seconds * 1000, 1),
        "location": index.location.value,
        "estimate": index.estimate.as_dict() if index.estimate is not None else None,
        "notes": index.notes,
        "scanned": index.scanned,
    }


def _print_events(events: Iterator[Any], index: SearchIndex | None, *, highlight: bool) -> None:
    if index is not None:
        summary = _index_summary(index)
        print(
            f"index: {summary['entries']:,} values, {summary['size_bytes']:,} bytes "
            f"({summary['location']}), built in {summary['build_ms']} ms",
            file=sys.stderr,
        )
    for event in events:
        if isinstance(event, SearchStarted) and event.note and index is not None:
            print(f"note: {common.escape_for_terminal(event.note)}; scanning instead", file=sys.stderr)
        elif isinstance(event, HitBatch):
            for hit in event.hits:
                print(_hit_line(hit, highlight))
            sys.stdout.flush()
        elif isinstance(event, TableDone) and (event.error or event.truncated):
            detail = event.note or f"stopped after {event.hits:,} hits"
            print(
                f"note: {common.terminal_name(event.table)}: {common.escape_for_terminal(detail)}",
                file=sys.stderr,
            )
        elif isinstance(event, SearchFinished):
            more = " (stopped at a limit)" if event.truncated else ""
            print(
                f"{event.hits:,} hits in {event.tables_done} of {event.tables_total} tables, "
                f"{event.elapsed_s * 1000:.0f} ms{more}",
                file=sys.stderr,
            )


def _hit_line(hit: Hit, highlight: bool) -> str:
    """One hit for the terminal: names and text escaped piece by piece, so highlights stay in place."""
    snippet = hit.snippet
    pieces: list[str] = []
    done = 0
    for start, end in hit.spans:
        if start < done:
            continue
        match = common.escape_for_terminal(snippet[start:end])
        pieces += [
            common.escape_for_terminal(snippet[done:start]),
            f"{_BOLD}{match}{_PLAIN}" if highlight else match,
        ]
        done = end
    pieces.append(common.escape_for_terminal(snippet[done:]))
    where = common.escape_for_terminal(hit.key.label()) if hit.key else "(view)"
    return (
        f"{common.terminal_name(hit.table)}  {where}  {common.terminal_name(hit.column)}: {''.join(pieces)}"
    )
