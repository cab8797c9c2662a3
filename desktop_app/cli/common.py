"""Shared pieces of the headless commands: opening a snapshot, printing JSON and tables."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from desktop_app.cli.interrupts import interruptible_hook
from desktop_app.core.errors import EncryptedDatabase, SeveralDatabases, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.visible_names import spelled_out, visible_name
from desktop_app.core.snapshot.attached import Attachments, check_schema_name
from desktop_app.core.snapshot.encrypted import CipherKey, CipherSettings, salt_hex
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.snapshot.source_file import journal_in_use
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
    add_source_arguments(parser)
    if as_of_commit:
        parser.add_argument(
            "--as-of-commit",
            type=int,
            metavar="N",
            help="read the database as it was after commit N of its -wal (the `wal` command lists them)",
        )


#: The options that say how to open a file: (name, metavar, help, type). `diff` repeats them as
#: `--b-NAME` for its B side; `--attach-NAME SCHEMA=VALUE` says them for the file attached as SCHEMA.
_SOURCE_OPTIONS: tuple[tuple[str, str, str, type], ...] = (
    ("member", "NAME", "the database to open inside a packed file that holds several", str),
    (
        "key-file",
        "KEYFILE",
        "file whose content is the passphrase of an encrypted (SQLCipher) database, or its raw key "
        "written x'…' (one trailing newline is ignored)",
        str,
    ),
    (
        "cipher-compat",
        "{3,4}",
        "SQLCipher version whose default settings the encrypted file uses (default 4)",
        int,
    ),
    (
        "cipher-plaintext-header",
        "BYTES",
        "bytes the encrypted file keeps in plaintext at its start (cipher_plaintext_header_size; iOS "
        "apps use 32)",
        int,
    ),
    (
        "cipher-salt",
        "HEX",
        "the salt of an encrypted file with a plaintext header, 32 hexadecimal digits (cipher_salt; not "
        "needed with a raw key of 96 digits)",
        str,
    ),
)


def add_source_arguments(parser: argparse.ArgumentParser, prefix: str = "", whose: str = "") -> None:
    """Add `--member`, `--key-file` and the `--cipher-*` settings, each named `--{prefix}NAME` (`whose`:
    the file they apply to, said in their help when there are several)."""
    for name, metavar, text, kind in _SOURCE_OPTIONS:
        extra: dict[str, Any] = {"choices": (3, 4), "default": 4} if name == "cipher-compat" else {}
        parser.add_argument(
            f"--{prefix}{name}",
            metavar=None if extra else metavar,
            type=kind,
            help=f"{whose}: {text}" if whose else text,
            **extra,
        )


@dataclass(frozen=True)
class SourceOptions:
    """How to open FILE: the database inside a packed file, and the key of an encrypted one.

    `flag` is how the command line names this file's options (`--`, `--b-`, `--attach-…`), for messages.
    """

    member: str | None = None
    key: CipherKey | None = None
    flag: str = "--"
    #: Open the database as of this commit of its `-wal` (`--as-of-commit N`), else as it is now.
    as_of_commit: int | None = None


def source_options(args: argparse.Namespace, prefix: str = "") -> SourceOptions:
    """The `--{prefix}member`, `--{prefix}key-file` and `--{prefix}cipher-*` of a command's arguments."""
    attr = prefix.replace("-", "_")
    options = _options(
        member=getattr(args, f"{attr}member", None),
        key_file=getattr(args, f"{attr}key_file", None),
        compat=getattr(args, f"{attr}cipher_compat", 4),
        plaintext_header=getattr(args, f"{attr}cipher_plaintext_header", None),
        salt=getattr(args, f"{attr}cipher_salt", None),
        flag=f"--{prefix}",
        value_prefix="",
    )
    as_of = getattr(args, f"{attr}as_of_commit", None)
    if as_of is None:
        return options
    if options.key is not None or options.member is not None:
        raise UserError(
            "--as-of-commit reads the -wal beside a plain database file, not a packed or encrypted one."
        )
    return replace(options, as_of_commit=as_of)


def _options(
    *,
    member: str | None,
    key_file: str | None,
    compat: int,
    plaintext_header: int | None,
    salt: str | None,
    flag: str,
    value_prefix: str,
) -> SourceOptions:
    key = None
    if key_file is not None:
        settings = CipherSettings(
            compatibility=compat,
            plaintext_header_size=plaintext_header,
            salt=salt_hex(salt) if salt is not None else None,
        )
        settings.pragmas()  # a setting that cannot apply is refused before anything is read
        key = CipherKey(read_key_file(key_file, f"{flag}key-file"), settings)
    elif plaintext_header is not None or salt is not None:
        raise UserError(
            f"{flag}cipher-plaintext-header and {flag}cipher-salt go with "
            f"{flag}key-file {value_prefix}KEYFILE."
        )
    return SourceOptions(member=member, key=key, flag=flag)


def read_key_file(path: str, option: str = "--key-file") -> str:
    """The passphrase in the file at `path`: its content without one trailing newline."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"{option}: “{path}” cannot be read: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{option}: “{path}” is not UTF-8 text.") from None
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            text = text[: -len(ending)]
            break
    if not text:
        raise UserError(f"{option}: “{path}” is empty: it must hold the passphrase.")
    return text


def open_source(
    path: str,
    options: SourceOptions,
    cancel: CancelToken | None = None,
    value_prefix: str = "",
    *,
    in_place: bool = False,
) -> Snapshot:
    """Snapshot `path` with `options`; an encrypted or multi-database file says which option it needs
    (`value_prefix`: what goes before the option's value, e.g. "NAME=" for an attached file).

    `in_place`: read a plain database file in direct mode (no copy into memory) unless a rollback-journal
    writer may be part way through a transaction on it (a WAL database is read from a private copy)."""
    if options.as_of_commit is not None:
        from desktop_app.core.wal.as_of import open_as_of_commit

        return open_as_of_commit(path, options.as_of_commit, cancel=cancel)
    flag = options.flag
    try:
        direct = in_place and not journal_in_use(Path(os.path.realpath(path)))
        return open_snapshot(path, member=options.member, key=options.key, cancel=cancel, force_direct=direct)
    except EncryptedDatabase as exc:
        if exc.wrong_key or not exc.available:
            raise
        behind = (
            f" It keeps a plaintext header: add {flag}cipher-plaintext-header {value_prefix}"
            f"{exc.plaintext_header} and {flag}cipher-salt {value_prefix}HEX."
            if exc.plaintext_header
            else ""
        )
        raise UserError(
            f"“{Path(path).name}” looks encrypted (for example with SQLCipher): give its passphrase with "
            f"{flag}key-file {value_prefix}FILE "
            f"(add {flag}cipher-compat {value_prefix}3 for a SQLCipher 3 database).{behind}"
        ) from None
    except SeveralDatabases as exc:
        raise UserError(f"{exc.message} Choose one with {flag}member {value_prefix}NAME.") from None


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
    """Add `--attach NAME=FILE` (repeatable): another database, snapshotted, usable as NAME.table; and
    `--attach-member NAME=MEMBER`, `--attach-key-file NAME=KEYFILE`… to open a packed or encrypted one."""
    parser.add_argument(
        "--attach",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="also snapshot FILE (read-only, never modified) and use its tables as NAME.table; repeatable",
    )
    for name, metavar, text, _kind in _SOURCE_OPTIONS:
        parser.add_argument(
            f"--attach-{name}",
            action="append",
            default=[],
            metavar=f"NAME={metavar}",
            help=f"for the file attached as NAME: {text}",
        )


@dataclass(frozen=True)
class AttachSpec:
    """One `--attach`: the schema name, the file, and how to open it."""

    name: str
    path: str
    options: SourceOptions


def check_attach_arguments(args: argparse.Namespace, outputs: Sequence[str] = ()) -> list[AttachSpec]:
    """The `--attach` values with their `--attach-*` options, checked before anything is read; outputs
    may not be them."""
    from desktop_app.core.export.output_paths import ensure_not_source
    from desktop_app.core.snapshot.attached import parse_attach_argument

    pairs: list[tuple[str, str]] = []
    for value in args.attach:
        name, path = parse_attach_argument(value)
        check_schema_name(name, [n for n, _ in pairs])
        for output in outputs:
            ensure_not_source(output, path)
        pairs.append((name, path))
    names = [n for n, _ in pairs]
    given: dict[str, dict[str, str]] = {name: {} for name in names}
    for option, _metavar, _text, _kind in _SOURCE_OPTIONS:
        for value in getattr(args, f"attach_{option.replace('-', '_')}", None) or []:
            name, sep, text = value.partition("=")
            if not sep or not text:
                raise UserError(f"--attach-{option} takes NAME=VALUE, not {value!r}.")
            if name not in given:
                raise UserError(f"--attach-{option} {value!r}: no --attach {name}=FILE names “{name}”.")
            given[name][option] = text
    specs = []
    for name, path in pairs:
        values = given[name]
        compat = values.get("cipher-compat", "4")
        header = values.get("cipher-plaintext-header")
        if compat not in ("3", "4") or (header is not None and not header.isdigit()):
            raise UserError(
                "--attach-cipher-compat takes NAME=3 or NAME=4, and --attach-cipher-plaintext-header "
                "NAME=BYTES."
            )
        options = _options(
            member=values.get("member"),
            key_file=values.get("key-file"),
            compat=int(compat),
            plaintext_header=int(header) if header is not None else None,
            salt=values.get("cipher-salt"),
            flag="--attach-",
            value_prefix=f"{name}=",
        )
        specs.append(AttachSpec(name, path, options))
    return specs


@contextmanager
def attached_for_cli(specs: Sequence[AttachSpec]) -> Iterator[Attachments]:
    """Snapshot each file to attach; their `hook` attaches them all on a connection."""
    attachments = Attachments()
    try:
        for spec in specs:
            check_schema_name(spec.name, attachments.names)  # before its file is read
            attachments.add(spec.name, open_source(spec.path, spec.options, value_prefix=f"{spec.name}="))
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
    attach: Sequence[AttachSpec] = (),
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
