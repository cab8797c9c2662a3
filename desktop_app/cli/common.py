"""Shared pieces of the headless commands: opening a snapshot, printing JSON and tables."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.cli.interrupts import interruptible_hook
from desktop_app.core.errors import EncryptedDatabase, SeveralDatabases, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.visible_names import spelled_out, visible_name
from desktop_app.core.snapshot.attached import Attachments, attach_file
from desktop_app.core.snapshot.encrypted import CipherKey, CipherSettings
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.connection import ConnectionHook
from desktop_app.core.values.text import InvalidText


def add_file_argument(parser: argparse.ArgumentParser, *, as_of_commit: bool = False) -> None:
    """Add the positional FILE argument every command takes, and how to open a packed or encrypted one
    (`as_of_commit`: and `--as-of-commit N`, the database as of a commit of its `-wal`)."""
    parser.add_argument(
        "file",
        metavar="FILE",
        help="SQLite database file (never modified); may be packed (.gz, .bz2, .xz, .zst, .zip, .tar*, "
        ".apkg) or encrypted with SQLCipher",
    )
    parser.add_argument(
        "--member",
        metavar="NAME",
        help="the database to open inside a packed file that holds several",
    )
    parser.add_argument(
        "--key-file",
        metavar="KEYFILE",
        help="file whose content is the passphrase of an encrypted (SQLCipher) database, or its raw key "
        "written x'…' (one trailing newline is ignored)",
    )
    parser.add_argument(
        "--cipher-compat",
        type=int,
        choices=(3, 4),
        default=4,
        help="SQLCipher version whose default settings the encrypted file uses (default 4)",
    )
    if as_of_commit:
        parser.add_argument(
            "--as-of-commit",
            type=int,
            metavar="N",
            help="read the database as it was after commit N of its -wal (the `wal` command lists them)",
        )


@dataclass(frozen=True)
class SourceOptions:
    """How to open FILE: the database inside a packed file, and the key of an encrypted one."""

    member: str | None = None
    key: CipherKey | None = None
    #: Open the database as of this commit of its `-wal` (`--as-of-commit N`), else as it is now.
    as_of_commit: int | None = None


def source_options(args: argparse.Namespace) -> SourceOptions:
    """The `--member`, `--key-file` and `--cipher-compat` of a command's arguments."""
    key = None
    key_file = getattr(args, "key_file", None)
    if key_file is not None:
        key = CipherKey(read_key_file(key_file), CipherSettings(compatibility=args.cipher_compat))
    as_of = getattr(args, "as_of_commit", None)
    if as_of is not None and (key is not None or getattr(args, "member", None) is not None):
        raise UserError(
            "--as-of-commit reads the -wal beside a plain database file, not a packed or encrypted one."
        )
    return SourceOptions(member=getattr(args, "member", None), key=key, as_of_commit=as_of)


def read_key_file(path: str) -> str:
    """The passphrase in the file at `path`: its content without one trailing newline."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"--key-file: “{path}” cannot be read: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"--key-file: “{path}” is not UTF-8 text.") from None
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise UserError(f"--key-file: “{path}” is empty: it must hold the passphrase.")
    return text


def open_source(path: str, options: SourceOptions, cancel: CancelToken | None = None) -> Snapshot:
    """Snapshot `path` with `options`; an encrypted or multi-database file says which option it needs."""
    if options.as_of_commit is not None:
        from desktop_app.core.wal.as_of import open_as_of_commit

        return open_as_of_commit(path, options.as_of_commit, cancel=cancel)
    try:
        return open_snapshot(path, member=options.member, key=options.key, cancel=cancel)
    except EncryptedDatabase as exc:
        if exc.wrong_key or not exc.available:
            raise
        raise UserError(
            f"“{Path(path).name}” looks encrypted (for example with SQLCipher): give its passphrase with "
            "--key-file FILE "
            "(add --cipher-compat 3 for a SQLCipher 3 database)."
        ) from None
    except SeveralDatabases as exc:
        raise UserError(f"{exc.message} Choose one with --member NAME.") from None


def add_time_limit_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """Add `--time-limit SECONDS` (default `LIMITS.cli_time_limit_s`), stopping `what` after that long."""
    parser.add_argument(
        "--time-limit",
        type=float,
        default=LIMITS.cli_time_limit_s,
        metavar="SECONDS",
        help=f"stop {what} after SECONDS (default {LIMITS.cli_time_limit_s:g}; 0 = no limit)",
    )


def check_time_limit(seconds: float) -> None:
    """Refuse a negative `--time-limit`."""
    if seconds < 0:
        raise UserError("--time-limit must be 0 (none) or more seconds.")


def add_attach_argument(parser: argparse.ArgumentParser) -> None:
    """Add `--attach NAME=FILE` (repeatable): another database, snapshotted, usable as NAME.table."""
    parser.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="also snapshot FILE (read-only, never modified) and use its tables as NAME.table; repeatable",
    )


def check_attach_arguments(values: Sequence[str], outputs: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The `--attach` values as (name, file), checked before anything is read; outputs may not be them."""
    from desktop_app.core.export.output_paths import ensure_not_source
    from desktop_app.core.snapshot.attached import check_schema_name, parse_attach_argument

    pairs: list[tuple[str, str]] = []
    for value in values:
        name, path = parse_attach_argument(value)
        check_schema_name(name, [n for n, _ in pairs])
        for output in outputs:
            ensure_not_source(output, path)
        pairs.append((name, path))
    return pairs


@contextmanager
def attached_for_cli(pairs: Sequence[tuple[str, str]]) -> Iterator[Attachments]:
    """Snapshot each (name, file) to attach; their `hook` attaches them all on a connection."""
    attachments = Attachments()
    try:
        for name, path in pairs:
            attach_file(attachments, name, path)
        yield attachments
    finally:
        attachments.close()


@contextmanager
def open_snapshot_for_cli(path: str, options: SourceOptions | None = None) -> Iterator[Snapshot]:
    """Snapshot `path` (read-only) and close it afterwards."""
    snapshot = open_source(path, options or SourceOptions())
    try:
        yield snapshot
    finally:
        snapshot.close()


def connect(snapshot: Snapshot, hooks: Sequence[ConnectionHook] = ()) -> sqlite3.Connection:
    """A query-only connection to `snapshot` that Ctrl-C and the time limit can stop mid-statement."""
    return snapshot.connect([*hooks, interruptible_hook])


@contextmanager
def open_connection(
    path: str,
    hooks: Sequence[ConnectionHook] = (),
    attach: Sequence[tuple[str, str]] = (),
    options: SourceOptions | None = None,
) -> Iterator[sqlite3.Connection]:
    """Snapshot `path` (and each file to `attach`) and yield a query-only, interruptible connection."""
    with open_snapshot_for_cli(path, options) as snapshot, attached_for_cli(attach) as attachments:
        conn = connect(snapshot, [*hooks, attachments.hook])
        try:
            yield conn
        finally:
            conn.close()


def escape_for_terminal(text: str) -> str:
    """A value for text output: newlines, escapes (ANSI), bidi and invisible characters spelled out."""
    return spelled_out(text)


def terminal_name(name: str) -> str:
    """A table, column or file name for text output: spelled out as the UI shows it, quoted when blank."""
    return visible_name(name)


def to_jsonable(value: Any) -> Any:
    """Return `value` as something `json.dumps` accepts (bytes → {"$base64": ...}, NaN/Inf → strings)."""
    import base64
    import math

    if isinstance(value, bytes):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, InvalidText):  # text that is not UTF-8: its bad bytes escaped (\xff)
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout."""
    json.dump(to_jsonable(data), sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
    sys.stdout.write("\n")
