"""The database service: an async engine over a snapshot, streaming pages, interrupt, result cache.

The UI talks to data only through a `Database`. Queries run on pooled aiosqlite connections (SQLAlchemy
`AsyncAdaptedQueuePool`); long synchronous jobs (catalog, search, export, blobs) run with `run_sync`
on a pooled connection in a worker thread. Cancelling always calls `interrupt()` on the sqlite3
connection, because cancelling an asyncio task does not stop SQLite.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, asynccontextmanager, suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from desktop_app.core.browse.result_cache import ResultCache, approximate_size
from desktop_app.core.errors import Cancelled, QueryError, ReadOnlyError, SnapshotClosed, TimeLimitExceeded
from desktop_app.core.functions.failures import function_query_error
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.snapshot import Snapshot
from desktop_app.core.sqlite.connection import ConnectionHook, configure_connection
from desktop_app.core.sqlite.guard import preparing, refused_error
from desktop_app.core.sqlite.interrupt import Stop
from desktop_app.core.sqlite.library import DeclaredTypes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class ResultColumns:
    """Names and declared types of a result's columns (declared type is '' for expressions)."""

    names: list[str]
    declared_types: list[str]


@dataclass
class QueryResult:
    """Rows of a finished query (possibly truncated at `max_rows`)."""

    sql: str
    columns: ResultColumns
    rows: list[tuple[Any, ...]]
    truncated: bool
    elapsed_s: float
    from_cache: bool = False
    generation: int = 0

    @property
    def row_count(self) -> int:
        """Number of rows held."""
        return len(self.rows)


@dataclass
class QueryPage:
    """One page of a streamed result; `columns` is set on every page for convenience."""

    columns: ResultColumns
    rows: list[tuple[Any, ...]]
    first_row: int
    last: bool = False


#: How long `Database.close()` waits for statements it interrupted to hand their connections back (s).
CLOSE_WAIT_S = 10.0

#: Every aiosqlite connection a Database opened (weakly): see `stop_leaked_connections`.
_OPEN_CONNECTIONS: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()


def stop_leaked_connections(database: Database | None = None) -> int:
    """Stop the worker thread of every connection still open (of `database` only, when given); call at
    exit, once every Database is closed.

    `Database.close()` closes the pooled connections. One still checked out by a task that was destroyed
    mid-query (its `async with` never finished) keeps a non-daemon aiosqlite thread, which would keep the
    process from exiting. Returns how many were stopped.
    """
    opened = _OPEN_CONNECTIONS if database is None else database._opened
    leaked = [c for c in list(opened) if c._connection is not None]  # aiosqlite has no public "is open"
    for connection in leaked:
        connection.stop()
    return len(leaked)


_STARTER: ThreadPoolExecutor | None = None


def _thread_starter() -> ThreadPoolExecutor:
    """The process's one thread that starts connection threads (made, and its thread started, once)."""
    global _STARTER
    if _STARTER is None:
        _STARTER = ThreadPoolExecutor(max_workers=1)
        _STARTER.submit(lambda: None).result()
    return _STARTER


class Database:
    """Async, read-only access to one snapshot generation."""

    def __init__(
        self,
        snapshot: Snapshot,
        hooks: Sequence[ConnectionHook] = (),
        cache: ResultCache | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.generation = snapshot.generation
        self.cache = cache if cache is not None else ResultCache(LIMITS.result_cache_bytes)
        self._hooks = list(hooks)
        self._closed = False
        self._closing: asyncio.Future[None] | None = None
        self._decltypes: DeclaredTypes | None = None
        self._opened: weakref.WeakSet[aiosqlite.Connection] = weakref.WeakSet()
        #: Connections being opened now, and checkouts under way (each ends when its connection is back):
        #: `close()` waits for both, so no connection outlives the Database, whoever was opening it.
        self._connecting: set[asyncio.Future[aiosqlite.Connection]] = set()
        self._checkouts: set[asyncio.Future[None]] = set()
        self._in_use: set[sqlite3.Connection] = set()
        _thread_starter()  # its own thread starts now, with the first Database, not with a connection
        # SQLAlchemy is imported here, not at the top: it is half a second of every start-up otherwise
        # (the window warms it up in a thread once it is shown: `desktop_app.app.finish_start_up`).
        from sqlalchemy import event
        from sqlalchemy.ext.asyncio import create_async_engine
        from sqlalchemy.pool import AsyncAdaptedQueuePool

        self.engine: AsyncEngine = create_async_engine(
            "sqlite+aiosqlite://",
            async_creator=self._connect,
            # The URL names no file, which would select StaticPool: keep a real pool of readers.
            poolclass=AsyncAdaptedQueuePool,
            pool_size=LIMITS.pool_size,
            max_overflow=LIMITS.pool_size,
        )
        event.listen(self.engine.sync_engine, "connect", self._on_connect)

    async def _connect(self) -> aiosqlite.Connection:
        if self._closed or self.snapshot.closed:
            raise SnapshotClosed()
        # Shielded: a task cancelled while its connection opens (a closing window, a test's teardown)
        # must not orphan the connection its worker thread is making; `close()` closes it instead.
        opening = asyncio.ensure_future(self._open_connection())
        self._connecting.add(opening)
        opening.add_done_callback(self._connecting.discard)
        connection = await asyncio.shield(opening)
        if self._closed:  # closed while it opened: nobody may use it
            await connection.close()
            raise SnapshotClosed()
        return connection

    async def _open_connection(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(  # not awaited yet: its worker thread is not started
            self.snapshot.uri,
            uri=True,
            check_same_thread=False,
            isolation_level=None,
            timeout=LIMITS.busy_timeout_s,
        )
        # Awaiting it would start its thread on the event loop's, and `Thread.start()` waits until the
        # new thread has run: on a loaded machine, milliseconds of the UI per connection, several per
        # watched generation. The starter thread starts it instead; the loop only waits for the answer.
        thread = getattr(connection, "_thread", connection)  # aiosqlite < 0.21: the connection is a Thread
        try:
            await asyncio.wrap_future(_thread_starter().submit(thread.start))
        except BaseException:
            connection.stop()  # never started, or started: its thread ends either way
            raise
        await connection._connect()  # what awaiting it does after the start (it stops it on failure)
        _OPEN_CONNECTIONS.add(connection)
        self._opened.add(connection)
        return connection

    def _on_connect(self, dbapi_connection: Any, _record: Any) -> None:
        # The aiosqlite worker is idle while the pool sets the connection up, so direct use is safe.
        configure_connection(
            _sqlite_of(dbapi_connection), self._hooks, trust_schema=self.snapshot.schema_trusted
        )

    def _declared_types(self, sql: str, count: int) -> list[str]:
        if self._decltypes is None:
            self._decltypes = DeclaredTypes(self.snapshot.uri)
        return self._decltypes.of(sql, count)

    async def set_hooks(self, hooks: Sequence[ConnectionHook]) -> None:
        """Replace the registration hooks (e.g. reloaded user functions); pooled connections are renewed.

        Results cached with the old functions are dropped; the keeper keeps the snapshot alive meanwhile.
        """
        self._hooks = list(hooks)
        await self.engine.dispose()
        self.cache.drop_generation(self.generation)

    @property
    def closed(self) -> bool:
        """True once `close()` ran."""
        return self._closed

    async def close(self) -> None:
        """Close every connection this Database opened — pooled, checked out by a statement (interrupted
        and waited for), or being opened right now; the snapshot itself is closed by its owner.

        Every caller waits for the same closing: a second caller returning early would let its owner end
        (a window, a test) while the pool is still being disposed.
        """
        if self._closing is None:
            self._closed = True
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if self._decltypes is not None:
            self._decltypes.close()
        for conn in list(self._in_use):
            conn.interrupt()
        pending = [*self._connecting, *self._checkouts]
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_WAIT_S)
        await self.engine.dispose()
        # A connection whose opener was cancelled belongs to no pool: close it here.
        for connection in [c for c in list(self._opened) if c._connection is not None]:
            with suppress(Exception):
                await connection.close()
        self.cache.drop_generation(self.generation)

    @asynccontextmanager
    async def _checkout(
        self,
    ) -> AsyncIterator[tuple[AsyncConnection, sqlite3.Connection, aiosqlite.Connection]]:
        if self._closed:
            raise SnapshotClosed()
        pool = self.engine.pool
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._checkouts.add(ended)
        sqlite_conn: sqlite3.Connection | None = None
        try:
            async with self.engine.connect() as conn:
                try:
                    raw = await conn.get_raw_connection()
                    driver = raw.driver_connection
                    assert isinstance(driver, aiosqlite.Connection)
                    sqlite_conn = _sqlite_of(raw.dbapi_connection)
                    if self._closed:  # closed while this connection was checked out: stop here
                        raise SnapshotClosed()
                    self._in_use.add(sqlite_conn)
                    yield conn, sqlite_conn, driver
                finally:
                    if sqlite_conn is not None:
                        self._in_use.discard(sqlite_conn)
                    if self._closed or self.engine.pool is not pool:
                        # Closing (close() waits for this checkout), or set_hooks() disposed the pool
                        # meanwhile: returned to a pool, the connection would stay open (its thread, the
                        # snapshot's memory) until collected.
                        with suppress(Exception):  # best effort: must not hide the query's own error
                            await conn.invalidate()
        finally:
            try:
                if self.engine.pool is not pool:
                    # Disposed while the connection was on its way back (its reset awaits the worker
                    # thread): it landed in the old pool. Close what that pool holds; in a greenlet, as
                    # SQLAlchemy's async close needs one.
                    from sqlalchemy.util import greenlet_spawn

                    with suppress(Exception):
                        await greenlet_spawn(pool.dispose)
            finally:
                self._checkouts.discard(ended)
                ended.set_result(None)

    @asynccontextmanager
    async def _statement_guard(
        self,
        sqlite_conn: sqlite3.Connection,
        sql: str,
        cancel: CancelToken | None,
        time_limit_s: float | None,
    ) -> AsyncIterator[Stop]:
        """Interrupt on cancel or deadline, and translate SQLite errors for the user."""
        deadline = time.monotonic() + time_limit_s if time_limit_s else None
        running = Stop(sqlite_conn, cancel, deadline=deadline).install()
        statement_may_run = False
        try:
            yield running
        except asyncio.CancelledError:
            statement_may_run = True  # aiosqlite's thread may still be inside (or about to start) it
            running.stop()
            raise
        except sqlite3.Error as exc:
            raise self._translate(exc, sql, running, sqlite_conn) from None
        except UnicodeDecodeError as exc:  # SQLite's message or a column name quotes bytes that are not UTF-8
            raise QueryError(
                "SQLite's answer holds a name that is not valid UTF-8 (a damaged schema?).",
                sql=sql,
                details=str(exc),
            ) from None
        except UnicodeEncodeError as exc:  # a lone surrogate cannot be handed to SQLite as UTF-8
            raise QueryError(
                f"The SQL or a value contains a character that cannot be encoded: {exc.object[exc.start]!r}.",
                sql=sql,
            ) from None
        except OverflowError as exc:  # a bound integer beyond SQLite's 64 bits
            raise QueryError(f"A value is too large for SQLite: {exc}.", sql=sql) from None
        finally:
            if statement_may_run:
                running.release()  # the worker may be inside SQLite: see `Stop.release`
            else:
                running.remove()

    def _translate(
        self, exc: sqlite3.Error, sql: str, running: Stop, sqlite_conn: sqlite3.Connection
    ) -> Exception:
        text = str(exc)
        # A function of ours (or the user's) raised: say what it said, not SQLite's generic words.
        function_error = function_query_error(sqlite_conn, exc, sql)
        if function_error is not None:
            return function_error
        refused = refused_error(sqlite_conn, exc, sql)
        if refused is not None:
            return refused
        if running.timed_out:
            return TimeLimitExceeded("The query ran past its time limit and was stopped.", sql=sql)
        if running.interrupted or text == "interrupted":
            return Cancelled()
        if (
            "readonly" in text.replace(" ", "").lower()
            or "not authorized" in text
            or "authorization denied" in text
        ):
            return ReadOnlyError(
                "The snapshot is read-only: statements that change data or schema cannot run here.",
                sql=sql,
                details=text,
            )
        return QueryError(text, sql=sql, details=text)

    async def execute(
        self,
        sql: str,
        params: Params = (),
        *,
        max_rows: int | None = None,
        time_limit_s: float | None = None,
        cancel: CancelToken | None = None,
        use_cache: bool = True,
    ) -> QueryResult:
        """Run `sql` and return up to `max_rows` rows fetched in pages; repeats come from the cache."""

        async def compute() -> QueryResult:
            rows: list[tuple[Any, ...]] = []
            columns = ResultColumns([], [])
            truncated = False
            started = time.perf_counter()
            # aclosing: a truncated result returns its connection now, not when the generator is collected.
            pages = self.stream(sql, params, time_limit_s=time_limit_s, cancel=cancel)
            async with aclosing(pages):
                async for page in pages:
                    columns = page.columns
                    room = None if max_rows is None else max_rows - len(rows)
                    if room is not None and len(page.rows) > room:
                        rows.extend(page.rows[:room])
                        truncated = True
                        break
                    rows.extend(page.rows)
                    if room is not None and len(rows) >= max_rows and not page.last:  # type: ignore[operator]
                        truncated = True
                        break
            return QueryResult(
                sql, columns, rows, truncated, time.perf_counter() - started, False, self.generation
            )

        if not use_cache:
            return await compute()
        key = (self.generation, sql, _freeze(params), max_rows)

        def size_of(result: QueryResult) -> int | None:
            if len(result.rows) > LIMITS.result_cache_max_rows:
                return None
            return approximate_size(result.rows)

        result, from_cache = await self.cache.get_or_compute(key, compute, size_of)
        return replace(result, from_cache=True) if from_cache else result

    async def stream(
        self,
        sql: str,
        params: Params = (),
        *,
        page_rows: int | None = None,
        time_limit_s: float | None = None,
        cancel: CancelToken | None = None,
    ) -> AsyncIterator[QueryPage]:
        """Yield the result of `sql` page by page; the loop runs between pages.

        Breaking out of the loop (or cancelling) interrupts the statement.
        """
        size = page_rows or LIMITS.page_rows
        async with (
            self._checkout() as (_conn, sqlite_conn, driver),
            self._statement_guard(sqlite_conn, sql, cancel, time_limit_s),
        ):
            with preparing(sqlite_conn, sql):
                cursor = await driver.execute(sql, params)
            try:
                names = [d[0] for d in cursor.description] if cursor.description else []
                columns = ResultColumns(names, self._declared_types(sql, len(names)))
                first = 0
                while True:
                    rows = await cursor.fetchmany(size)
                    last = len(rows) < size
                    yield QueryPage(columns, [tuple(r) for r in rows], first, last)
                    first += len(rows)
                    if last:
                        break
            finally:
                await cursor.close()

    async def run_sync(
        self,
        job: Callable[..., T],
        *args: Any,
        cancel: CancelToken | None = None,
        time_limit_s: float | None = None,
        **kwargs: Any,
    ) -> T:
        """Run `job(sqlite3_connection, *args, **kwargs)` in a worker thread on a pooled connection.

        `cancel` interrupts the connection; SQLite errors come back as `QueryError`/`Cancelled`.
        """
        job_name = getattr(job, "__name__", "job")
        async with (
            self._checkout() as (_conn, sqlite_conn, _driver),
            self._statement_guard(sqlite_conn, job_name, cancel, time_limit_s) as running,
        ):
            task = asyncio.ensure_future(asyncio.to_thread(job, sqlite_conn, *args, **kwargs))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                # A thread cannot be killed: stop SQLite, then wait for the thread to release the connection.
                running.stop()
                if cancel is not None:
                    cancel.cancel()
                await asyncio.wait([task])
                raise


def _sqlite_of(connection: Any) -> sqlite3.Connection:
    """Return the sqlite3 connection behind an SQLAlchemy/aiosqlite connection object."""
    driver = getattr(connection, "driver_connection", connection)
    inner = getattr(driver, "_conn", driver)
    if not isinstance(inner, sqlite3.Connection):
        raise TypeError(f"not a sqlite3 connection: {inner!r}")
    return inner


def _freeze(params: Params) -> Any:
    if isinstance(params, dict):
        return tuple(sorted((k, _freeze_value(v)) for k, v in params.items()))
    return tuple(_freeze_value(v) for v in params)


def _freeze_value(value: Any) -> Any:
    return (type(value).__name__, value) if isinstance(value, bytes | float | int | str) else repr(value)
