"""`snapshot-browser-cli recover FILE [--table T] [--json] [--compare-live]`: deleted records carved from
free space, optionally each next to the live row with its key."""

from __future__ import annotations

import argparse
import sys

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.errors import UserError
from desktop_app.core.recovery.live import compare_with_live
from desktop_app.core.recovery.model import RecoveredRecord, RecoveryResult
from desktop_app.core.recovery.output import LOST_TEXT, result_as_dict, summary
from desktop_app.core.recovery.record import LOST
from desktop_app.core.recovery.report import export_report
from desktop_app.core.recovery.scan import recover
from desktop_app.core.schema.catalog import read_tables

#: Widest a value is printed in the text table (longer ones are cut).
_VALUE_WIDTH = 40


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `recover` command."""
    parser = subparsers.add_parser(
        "recover", help="deleted records carved from free space (freelist, freeblocks, dropped tables)"
    )
    common.add_file_argument(parser)
    parser.add_argument("--table", help="only records that most likely belonged to this table")
    parser.add_argument("--json", action="store_true", help='print JSON (blobs as {"$base64": ...})')
    parser.add_argument(
        "--report",
        metavar="OUT",
        help="also write the case-file report (hashes before and after, header, records): .json or text",
    )
    parser.add_argument(
        "--compare-live",
        action="store_true",
        help="compare each record with the live row that has its key (rowid or primary key)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Carve the snapshot's free space and print the records found; exit status 0 whatever was found."""
    with common.open_snapshot_for_cli(args.file, common.source_options(args)) as snapshot:
        conn = common.connect(snapshot)
        try:
            tables = [t.name for t in read_tables(conn, hidden=False)]
            with active().quiet() as cancel:
                if args.report:
                    source, taken = snapshot.source or snapshot.path, snapshot.taken_at
                    _path, data, result = export_report(
                        conn, source, args.report, snapshot_taken=taken, cancel=cancel
                    )
                    if not data["file_unchanged"]:
                        print("warning: the file changed while it was read (see the report)", file=sys.stderr)
                else:
                    result = recover(conn, cancel=cancel)
                records = result.records
                if args.table is not None:
                    records = _for_table(result, args.table, tables)
                live = compare_with_live(conn, records, cancel) if args.compare_live else None
        finally:
            conn.close()
    if args.json:
        data = result_as_dict(result, records)
        if live is not None:
            for entry, found in zip(data["records"], live, strict=True):
                entry["live"] = found.as_dict()
        common.emit_json(data)
        return 0
    if records:
        print(f"{'table':<20} {'source':<13} {'page':>7} {'offset':>6} {'conf':>5}  values")
        for index, record in enumerate(records):
            print(_line(record))
            if live is not None:
                print("  live: " + common.escape_for_terminal(live[index].message(record.columns)))
    print(common.escape_for_terminal(summary(result, len(records))))
    if result.note:
        print(common.escape_for_terminal(result.note))
    return 0


def _for_table(result: RecoveryResult, table: str, tables: list[str]) -> list[RecoveredRecord]:
    known = {t.lower(): t for t in [*tables, *result.dropped_tables]}
    name = known.get(table.lower())
    if name is None:
        listed = ", ".join(common.terminal_name(t) for t in tables) or "none"
        raise UserError(f"No table called {table} (tables: {listed}).")
    return [r for r in result.records if r.table == name]


def _line(record: RecoveredRecord) -> str:
    table = common.terminal_name(record.table) if record.table is not None else "(unknown table)"
    values = ", ".join(_value(v) for v in record.values)
    return (
        f"{table:<20} {record.source.value:<13} {record.page:>7} {record.offset:>6} "
        f"{record.confidence:>5.2f}  {values}"
    )


def _value(value: object) -> str:
    if value is LOST:
        return LOST_TEXT
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        text = "x'" + value[:16].hex() + ("…" if len(value) > 16 else "") + "'"
    else:
        text = common.escape_for_terminal(str(value))
    return text if len(text) <= _VALUE_WIDTH else text[: _VALUE_WIDTH - 1] + "…"
