"""`snapshot-browser-cli check FILE`: SQLite's integrity and foreign-key checks, on a snapshot."""

from __future__ import annotations

import argparse
from typing import Any

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.errors import DatabaseDamaged, UserError
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.structure.health import HealthReport, IntegrityResult, check_health, parse_messages


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `check` command."""
    parser = subparsers.add_parser("check", help="integrity and foreign-key checks (SQLite's own)")
    common.add_file_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--quick", action="store_true", help="quick_check: skip comparing indexes with their tables"
    )
    common.add_time_limit_argument(parser, "the check")
    parser.set_defaults(run=run)


def check(
    path: str,
    *,
    quick: bool = False,
    time_limit_s: float = 0.0,
    options: common.SourceOptions | None = None,
) -> HealthReport:
    """Check the database at `path` on a snapshot of it; a file too damaged to open is a finding."""
    stopper = active()
    try:
        snapshot = common.open_source(path, options or common.SourceOptions(), cancel=stopper.cancel)
    except DatabaseDamaged as exc:  # SQLite's own check stops on this file with the same words
        check_name = "quick_check" if quick else "integrity_check"
        integrity = IntegrityResult(check_name, [exc.said], parse_messages([exc.said]))
        return HealthReport(integrity, [], foreign_keys_checked=False)
    try:
        conn = common.connect(snapshot)
        try:
            stopper.start_time_limit(time_limit_s)
            try:
                catalog = read_catalog(conn)
            except Exception:  # a damaged schema: the problems are then named without their tables
                catalog = None
            report = check_health(conn, stopper.cancel, quick=quick, catalog=catalog)
            if stopper.timed_out:  # the limit struck between two statements: the handler was off then
                raise UserError("stopped (time limit)")
            return report
        finally:
            conn.close()
    finally:
        snapshot.close()


def as_json(report: HealthReport) -> dict[str, Any]:
    """The report in the command's JSON shape (the first three keys are the documented contract)."""
    return {
        "ok": report.ok,
        "integrity": report.integrity.messages,
        "foreign_keys": [v.as_dict() for v in report.foreign_keys],
        "check": report.integrity.check,
        "problems": [{k: v for k, v in vars(p).items() if v is not None} for p in report.integrity.problems],
        "summary": report.summary(),
    }


def run(args: argparse.Namespace) -> int:
    """Run the checks and print what they found; exit status 0 whatever they found."""
    common.check_time_limit(args.time_limit)
    options = common.source_options(args)
    report = check(args.file, quick=args.quick, time_limit_s=args.time_limit, options=options)
    if args.json:
        common.emit_json(as_json(report))
        return 0
    print(common.escape_for_terminal(report.summary()))
    if report.integrity.problems:
        print(f"{'table or index':<24} {'page':>8} {'row':>10}  problem")
        for problem in report.integrity.problems:
            name = common.terminal_name(problem.object) if problem.object is not None else "-"
            page = str(problem.page) if problem.page is not None else "-"
            row = str(problem.row) if problem.row is not None else "-"
            print(f"{name:<24} {page:>8} {row:>10}  {common.escape_for_terminal(problem.message)}")
    if report.foreign_keys:
        print(f"{'table':<24} {'rowid':>10} {'parent':<24} {'fkid':>4}")
        for violation in report.foreign_keys:
            rowid = str(violation.rowid) if violation.rowid is not None else "-"
            print(
                f"{common.terminal_name(violation.table):<24} {rowid:>10} "
                f"{common.terminal_name(violation.parent):<24} {violation.fkid:>4}"
            )
    return 0
