"""Custom SQL functions on snapshot connections: our built-ins plus an optional user file.

The database service passes `registry.hook` to `configure_connection` for every pooled connection;
after `registry.load()`/`reload()`/`unload()`, connections where `registry.is_current(conn)` is
False need `registry.hook(conn)` again (idempotent; removes functions the file dropped). If it is
still False after that, close the connection and open a new one; recycling the pool after a reload
(the keeper holds the snapshot) is the simplest way to do both.
Errors raised by functions inside a query: see `functions_guard.function_query_error`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import Cancelled, QueryError, UserError
from desktop_app.core.functions.builtin import BUILTIN_SPECS
from desktop_app.core.functions.failures import (
    SOURCE_BUILTIN,
    SOURCE_SQLITE,
    clear_function_error,
    forget_connection,
    function_query_error,
    guard_aggregate,
    guard_collation,
    guard_scalar,
)
from desktop_app.core.functions.user_file import (
    FunctionProblem,
    UserFunctions,
    forget_module,
    load_user_functions,
    spec_keys,
)
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import schema_sql_containing
from desktop_app.core.sqlite.connection import schema_is_trusted
from desktop_app.core.sqlite.function_docs import SQLITE_COLLATION_DOCS, SQLITE_FUNCTION_DOCS
from desktop_app.core.sqlite.guard import allow_functions, check_user_sql, refused_error
from desktop_app.core.sqlite.interrupt import stoppable
from desktop_app.functions_api import FunctionSpec

__all__ = [
    "SOURCE_BUILTIN",
    "SOURCE_SQLITE",
    "WINDOW_FUNCTIONS_AVAILABLE",
    "FunctionInfo",
    "FunctionProblem",
    "FunctionRegistry",
    "evaluate_expression",
    "function_query_error",
    "registry_from_file",
]

#: Window aggregates need SQLite ≥ 3.25 and Python ≥ 3.11's `create_window_function`.
WINDOW_FUNCTIONS_AVAILABLE = sqlite3.sqlite_version_info >= (3, 25, 0) and hasattr(
    sqlite3.Connection, "create_window_function"
)
WINDOW_FUNCTIONS_MISSING = (
    f"window functions need SQLite 3.25 or newer (this is {sqlite3.sqlite_version}); "
    "registered as a plain aggregate, so OVER (...) is not available"
)
_SQLITE_DETERMINISTIC = 0x800
_PRAGMA_KINDS = {"s": "scalar", "a": "aggregate", "w": "window"}

Key = tuple[str, str, int]


@dataclass(frozen=True)
class FunctionInfo:
    """One function or collation available on a connection, as listed by the Functions pane."""

    name: str
    #: "scalar", "aggregate", "window" or "collation".
    kind: str
    #: Number of arguments; -1 means any (2 for a collation).
    narg: int
    #: "sqlite", "built-in", or the path of the user's functions file.
    source: str
    doc: str = ""
    signature: str = ""
    #: True/False for scalars when known; None when it does not apply or is unknown.
    deterministic: bool | None = None


@dataclass(frozen=True)
class _Entry:
    spec: FunctionSpec
    source: str


class FunctionRegistry:
    """The built-in library plus, optionally, one user functions file; registers them on connections."""

    def __init__(self, user_file: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._user: UserFunctions | None = None
        self._user_file: Path | None = None
        self._problems: tuple[FunctionProblem, ...] = ()
        self._last_error: UserError | None = None
        self._generation = 0
        self._entries = _merge(None)
        self._registered: dict[int, tuple[int, frozenset[Key]]] = {}
        self._schema_collations_allowed = False
        self._withheld: frozenset[str] = frozenset()
        if user_file is not None:
            self.load(user_file)

    @property
    def user_file(self) -> Path | None:
        """The user functions file chosen last (even if it failed to load), or None."""
        return self._user_file

    @property
    def problems(self) -> tuple[FunctionProblem, ...]:
        """Declarations of the loaded user file that could not be registered (the others were)."""
        return self._problems

    @property
    def last_error(self) -> UserError | None:
        """Why the last load failed as a whole (syntax error, exception at import), or None."""
        return self._last_error

    @property
    def withheld_collations(self) -> frozenset[str]:
        """The user's collations left unregistered because the database's schema names them (see `hook`)."""
        return self._withheld

    @property
    def schema_collations_allowed(self) -> bool:
        """True once the user chose to let the database's schema use their collations."""
        return self._schema_collations_allowed

    def allow_schema_collations(self, allowed: bool) -> None:
        """Register the user's collations even where the schema names them (renew connections after)."""
        with self._lock:
            if allowed != self._schema_collations_allowed:
                self._schema_collations_allowed = allowed
                self._generation += 1

    @property
    def generation(self) -> int:
        """Increases whenever the set of functions changes (include it in result-cache keys)."""
        return self._generation

    def load(self, path: str | os.PathLike[str]) -> tuple[FunctionProblem, ...]:
        """Run the user's file and use its functions; raise UserError naming file and line if it cannot run.

        On failure a previous load of the same file stays in use (so a typo while editing does not
        remove working functions); a different file's functions are dropped.
        """
        resolved = Path(path).expanduser().resolve()
        with self._lock:
            if self._user_file != resolved:
                self._set_user(None, ())
            self._user_file = resolved
        try:
            loaded = load_user_functions(resolved)
        except UserError as exc:
            self._last_error = exc
            raise
        problems = loaded.problems + _window_notes(loaded)
        with self._lock:
            self._last_error = None
            self._set_user(loaded, problems)
        return problems

    def reload(self) -> tuple[FunctionProblem, ...]:
        """Load the chosen user file again (after the user edited it); no-op without one."""
        if self._user_file is None:
            return ()
        return self.load(self._user_file)

    def unload(self) -> None:
        """Stop using any user file: only the built-ins remain."""
        with self._lock:
            self._user_file = None
            self._last_error = None
            self._set_user(None, ())

    def hook(self, conn: sqlite3.Connection) -> None:
        """Register every function and collation on `conn` (a `ConnectionHook`; safe to call again).

        A connection that trusts its schema gets the built-ins only: the database's views and generated
        columns could otherwise call the user's Python code. For the same reason a user collation that the
        schema names (an index, view or column `COLLATE x`) is left out unless the user allowed it:
        `trusted_schema=OFF` keeps functions out of the schema, but not collations.
        """
        trusted = schema_is_trusted(conn)
        with self._lock:
            entries, generation = (_BUILTIN_ENTRIES if trusted else self._entries), self._generation
            previous = self._registered.get(id(conn), (0, frozenset()))[1]
            allowed = self._schema_collations_allowed
        withheld = set() if allowed else _user_collations_named_by_schema(conn, entries)
        withheld_names = frozenset(entries[key].spec.name for key in withheld)
        if withheld:
            entries = {key: entry for key, entry in entries.items() if key not in withheld}
        clear_function_error(conn)
        stale = previous - entries.keys()
        complete = _remove_stale(conn, stale) if stale else True
        guarded: dict[int, object] = {}
        for key, entry in entries.items():
            _register(conn, key, entry, guarded)
        allow_functions(conn, {key[1] for key in entries if key[0] == "function"})
        with self._lock:
            self._registered[id(conn)] = (generation if complete else -1, frozenset(entries) | stale)
            self._withheld = withheld_names

    def is_current(self, conn: sqlite3.Connection) -> bool:
        """True if `conn` has exactly the functions of the latest load.

        Still False after `hook` when the user file used to replace one of SQLite's own functions:
        SQLite cannot give the original back on that connection, so close it and open a new one.
        """
        with self._lock:
            registered = self._registered.get(id(conn))
            return registered is not None and registered[0] == self._generation

    def forget(self, conn: sqlite3.Connection) -> None:
        """Drop what is kept about `conn` (call when closing it)."""
        with self._lock:
            self._registered.pop(id(conn), None)
        forget_connection(conn)

    def describe(self, conn: sqlite3.Connection) -> list[FunctionInfo]:
        """List every function and collation usable on `conn`: SQLite's, ours and the user's."""
        with self._lock:
            entries = self._entries
        infos = [_info(key, entry) for key, entry in entries.items()]
        infos += _sqlite_functions(conn, entries.keys())
        infos += _sqlite_collations(conn, entries.keys())
        return sorted(infos, key=lambda i: (i.name.lower(), i.kind, i.narg, i.source))

    def _set_user(self, loaded: UserFunctions | None, problems: tuple[FunctionProblem, ...]) -> None:
        old = self._user
        self._user = loaded
        self._problems = problems
        self._entries = _merge(loaded)
        self._generation += 1
        if old is not None and old is not loaded:
            forget_module(old)


def registry_from_file(path: str | os.PathLike[str] | None) -> FunctionRegistry:
    """Return a registry with the built-ins and the user's file when `path` is given (UserError if broken)."""
    return FunctionRegistry(path)


def evaluate_expression(
    conn: sqlite3.Connection, expression: str, cancel: CancelToken | None = None
) -> object:
    """Return the value of the SQL expression (the "Try it" box); QueryError with the function's message."""
    sql = f"SELECT {expression}"
    check_user_sql(sql)
    clear_function_error(conn)
    with stoppable(conn, cancel):
        try:
            row = conn.execute(sql).fetchone()
        except (sqlite3.Error, sqlite3.Warning) as exc:
            rewritten = function_query_error(conn, exc, sql) or refused_error(conn, exc, sql)
            if rewritten is not None:
                raise rewritten from None
            if str(exc) == "interrupted" and cancel is not None and cancel.cancelled:
                raise Cancelled() from None
            raise QueryError(str(exc), sql=sql) from None
    return None if row is None else row[0]


def _merge(user: UserFunctions | None) -> dict[Key, _Entry]:
    """Built-ins first; a user declaration with the same name and argument count replaces ours."""
    entries: dict[Key, _Entry] = {}
    for spec in BUILTIN_SPECS:
        entries.update(dict.fromkeys(spec_keys(spec), _Entry(spec, SOURCE_BUILTIN)))
    if user is not None:
        for spec in user.specs:
            entries.update(dict.fromkeys(spec_keys(spec), _Entry(spec, str(user.path))))
    return entries


_BUILTIN_ENTRIES = _merge(None)


#: `COLLATE name` in schema SQL: a bare, "double", [bracket], `backtick` or 'single' quoted name.
_COLLATE_NAME = re.compile(
    r"""\bCOLLATE\s+("(?:[^"]|"")+"|\[[^\]]+\]|`(?:[^`]|``)+`|'(?:[^']|'')+'|[\w$]+)""", re.IGNORECASE
)


def _user_collations_named_by_schema(conn: sqlite3.Connection, entries: dict[Key, _Entry]) -> set[Key]:
    """Keys of the user's collations that the schema of `conn` names (so reading it could run them)."""
    users = {
        key for key, entry in entries.items() if key[0] == "collation" and entry.source != SOURCE_BUILTIN
    }
    if not users:
        return set()
    named: set[str] = set()
    for sql in schema_sql_containing(conn, "collate"):
        for match in _COLLATE_NAME.finditer(sql or ""):
            name = match.group(1)
            if name[0] in "\"'`[":
                quote = name[0]
                name = name[1:-1].replace(quote * 2, quote) if quote != "[" else name[1:-1]
            named.add(name.lower())
    return {key for key in users if key[1] in named}


def _window_notes(loaded: UserFunctions) -> tuple[FunctionProblem, ...]:
    if WINDOW_FUNCTIONS_AVAILABLE:
        return ()
    return tuple(
        FunctionProblem(str(loaded.path), spec.line, spec.name, WINDOW_FUNCTIONS_MISSING)
        for spec in loaded.specs
        if spec.kind == "window"
    )


def _register(conn: sqlite3.Connection, key: Key, entry: _Entry, guarded: dict[int, object]) -> None:
    spec, source = entry.spec, entry.source
    name, narg = spec.name, key[2]
    if spec.kind == "collation":
        conn.create_collation(name, guard_collation(spec, source, id(conn), conn.interrupt))
        return
    wrapper = guarded.get(id(spec))
    if wrapper is None:
        make = guard_scalar if spec.kind == "scalar" else guard_aggregate
        wrapper = guarded[id(spec)] = make(spec, source, id(conn))
    if spec.kind == "scalar":
        conn.create_function(name, narg, wrapper, deterministic=spec.deterministic)  # type: ignore[arg-type]
    elif spec.kind == "window" and WINDOW_FUNCTIONS_AVAILABLE:
        conn.create_window_function(name, narg, wrapper)  # type: ignore[arg-type]
    else:
        conn.create_aggregate(name, narg, wrapper)  # type: ignore[arg-type]


def _remove_stale(conn: sqlite3.Connection, stale: set[Key] | frozenset[Key]) -> bool:
    """Remove functions a reload dropped; False if one replaced SQLite's own (needs a new connection)."""
    app_defined, sqlite_own = _registered_on(conn, stale)
    complete = True
    for key in stale:
        if key not in app_defined:
            continue  # not on this connection (its id may belong to a closed one)
        if key[:2] in sqlite_own:
            complete = False  # deleting would leave a stub that hides SQLite's own function
            continue
        _unregister(conn, key)
    return complete


def _registered_on(conn: sqlite3.Connection, stale: Collection[Key]) -> tuple[set[Key], set[tuple[str, str]]]:
    """Keys the application registered on `conn`, and the (namespace, name) pairs SQLite defines itself."""
    sqlite_own = {("collation", name.lower()) for name in SQLITE_COLLATION_DOCS}
    try:
        functions = conn.execute("PRAGMA function_list").fetchall()
        collations = conn.execute("PRAGMA collation_list").fetchall()
    except sqlite3.Error:  # no introspection: assume everything is there and SQLite has what we document
        return set(stale), sqlite_own | {("function", name) for name in SQLITE_FUNCTION_DOCS}
    app_defined = {
        ("function", name.lower(), narg) for name, builtin, _t, _e, narg, _f in functions if not builtin
    }
    app_defined |= {("collation", name.lower(), 2) for _seq, name in collations}
    sqlite_own |= {("function", name.lower()) for name, builtin, *_rest in functions if builtin}
    return app_defined, sqlite_own


def _unregister(conn: sqlite3.Connection, key: Key) -> None:
    namespace, name, narg = key
    if namespace == "collation":
        conn.create_collation(name, None)
    elif WINDOW_FUNCTIONS_AVAILABLE:
        conn.create_window_function(name, narg, None)  # None deletes the function of any kind
    else:
        conn.create_function(name, narg, _removed(name))


def _removed(name: str) -> object:
    def removed(*_args: object) -> None:
        raise ValueError(f"{name}() is no longer defined in the user functions file")

    return removed


def _info(key: Key, entry: _Entry) -> FunctionInfo:
    spec = entry.spec
    kind = "aggregate" if spec.kind == "window" and not WINDOW_FUNCTIONS_AVAILABLE else spec.kind
    return FunctionInfo(
        name=spec.name,
        kind=kind,
        narg=key[2],
        source=entry.source,
        doc=spec.doc,
        signature=spec.signature,
        deterministic=spec.deterministic if spec.kind == "scalar" else None,
    )


def _sqlite_functions(conn: sqlite3.Connection, ours: Collection[Key]) -> list[FunctionInfo]:
    try:  # PRAGMA function_list: name, builtin, type, enc, narg, flags (SQLite ≥ 3.30)
        rows = conn.execute("PRAGMA function_list").fetchall()  # ~150 rows, bounded by SQLite
    except sqlite3.Error:
        return []
    infos: dict[tuple[str, str, int], FunctionInfo] = {}
    for name, _builtin, kind_code, _encoding, narg, flags in rows:
        if ("function", name.lower(), narg) in ours:
            continue
        kind = _PRAGMA_KINDS.get(kind_code, "scalar")
        signature, doc = SQLITE_FUNCTION_DOCS.get(name, (f"{name}(...)", ""))
        infos.setdefault(
            (name, kind, narg),
            FunctionInfo(
                name=name,
                kind=kind,
                narg=narg,
                source=SOURCE_SQLITE,  # builtin=0 rows are SQLite's too (FTS, R-tree), or overridden by ours
                doc=doc,
                signature=signature,
                deterministic=bool((flags or 0) & _SQLITE_DETERMINISTIC) if kind == "scalar" else None,
            ),
        )
    return list(infos.values())


def _sqlite_collations(conn: sqlite3.Connection, ours: Collection[Key]) -> list[FunctionInfo]:
    try:
        rows = conn.execute("PRAGMA collation_list").fetchall()
    except sqlite3.Error:
        rows = [(0, name) for name in SQLITE_COLLATION_DOCS]
    return [
        FunctionInfo(
            name=name,
            kind="collation",
            narg=2,
            source=SOURCE_SQLITE,
            doc=SQLITE_COLLATION_DOCS.get(name, ""),
            signature=f"X COLLATE {name}",
        )
        for _seq, name in rows
        if ("collation", name.lower(), 2) not in ours
    ]
