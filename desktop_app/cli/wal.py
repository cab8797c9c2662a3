"""`snapshot-browser-cli wal FILE`: the commits the database's `-wal` still holds."""

from __future__ import annotations

import argparse

from desktop_app.cli import common
from desktop_app.cli.interrupts import active
from desktop_app.core.wal.history import read_wal_history


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `wal` command."""
    parser = subparsers.add_parser(
        "wal",
        help="the commits a -wal still holds (open one with --as-of-commit N on query, info, search)",
        description="List every commit in the database's -wal: frames, salts, pages written, database size "
        "and the tables each touched. Stale commits (from before the last checkpoint) are listed, marked. "
        "Neither file is opened in place nor changed.",
    )
    parser.add_argument("file", metavar="FILE", help="SQLite database file in WAL mode (never modified)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the commits."""
    history = read_wal_history(args.file, cancel=active().cancel)
    if args.json:
        common.emit_json(
            {
                "file": str(history.path),
                "page_size": history.page_size,
                "checkpoint_sequence": history.checkpoint_sequence,
                "salt": history.salt,
                "wal_bytes": history.wal_bytes,
                "commits": [c.as_json() for c in history.commits],
                "notes": history.notes,
            }
        )
        return 0
    print(
        f"{common.escape_for_terminal(str(history.path))}-wal: {history.wal_bytes:,} bytes, page size "
        f"{history.page_size}, checkpoint {history.checkpoint_sequence}, salt {history.salt}"
    )
    print(f"{'commit':>6}  {'frames':>13}  {'pages':>6}  {'db pages':>8}  tables")
    for commit in history.commits:
        frames = f"{commit.first_frame}–{commit.last_frame}"
        tables = ", ".join(common.terminal_name(t) for t in commit.tables)
        stale = "  (stale, salt " + commit.salt + ")" if commit.stale else ""
        print(f"{commit.number:>6}  {frames:>13}  {commit.pages:>6}  {commit.db_pages:>8}  {tables}{stale}")
    for note in history.notes:
        print(f"note: {common.escape_for_terminal(note)}")
    return 0
