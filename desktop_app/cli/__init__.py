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
from desktop_app.core.schema.visible_names import spelled_out

#: One module per command, each with `add_parser(subparsers)` and `run(args) -> int`; the text is the
#: command's line in `--help`. Only the command being run is imported (the others cost start-up time).
COMMANDS = {
    "info": "tables, views, indexes, triggers, row counts, page size",
    "query": "run SQL on the snapshot",
    "search": "find text in every table and column",
    "blobs": "export every blob of a column to files in a folder",
    "migrations": "migration tools, applied history and pending migrations",
    "functions": "list every SQL function and collation available (SQLite's, built-in and yours)",
    "check": "integrity and foreign-key checks (SQLite's own)",
    "profile": "column profiles: NULLs, distinct, range, storage classes, top values, histogram",
    "erd": "draw the ER diagram (tables, columns, foreign keys) as SVG or PNG",
    "diff": "what changed between two databases (rows and schema; --sql turns A into B)",
    "recover": "deleted records carved from free space (freelist, freeblocks, dropped tables)",
    "wal": "the commits a -wal still holds (open one with --as-of-commit N on query, info, search)",
}
COMMAND_MODULES = tuple(COMMANDS)

log = logging.getLogger(__name__)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser: the full options of `command` (every command's when None), and a line
    of help for each of the others."""
    parser = argparse.ArgumentParser(
        prog="snapshot-browser-cli",
        description="Headless commands over a read-only snapshot of a SQLite database.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        if command is not None and name != command:
            subparsers.add_parser(name, help=COMMANDS[name], add_help=False)
            continue
        try:
            module = importlib.import_module(f"desktop_app.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"desktop_app.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def _command_in(argv: Sequence[str]) -> str:
    """The command named by `argv` (its first argument that is not an option), or '' for none."""
    first = next((arg for arg in argv if not arg.startswith("-")), "")
    return first if first in COMMANDS else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit status 0 on success, 1 on a user error with one line on stderr.

    Ctrl-C stops any command: exit status 130 with the one line "interrupted".
    """
    with stopper_installed() as stopper:
        try:
            arguments = list(sys.argv[1:] if argv is None else argv)
            # Importing the command takes a moment: stoppable too.
            args = build_parser(_command_in(arguments)).parse_args(arguments)
            _check_text_arguments(args)
            status = int(args.run(args) or 0)
        except BaseException as exc:  # every outcome becomes one line and an exit status
            return _failed(exc, stopper)
        if stopper.interrupted:  # a job that stops quietly on Ctrl-C (search) still ends "interrupted"
            return _failed(KeyboardInterrupt(), stopper)
        return status


#: Arguments that are paths: any bytes the file system allows are fine there (Python keeps them).
_PATH_ARGUMENTS = frozenset({"file", "other", "csv", "out", "functions", "folder", "run"})


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
