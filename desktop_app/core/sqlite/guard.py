"""The one guard on SQL: every statement on a snapshot connection is authorized here, deny by default.

Two layers, because SQLite's authorizer cannot see everything:

- `check_user_sql` reads a statement the user supplied (SQL pane, CLI `query`, `blobs --query`, the
  Functions "Try it" box, saved queries) before it is prepared: one statement, and only one that reads.
  It is the only place that stops `VACUUM INTO`, which has no authorizer action and creates its target
  file before `query_only` refuses to write it.
- `install_guard` puts an authorizer on every snapshot connection (ours and the user's statements
  alike). It allows reading, SQLite's own functions and the functions registered through
  `allow_functions`, and the pragmas that only read; everything else is refused, ATTACH and DETACH
  always (SQLite takes the *last* `vfs=` of a URI, so no URI check can make a user's ATTACH safe; the
  program attaches its own memory databases, files in its own private temporary folders, and (to
  compare two files once) a file a direct-mode snapshot reads, through `Guard.permit_attach`).

Facts that broke a looser guard are in DESIGN.md ("The guard on user SQL").
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import stat
import threading
import urllib.parse
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop_app.core.errors import ReadOnlyError
from desktop_app.core.sqlite.quoting import quote_identifier, quote_string
from desktop_app.core.sqlite.statements import (
    Statement,
    StatementKind,
    split_statements,
    statement_kind,
    statement_verb,
)

#: SQLite functions refused to everyone: `load_extension` runs native code, `fts3_tokenizer` with two
#: arguments installs an arbitrary pointer (a later MATCH crashes the process) and with one leaks an
#: address, `optimize` rewrites an FTS3/4 table.
DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer", "optimize"})

#: Pragmas that only read, in their bare form (`PRAGMA page_size`, `SELECT * FROM pragma_page_size`).
READ_PRAGMAS = frozenset(
    {
        "analysis_limit", "application_id", "auto_vacuum", "automatic_index", "busy_timeout", "cache_size",
        "cache_spill", "cell_size_check", "checkpoint_fullfsync", "collation_list", "compile_options",
        "data_version", "database_list", "defer_foreign_keys", "encoding", "foreign_key_check",
        "foreign_key_list", "foreign_keys", "freelist_count", "fullfsync", "function_list",
        "hard_heap_limit", "ignore_check_constraints", "index_info", "index_list", "index_xinfo",
        "integrity_check", "journal_mode", "journal_size_limit", "legacy_alter_table", "locking_mode",
        "max_page_count", "mmap_size", "module_list", "page_count", "page_size", "pragma_list",
        "query_only", "quick_check", "read_uncommitted", "recursive_triggers", "reverse_unordered_selects",
        "schema_version", "secure_delete", "soft_heap_limit", "synchronous", "table_info", "table_list",
        "table_xinfo", "temp_store", "threads", "trusted_schema", "user_version", "wal_autocheckpoint",
        "writable_schema",
    }
)  # fmt: skip
#: Pragmas whose argument names what to read (`PRAGMA table_info(t)`); any other argument sets something.
READ_PRAGMAS_WITH_ARGUMENT = frozenset(
    {
        "table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    }
)  # fmt: skip

# Authorizer action codes (sqlite3 exposes them from Python 3.11 on; the numbers are SQLite's, stable).
_CREATE_INDEX, _CREATE_TABLE, _CREATE_TEMP_INDEX, _CREATE_TEMP_TABLE = 1, 2, 3, 4
_CREATE_TEMP_TRIGGER, _CREATE_TEMP_VIEW, _CREATE_TRIGGER, _CREATE_VIEW = 5, 6, 7, 8
_DELETE, _DROP_INDEX, _DROP_TABLE, _DROP_TEMP_INDEX, _DROP_TEMP_TABLE = 9, 10, 11, 12, 13
_DROP_TEMP_TRIGGER, _DROP_TEMP_VIEW, _DROP_TRIGGER, _DROP_VIEW, _INSERT = 14, 15, 16, 17, 18
_PRAGMA, _READ, _SELECT, _TRANSACTION, _UPDATE, _ATTACH, _DETACH = 19, 20, 21, 22, 23, 24, 25
_ALTER_TABLE, _REINDEX, _ANALYZE, _CREATE_VTABLE, _DROP_VTABLE = 26, 27, 28, 29, 30
_FUNCTION, _SAVEPOINT, _RECURSIVE = 31, 32, 33
_OK, _DENY = sqlite3.SQLITE_OK, sqlite3.SQLITE_DENY
#: What an EXPLAIN may describe without running it: the data-changing statements.
_DESCRIBABLE = frozenset({_INSERT, _UPDATE, _DELETE})

#: What each refused action is called in a message.
_ACTION_NAMES = {
    _CREATE_INDEX: "CREATE INDEX", _CREATE_TABLE: "CREATE TABLE", _CREATE_TEMP_INDEX: "CREATE INDEX",
    _CREATE_TEMP_TABLE: "CREATE TABLE", _CREATE_TEMP_TRIGGER: "CREATE TRIGGER",
    _CREATE_TEMP_VIEW: "CREATE VIEW", _CREATE_TRIGGER: "CREATE TRIGGER", _CREATE_VIEW: "CREATE VIEW",
    _DELETE: "DELETE", _DROP_INDEX: "DROP INDEX", _DROP_TABLE: "DROP TABLE", _DROP_TEMP_INDEX: "DROP INDEX",
    _DROP_TEMP_TABLE: "DROP TABLE", _DROP_TEMP_TRIGGER: "DROP TRIGGER", _DROP_TEMP_VIEW: "DROP VIEW",
    _DROP_TRIGGER: "DROP TRIGGER", _DROP_VIEW: "DROP VIEW", _INSERT: "INSERT", _UPDATE: "UPDATE",
    _ATTACH: "ATTACH", _DETACH: "DETACH", _ALTER_TABLE: "ALTER TABLE", _REINDEX: "REINDEX",
    _ANALYZE: "ANALYZE", _CREATE_VTABLE: "CREATE VIRTUAL TABLE", _DROP_VTABLE: "DROP VIRTUAL TABLE",
    _SAVEPOINT: "SAVEPOINT",
}  # fmt: skip
#: The schema table SQLite itself "updates" while it sets up a table-valued function (`pragma_table_info`,
#: `json_each`) for a SELECT; writing it for real needs `writable_schema`, and `query_only` stops it anyway.
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_temp_master"})
#: Shadow tables of R-tree, FTS3/4 and FTS5 tables: a virtual table prepares its own INSERT/UPDATE/DELETE
#: statements on them when a SELECT first reads it. They never run (`query_only`), and a user's own
#: write is refused by `check_user_sql` before it is prepared.
_SHADOW_SUFFIXES = (
    "_node", "_rowid", "_parent", "_content", "_segments", "_segdir", "_docsize", "_stat", "_data", "_idx",
    "_config",
)  # fmt: skip


class GuardRefused(ReadOnlyError):
    """A statement asked for something the snapshot never allows (a write, ATTACH, a denied function)."""


@dataclass(frozen=True)
class Refusal:
    """What the authorizer refused last on a connection, for the error message."""

    what: str

    def message(self) -> str:
        """The sentence shown to the user."""
        return f"{self.what[0].upper()}{self.what[1:]} is not allowed: {_READ_ONLY_NOTE}"


_READ_ONLY_NOTE = (
    "the snapshot is read-only. The browser never changes the database, attaches files or loads "
    "extensions; open a copy in another tool to change it."
)


@functools.cache
def sqlite_function_names() -> frozenset[str]:
    """SQLite's own functions here (core, JSON, math, FTS, R-tree), lower case, minus the denied ones."""
    with closing(sqlite3.connect(":memory:")) as conn:
        try:
            names = {row[0].lower() for row in conn.execute("PRAGMA function_list")}
        except sqlite3.Error:  # SQLite < 3.30: no list; the documented core functions are always there
            from desktop_app.core.sqlite.function_docs import SQLITE_FUNCTION_DOCS

            names = {name.lower() for name in SQLITE_FUNCTION_DOCS}
    return frozenset(names - DENIED_FUNCTIONS)


class Guard:
    """The authorizer of one connection: deny by default; remembers its last refusal for the message."""

    def __init__(self) -> None:
        self._registered: set[str] = set()
        self._attach_permits: set[str] = set()
        self._lock = threading.Lock()
        self.last_refusal: Refusal | None = None
        #: Set while an EXPLAIN is prepared: SQLite only describes the statement, so a write inside it
        #: may be described (ATTACH, DETACH, pragmas and denied functions stay refused).
        self.describing = False

    def allow_functions(self, names: Iterable[str]) -> None:
        """Let statements call functions the program registered on this connection (ours, the user's)."""
        with self._lock:
            self._registered |= {name.lower() for name in names} - DENIED_FUNCTIONS

    def take_refusal(self) -> Refusal | None:
        """Return and forget what was refused last."""
        refusal, self.last_refusal = self.last_refusal, None
        return refusal

    @contextmanager
    def permit_attach(self, uri: str, schema: str) -> Iterator[None]:
        """Let the program's own ATTACH of `uri` AS `schema` (and its DETACH) through, in this block only.

        Only for a memory database, or a file in a private folder, the program created; never around a
        statement the user supplied.
        """
        with self._lock:
            self._attach_permits |= {f"attach:{uri}", f"detach:{schema}"}
        try:
            yield
        finally:
            with self._lock:
                self._attach_permits -= {f"attach:{uri}", f"detach:{schema}"}

    def __call__(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _inner: str | None
    ) -> int:
        if action in (_SELECT, _READ, _RECURSIVE, _TRANSACTION):
            return _OK
        if action == _FUNCTION:
            name = (arg2 or "").lower()
            if name in self._registered or name in sqlite_function_names():
                return _OK
            return self._deny(f"the function {arg2}()")
        if action == _PRAGMA:
            name = (arg1 or "").lower()
            if name in (READ_PRAGMAS_WITH_ARGUMENT if arg2 is not None else READ_PRAGMAS):
                return _OK
            return self._deny(f"PRAGMA {arg1}" + (" with an argument" if arg2 is not None else ""))
        if action == _UPDATE and arg1 in _SCHEMA_TABLES:
            return _OK
        if self.describing and action in _DESCRIBABLE:
            return _OK
        if action in (_INSERT, _UPDATE, _DELETE) and (arg1 or "").endswith(_SHADOW_SUFFIXES):
            return _OK
        if action == _ATTACH and f"attach:{arg1}" in self._attach_permits:
            return _OK
        if action == _DETACH and f"detach:{arg1}" in self._attach_permits:
            return _OK
        return self._deny(_ACTION_NAMES.get(action, f"action {action}"))

    def _deny(self, what: str) -> int:
        self.last_refusal = Refusal(what)
        return _DENY


# One guard per live connection; the connection holds its guard (as its authorizer), so entries go with it.
_guards: weakref.WeakValueDictionary[int, Guard] = weakref.WeakValueDictionary()


def install_guard(conn: sqlite3.Connection) -> Guard:
    """Put a new deny-by-default authorizer on `conn` and return it."""
    guard = Guard()
    conn.set_authorizer(guard)
    _guards[id(conn)] = guard
    return guard


def guard_of(conn: sqlite3.Connection) -> Guard | None:
    """The guard installed on `conn`, or None for a connection that has none."""
    return _guards.get(id(conn))


def allow_functions(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    """Let statements on `conn` call the functions just registered on it (no-op on an unguarded one)."""
    guard = guard_of(conn)
    if guard is not None:
        guard.allow_functions(names)


def take_refusal(conn: sqlite3.Connection) -> Refusal | None:
    """What the guard of `conn` refused last, if anything (and forget it)."""
    guard = guard_of(conn)
    return None if guard is None else guard.take_refusal()


@contextmanager
def preparing(conn: sqlite3.Connection, sql: str) -> Iterator[None]:
    """Tell the guard of `conn` what is being prepared: an EXPLAIN may describe a write it never runs."""
    guard = guard_of(conn)
    if guard is None or not _is_explain(sql):
        yield
        return
    guard.describing = True
    try:
        yield
    finally:
        guard.describing = False


def _is_explain(sql: str) -> bool:
    return sql[:7].upper() == "EXPLAIN" or Statement(sql, 0, len(sql)).keyword == "EXPLAIN"


def execute_user_sql(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
    """Check `sql` with the guard and start it on `conn`; what the guard refuses raises `GuardRefused`."""
    statement = check_user_sql(sql)
    try:
        with preparing(conn, statement.text):
            return conn.execute(statement.text, params)
    except sqlite3.Error as exc:
        refused = refused_error(conn, exc, sql)
        if refused is not None:
            raise refused from None
        raise


def refused_error(conn: sqlite3.Connection, exc: BaseException, sql: str = "") -> GuardRefused | None:
    """`GuardRefused` naming what the guard of `conn` refused, when `exc` is SQLite's "not authorized"."""
    refusal = take_refusal(conn)
    denied = isinstance(exc, sqlite3.Error) and (
        "not authorized" in str(exc) or "authorization denied" in str(exc)
    )
    if refusal is None or not denied:
        return None
    return GuardRefused(refusal.message(), sql=sql, details=str(exc))


@contextmanager
def unguarded(conn: sqlite3.Connection) -> Iterator[None]:
    """Lift the authorizer for the program's own statements (e.g. filling the search index), briefly."""
    guard = guard_of(conn)
    conn.set_authorizer(None)
    try:
        yield
    finally:
        conn.set_authorizer(guard)


#: Schema names the program keeps for its own attached databases (the search index); users attach others.
PRIVATE_SCHEMA_PREFIX = "search_index_"

#: The only URIs the program attaches: its own named memory databases, one `vfs=memdb` and nothing else.
_PRIVATE_MEMDB_URI = re.compile(r"file:/[A-Za-z0-9_.-]+\?vfs=memdb")


def _attach(conn: sqlite3.Connection, uri: str, schema: str) -> None:
    guard = guard_of(conn)
    with guard.permit_attach(uri, schema) if guard is not None else nullcontext():
        conn.execute(f"ATTACH DATABASE {quote_string(uri)} AS {quote_identifier(schema)}")


def attach_memory_database(conn: sqlite3.Connection, uri: str, schema: str) -> None:
    """ATTACH the program's own memory database `uri` AS `schema` on `conn`, past the guard."""
    if not _PRIVATE_MEMDB_URI.fullmatch(uri):
        raise ValueError(f"not a private memory database URI: {uri!r}")
    _attach(conn, uri, schema)


#: Private folders the program created and may attach files from (`register_private_folder`).
_private_folders: set[Path] = set()
_private_folders_lock = threading.Lock()


def register_private_folder(folder: Path) -> None:
    """Let `attach_private_file` attach files directly inside `folder`, a private folder this process made."""
    with _private_folders_lock:
        _private_folders.add(Path(os.path.realpath(folder)))


def forget_private_folder(folder: Path) -> None:
    """Stop letting files in `folder` be attached (it is about to be removed)."""
    with _private_folders_lock:
        _private_folders.discard(Path(os.path.realpath(folder)))


#: The operating system's own VFS. A URI without `vfs=` attached to a snapshot connection would use the
#: connection's VFS (memdb), i.e. an empty memory database named like the file.
_OS_VFS = "win32" if os.name == "nt" else "unix"


def private_file_uri(path: Path, *, writable: bool = False) -> str:
    """The URI `attach_private_file` attaches `path` with: `mode=ro`, or `mode=rw` for its builder."""
    return f"file:{urllib.parse.quote(str(path))}?mode={'rw' if writable else 'ro'}&vfs={_OS_VFS}"


def attach_private_file(conn: sqlite3.Connection, path: Path, schema: str, *, writable: bool = False) -> None:
    """ATTACH the program's own database file `path` AS `schema` on `conn`, past the guard.

    Only a regular file of this user directly inside a folder passed to `register_private_folder`, named
    by its real path (no symbolic link anywhere), is accepted; it is attached read-only (`mode=ro`)
    unless `writable` (only the connection that builds it). Anything else raises `ValueError`.
    """
    _check_private_file(path)
    _attach(conn, private_file_uri(path, writable=writable), schema)


def attach_read_only_file(conn: sqlite3.Connection, path: Path, schema: str) -> None:
    """ATTACH the database file `path` read-only (`mode=ro`, the operating system's VFS) AS `schema` on
    `conn`, past the guard: only for a file a direct-mode snapshot already reads the same way (a
    rollback-journal file, or a private copy), so nothing is created beside it. Never for a user's ATTACH."""
    if not Path(path).is_absolute():
        raise ValueError(f"not an absolute path: {str(path)!r}")
    _attach(conn, f"{Path(path).as_uri()}?mode=ro&vfs={_OS_VFS}", schema)


def _check_private_file(path: Path) -> None:
    given = Path(path)
    if not given.is_absolute() or os.path.realpath(given) != str(given):
        raise ValueError(f"not a private file (relative, or through a link): {str(path)!r}")
    with _private_folders_lock:
        inside = given.parent in _private_folders
    if not inside:
        raise ValueError(f"not in a private folder of this program: {str(path)!r}")
    try:
        st = given.lstat()
    except OSError as exc:
        raise ValueError(f"private file missing: {str(path)!r}") from exc
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_nlink != 1:
        raise ValueError(f"not a regular private file of this user: {str(path)!r}")


def detach_database(conn: sqlite3.Connection, schema: str) -> None:
    """DETACH the program's own attached database `schema` from `conn`, past the guard."""
    guard = guard_of(conn)
    with guard.permit_attach("", schema) if guard is not None else nullcontext():
        conn.execute(f"DETACH DATABASE {quote_identifier(schema)}")


def check_user_sql(sql: str | Statement) -> Statement:
    """Return the one statement in `sql` if it may run on the snapshot; else raise `GuardRefused`.

    Reading statements pass (SELECT, VALUES, WITH … SELECT, EXPLAIN, pragmas that read); anything SQLite
    cannot classify is left to its parser, where the authorizer refuses whatever is not a read.
    """
    if isinstance(sql, Statement):
        statement = sql
    else:
        statements = split_statements(sql)
        if len(statements) > 1:
            raise GuardRefused(
                "Only one statement can run here; run the others one by one.",
                sql=sql,
                offset=statements[1].start,
            )
        statement = statements[0] if statements else Statement(sql, 0, len(sql))
    if statement_kind(statement) is StatementKind.WRITE:
        raise GuardRefused(
            f"{statement_verb(statement)} is not allowed: {_READ_ONLY_NOTE}",
            sql=statement.text,
            offset=statement.start,
        )
    return statement
