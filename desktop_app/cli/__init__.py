"""`snapshot-browser-cli`: every pane's capability as a headless command (no Qt)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sqlite3
import sys
from collections.abc import Sequence

from desktop_app import __version__
from desktop_app.cli.interrupts import Stopper, stopper_installed
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.visible_names import spelled_out

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
    """Run one command; exit status 0 on success, 1 on a user error with one line on stderr.

    Ctrl-C stops any command: exit status 130 with the one line "interrupted".
    """
    with stopper_installed() as stopper:
        try:
            args = build_parser().parse_args(argv)  # importing the commands takes a moment: stoppable too
            _check_text_arguments(args)
            status = int(args.run(args) or 0)
        except BaseException as exc:  # every outcome becomes one line and an exit status
            return _failed(exc, stopper)
        if stopper.interrupted:  # a job that stops quietly on Ctrl-C (search) still ends "interrupted"
            return _failed(KeyboardInterrupt(), stopper)
        return status


#: Arguments that are paths: any bytes the file system allows are fine there (Python keeps them).
_PATH_ARGUMENTS = frozenset({"file", "csv", "out", "functions", "folder", "run"})


def _check_text_arguments(args: argparse.Namespace) -> None:
    """Refuse SQL, names and search text that are not valid UTF-8 (the terminal passed raw bytes)."""
    for dest, value in vars(args).items():
        if dest in _PATH_ARGUMENTS:
            continue
        for text in value if isinstance(value, list | tuple) else [value]:
            for item in text if isinstance(text, list | tuple) else [text]:
                if isinstance(item, str):
                    _require_utf8(dest, item)


def _require_utf8(dest: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = text[exc.start].encode("utf-8", "surrogateescape")
        what = dest.upper() if dest in ("sql", "text") else f"--{dest.replace('_', '-')}"
        raise UserError(
            f"The {what} argument is not valid UTF-8 text (byte 0x{byte.hex()} at character "
            f"{exc.start + 1}). Check the terminal's encoding."
        ) from None


def _failed(exc: BaseException, stopper: Stopper) -> int:
    """Print the one line for `exc` and return the exit status."""
    if stopper.interrupted:  # whatever Ctrl-C surfaced as: SQLite's "interrupted", a function's error…
        print("interrupted", file=sys.stderr)
        return 130
    if stopper.timed_out and isinstance(exc, UserError | sqlite3.Error):
        print(f"error: stopped after {stopper.time_limit_s:g} s (time limit)", file=sys.stderr)
        return 1
    if isinstance(exc, KeyboardInterrupt | Cancelled):
        print("interrupted", file=sys.stderr)
        return 130
    if isinstance(exc, UserError):  # its message may quote names and SQL: spelled out, on one line
        print(f"error: {spelled_out(exc.message)}", file=sys.stderr)
        return 1
    if isinstance(exc, BrokenPipeError):
        return 0
    if isinstance(exc, SystemExit | GeneratorExit) or not isinstance(exc, Exception):
        raise exc
    if type(exc) in (sqlite3.DatabaseError, sqlite3.OperationalError):
        # The file's content stopped a read half way (a damaged page, a schema SQLite refuses to
        # load); subclasses such as ProgrammingError stay bugs of ours.
        print(f"error: the database could not be read: {spelled_out(str(exc))}", file=sys.stderr)
        return 1
    from desktop_app.core.logs import log_exception

    where = log_exception(exc)  # a bug: one line for the user, the traceback in the log
    print(f"error: something went wrong ({type(exc).__name__}); details in {where}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
