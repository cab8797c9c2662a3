"""Wrap SQL functions so a failure inside a query reaches the user with its own message.

sqlite3 turns any exception raised by a Python function into the bare "user-defined function
raised exception". Every function we register is wrapped: the wrapper records the real error for
its connection and re-raises, and the query layer swaps SQLite's message for the recorded one:

    try:
        cursor.execute(sql)
        ...
    except sqlite3.Error as exc:
        rewritten = function_query_error(conn, exc, sql)
        if rewritten is not None:
            raise rewritten from None
        ...   # the usual translation ("interrupted" → Cancelled, else QueryError)

Call `function_query_error` before turning "interrupted" into `Cancelled`: a failing collation
cannot report an error to SQLite, so its wrapper interrupts the statement instead.
Failures are keyed by the id of the sqlite3 connection (it cannot be weakly referenced), so pass
the same raw sqlite3 connection the functions were registered on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import Cancelled, QueryError, UserError
from desktop_app.core.functions.user_file import exception_text, format_user_traceback, user_line
from desktop_app.functions_api import FunctionSpec

SOURCE_SQLITE = "sqlite"
SOURCE_BUILTIN = "built-in"

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
#: Start of every message sqlite3 (Python 3.11–3.13) gives when a Python callback raised.
_CALLBACK_ERROR_PREFIXES = ("user-defined function raised exception", "user-defined aggregate's")
UNREADABLE_ARGUMENTS = (
    "A function could not be called: one of its arguments is probably text that is not valid UTF-8. "
    "Pass CAST(value AS BLOB) instead."
)


@dataclass(frozen=True)
class FunctionFailure:
    """Why a function ended a query: the message to show, and where the error came from."""

    function: str
    kind: str
    message: str
    #: "built-in" or the path of the user's file.
    source: str
    line: int | None = None
    #: The traceback inside the user's file, for a "details" box.
    details: str = ""
    #: The function raised KeyboardInterrupt: the query was interrupted rather than failed.
    interrupted: bool = False


_failures: dict[int, FunctionFailure] = {}
_failures_lock = threading.Lock()


def take_function_error(conn: sqlite3.Connection) -> FunctionFailure | None:
    """Return and forget the last failure of a function on `conn`, if any."""
    with _failures_lock:
        return _failures.pop(id(conn), None)


def clear_function_error(conn: sqlite3.Connection) -> None:
    """Forget any failure recorded for `conn` (call before running a statement to rule out stale ones)."""
    with _failures_lock:
        _failures.pop(id(conn), None)


def function_query_error(conn: sqlite3.Connection, exc: BaseException, sql: str = "") -> UserError | None:
    """Return a QueryError with the function's own message if one of ours caused `exc`, else None.

    A function that raised KeyboardInterrupt gives `Cancelled` (the query was interrupted).
    """
    message = str(exc)
    from_callback = isinstance(exc, sqlite3.Error) and message.startswith(_CALLBACK_ERROR_PREFIXES)
    if not from_callback and message != "interrupted":
        return None
    failure = take_function_error(conn)
    if failure is None:
        return QueryError(UNREADABLE_ARGUMENTS, sql=sql) if from_callback else None
    if not from_callback and failure.kind != "collation":
        return None  # a real interrupt (the user's cancel); the failure was stale
    if failure.interrupted:
        return Cancelled(f"Interrupted: {failure.message}")
    return QueryError(failure.message, sql=sql, details=failure.details)


def _record(conn_id: int, spec: FunctionSpec, source: str, exc: BaseException) -> None:
    what = f"collation {spec.name}" if spec.kind == "collation" else f"{spec.name}()"
    if source == SOURCE_BUILTIN:
        failure = FunctionFailure(
            spec.name, spec.kind, f"{what}: {exc}", source, interrupted=isinstance(exc, KeyboardInterrupt)
        )
    else:
        line = user_line(exc, source) or spec.line
        where = f"{source}, line {line}" if line else source
        failure = FunctionFailure(
            spec.name,
            spec.kind,
            f"{what} failed: {exception_text(exc)} ({where})",
            source,
            line,
            format_user_traceback(exc, source),
            interrupted=isinstance(exc, KeyboardInterrupt),
        )
    with _failures_lock:
        _failures[conn_id] = failure


def sql_value(result: Any) -> Any:
    """Return `result` as a value SQLite can store, or raise TypeError/ValueError saying why not."""
    kind = type(result)
    if result is None or kind is str or kind is float or kind is bytes:
        return result
    if isinstance(result, int):
        if not _INT64_MIN <= result <= _INT64_MAX:
            raise ValueError(f"returned {result}, which does not fit in a 64-bit integer")
        return int(result)
    if isinstance(result, str | float):
        return result
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result)
    raise TypeError(f"returned a {kind.__name__}; return None, int, float, str or bytes")


def guard_scalar(spec: FunctionSpec, source: str, conn_id: int) -> Callable[..., Any]:
    """Wrap a scalar function so its failure is recorded for the connection."""
    function = spec.target

    def guarded(*args: Any) -> Any:
        try:
            return sql_value(function(*args))
        except BaseException as exc:  # user code may raise SystemExit, KeyboardInterrupt
            _record(conn_id, spec, source, exc)
            raise

    return guarded


def guard_aggregate(spec: FunctionSpec, source: str, conn_id: int) -> type:
    """Wrap an aggregate or window class so a failure in any of its methods is recorded."""
    cls = spec.target

    def recorded(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except BaseException as exc:  # user code may raise SystemExit, KeyboardInterrupt
            _record(conn_id, spec, source, exc)
            raise

    class Guarded:
        def __init__(self) -> None:
            self._inner = recorded(cls)

        def step(self, *args: Any) -> None:
            recorded(lambda: self._inner.step(*args))

        def inverse(self, *args: Any) -> None:
            recorded(lambda: self._inner.inverse(*args))

        def value(self) -> Any:
            return recorded(lambda: sql_value(self._inner.value()))

        def finalize(self) -> Any:
            return recorded(lambda: sql_value(self._inner.finalize()))

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded{getattr(cls, '__name__', 'Aggregate')}"
    return Guarded


def guard_collation(
    spec: FunctionSpec, source: str, conn_id: int, interrupt: Callable[[], None]
) -> Callable[[str, str], int]:
    """Wrap a collation: on failure record it and interrupt the statement (sqlite3 would say 'equal')."""
    compare = spec.target

    def guarded(left: str, right: str) -> int:
        try:
            result = compare(left, right)
            if isinstance(result, bool) or not isinstance(result, int | float):
                raise TypeError(
                    f"returned a {type(result).__name__}; return a negative number, 0 or a positive number"
                )
            return (result > 0) - (result < 0)
        except BaseException as exc:  # user code may raise SystemExit, KeyboardInterrupt
            _record(conn_id, spec, source, exc)
            interrupt()
            return 0

    return guarded


def forget_connection(conn: sqlite3.Connection) -> None:
    """Drop what is kept for `conn` (call when closing it)."""
    clear_function_error(conn)
