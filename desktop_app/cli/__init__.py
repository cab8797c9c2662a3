"""`snapshot-browser-cli`: every pane's capability as a headless command (no Qt)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sqlite3
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app.core.errors import UserError

#: One module per command, each with `add_parser(subparsers)` and `run(args) -> int`.
COMMAND_MODULES = ("info", "query", "search", "blobs", "migrations", "functions")

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available command."""
    parser = argparse.ArgumentParser(
        prog="snapshot-browser-cli",
        description="Headless commands over a read-only snapshot of a SQLite database.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"desktop_app.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"desktop_app.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit status 0 on success, 1 on a user error with one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UserError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line for the user, the traceback in the log
        if type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError):
            # The file's content stopped a read half way (a damaged page, a schema SQLite refuses to
            # load); subclasses such as ProgrammingError stay bugs of ours.
            print(f"error: the database could not be read: {exc}", file=sys.stderr)
            return 1
        from desktop_app.core.logs import log_exception

        where = log_exception(exc)
        print(f"error: something went wrong ({type(exc).__name__}); details in {where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
