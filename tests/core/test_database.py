"""The database service: paged results, real cancellation, time limits, read-only, and the result cache."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.core import database as database_module
from desktop_app.core.database import Database, stop_leaked_connections
from desktop_app.core.errors import Cancelled, QueryError, ReadOnlyError, SnapshotClosed, TimeLimitExceeded
from desktop_app.core.progress import CancelToken
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.sqlite.guard import allow_functions
from tests.fixtures import one_empty_table_database

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "db.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(20), amount NUMERIC(10,2))")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, f"n{i}", i / 2) for i in range(1, 5001)])
    conn.execute("CREATE TABLE bad (v TEXT)")
    conn.execute("INSERT INTO bad VALUES (CAST(X'FF41' AS TEXT))")
    conn.commit()
    conn.close()
    snap = open_snapshot(path)
    db = Database(snap)
    yield db
    await db.close()
    snap.close()


async def test_results_stream_in_pages(database: Database) -> None:
    pages = [page async for page in database.stream("SELECT * FROM t", page_rows=1000)]
    assert [len(p.rows) for p in pages] == [1000] * 5 + [0]
    assert pages[-1].last and pages[1].first_row == 1000
    assert pages[0].columns.names == ["id", "name", "amount"]


async def test_declared_types_of_result_columns(database: Database) -> None:
    result = await database.execute("SELECT id, name, amount, 1 + 1 AS two FROM t LIMIT 1")
    assert result.columns.declared_types == ["INTEGER", "VARCHAR(20)", "NUMERIC(10,2)", ""]


async def test_max_rows_truncates(database: Database) -> None:
    result = await database.execute("SELECT * FROM t", max_rows=10)
    assert result.row_count == 10 and result.truncated


async def test_cancel_interrupts_sqlite_quickly(database: Database) -> None:
    token = CancelToken()
    task = asyncio.ensure_future(database.execute(RUNAWAY, cancel=token, use_cache=False))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    token.cancel()
    with pytest.raises(Cancelled):
        await task
    assert time.monotonic() - started < 30  # the query never ends by itself: any end is the stop's doing
    assert (await database.execute("SELECT 1", use_cache=False)).rows == [(1,)]


async def test_cancelling_the_task_also_stops_sqlite(database: Database) -> None:
    task = asyncio.ensure_future(database.execute(RUNAWAY, use_cache=False))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await database.execute("SELECT 2", use_cache=False)).rows == [(2,)]


async def test_time_limit_stops_a_runaway_query(database: Database) -> None:
    with pytest.raises(TimeLimitExceeded):
        await database.execute(RUNAWAY, time_limit_s=0.1, use_cache=False)


async def test_writes_are_refused_as_read_only(database: Database) -> None:
    for sql in ("DELETE FROM t", "CREATE TABLE x (a)", "UPDATE t SET name = 'x'"):
        with pytest.raises(ReadOnlyError, match="read-only"):
            await database.execute(sql)


async def test_sql_errors_carry_sqlites_message(database: Database) -> None:
    with pytest.raises(QueryError, match="no such table: nope"):
        await database.execute("SELECT * FROM nope")


async def test_invalid_utf8_never_raises(database: Database) -> None:
    result = await database.execute("SELECT v FROM bad")
    assert result.rows == [("\ufffdA",)]


async def test_cache_answers_repeats_and_keeps_parameters_apart(database: Database) -> None:
    first = await database.execute("SELECT name FROM t WHERE id = ?", (1,))
    again = await database.execute("SELECT name FROM t WHERE id = ?", (1,))
    other = await database.execute("SELECT name FROM t WHERE id = ?", (2,))
    assert not first.from_cache and again.from_cache and not other.from_cache
    assert again.rows == [("n1",)] and other.rows == [("n2",)]


async def test_concurrent_identical_queries_share_one_execution(database: Database) -> None:
    results = await asyncio.gather(*(database.execute("SELECT sum(amount) FROM t") for _ in range(5)))
    assert sum(not r.from_cache for r in results) == 1
    assert database.cache.stats.shared == 4


async def test_cache_is_bounded(database: Database) -> None:
    database.cache.max_bytes = 20_000
    for i in range(50):
        await database.execute("SELECT * FROM t WHERE id > ? LIMIT 20", (i,))
    assert database.cache.size_bytes <= 20_000
    assert database.cache.stats.evictions > 0


async def test_new_generation_never_sees_old_results(database: Database, tmp_path: Path) -> None:
    await database.execute("SELECT count(*) FROM t")
    source = database.snapshot.path
    writer = sqlite3.connect(source)
    writer.execute("DELETE FROM t WHERE id > 10")
    writer.commit()
    writer.close()
    reloaded = open_snapshot(source, generation=database.generation + 1)
    fresh = Database(reloaded, cache=database.cache)
    result = await fresh.execute("SELECT count(*) FROM t")
    assert result.rows == [(10,)] and not result.from_cache
    await fresh.close()
    reloaded.close()


async def test_run_sync_runs_off_the_loop_and_can_be_cancelled(database: Database) -> None:
    def slow(conn: sqlite3.Connection) -> int:
        return conn.execute(RUNAWAY).fetchone()[0]

    token = CancelToken()
    task = asyncio.ensure_future(database.run_sync(slow, cancel=token))
    ticks = 0
    for _ in range(10):
        await asyncio.sleep(0.01)
        ticks += 1
    token.cancel()
    with pytest.raises(Cancelled):
        await task
    assert ticks == 10


async def test_two_heavy_queries_run_on_separate_connections(database: Database) -> None:
    heavy = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000) SELECT sum(x) FROM c"
    )
    a, b = await asyncio.gather(
        database.execute(heavy, use_cache=False), database.execute(heavy + " -- b", use_cache=False)
    )
    assert a.rows == b.rows == [(45000150000,)]


async def test_a_stop_before_the_statement_starts_still_stops_it(database: Database) -> None:
    token = CancelToken()
    token.cancel()  # SQLite ignores interrupt() when nothing runs: the guard must remember it
    with pytest.raises(Cancelled):
        await database.execute(RUNAWAY, cancel=token, use_cache=False)


async def threads_left_since(before: set[threading.Thread]) -> set[threading.Thread]:
    """Threads started since `before` that are still alive after up to two seconds."""
    for _ in range(100):
        if not set(threading.enumerate()) - before:
            break
        await asyncio.sleep(0.02)
    return set(threading.enumerate()) - before


async def test_a_connection_left_checked_out_is_closed_by_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by CI hanging at exit: a task destroyed inside `async with _checkout()` never returned its
    # connection, and its non-daemon aiosqlite thread kept the process alive. close() waits a while for
    # it (CLOSE_WAIT_S, lowered here), then closes it itself.
    monkeypatch.setattr(database_module, "CLOSE_WAIT_S", 0.2)
    snapshot = open_snapshot(one_empty_table_database(tmp_path / "leak.db"))
    database = Database(snapshot)
    before = set(threading.enumerate())
    checkout = database._checkout()
    await checkout.__aenter__()  # and never __aexit__: the task that held it is gone
    assert len(set(threading.enumerate()) - before) == 1
    await database.close()
    snapshot.close()
    assert stop_leaked_connections(database) == 0
    assert not await threads_left_since(before)


async def test_close_stops_a_running_statement_and_no_connection_outlives_it(tmp_path: Path) -> None:
    # A window closing while a grid's page is being read (a task that is not a job): close() interrupts
    # the statement and waits for its connection, so none is left open once close() returns.
    snapshot = open_snapshot(one_empty_table_database(tmp_path / "running.db"))
    database = Database(snapshot)
    before = set(threading.enumerate())
    running = asyncio.ensure_future(database.execute(RUNAWAY, use_cache=False))
    while not database._opened:  # its connection is open and the statement about to run
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    await database.close()
    assert [c for c in database._opened if c._connection is not None] == []
    assert running.done()
    assert isinstance(running.exception(), Cancelled)
    snapshot.close()
    assert stop_leaked_connections(database) == 0
    assert not await threads_left_since(before)


@pytest.mark.parametrize("replace_pool", ["close", "set_hooks"])
async def test_a_connection_returned_after_its_pool_was_replaced_is_closed(
    tmp_path: Path, replace_pool: str
) -> None:
    # Found by checking open connections after each test: a query still running while the database
    # closed (or its functions were reloaded) returned its connection to the disposed pool, where it
    # stayed open — with its aiosqlite thread and the snapshot's memory — until garbage collection.
    snapshot = open_snapshot(one_empty_table_database(tmp_path / "late.db"))
    database = Database(snapshot)
    before = set(threading.enumerate())
    async with database._checkout():
        if replace_pool == "close":
            await database.close()
        else:
            await database.set_hooks([])
    assert not await threads_left_since(before)
    assert stop_leaked_connections(database) == 0
    await database.close()
    snapshot.close()


async def test_a_connection_returned_while_its_pool_is_replaced_is_closed(tmp_path: Path) -> None:
    # Seen in a full run: user functions reloaded (set_hooks) while another pane's connection was on its
    # way back to the pool (its reset awaits the worker thread) put it into the disposed pool, open until
    # garbage collection. The pool's "reset" event is that moment.
    from sqlalchemy import event

    snapshot = open_snapshot(one_empty_table_database(tmp_path / "late.db"))
    database = Database(snapshot)
    before = set(threading.enumerate())
    replaced: list[bool] = []

    def replace_pool(*_args: object) -> None:
        if not replaced:
            replaced.append(True)
            database.engine.sync_engine.dispose()  # what set_hooks() does, in the middle of the return

    event.listen(database.engine.sync_engine, "reset", replace_pool)
    async with database._checkout():
        pass
    assert replaced
    assert not await threads_left_since(before)
    assert stop_leaked_connections(database) == 0
    await database.close()
    snapshot.close()


async def test_every_close_caller_returns_only_when_the_pool_is_disposed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed = asyncio.Event()
    engine_class = type(database.engine)
    original = engine_class.dispose

    async def slow_dispose(engine: object, close: bool = True) -> None:
        await asyncio.sleep(0.05)
        await original(engine, close)  # type: ignore[arg-type]
        disposed.set()

    monkeypatch.setattr(engine_class, "dispose", slow_dispose)
    first = asyncio.ensure_future(database.close())
    await asyncio.sleep(0)
    await database.close()  # used to return at once while the first close was still disposing
    assert disposed.is_set()
    await first


async def test_a_connection_of_its_own_has_the_pools_hooks_and_none_once_closed(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE t (v)")
        conn.execute("INSERT INTO t VALUES (41)")
        conn.commit()
    snapshot = open_snapshot(path)

    def plus_one(conn: sqlite3.Connection) -> None:
        conn.create_function("plus_one", 1, lambda v: v + 1)
        allow_functions(conn, ["plus_one"])

    database = Database(snapshot, [plus_one])
    try:
        with closing(database.connect()) as conn:
            pooled = await database.run_sync(lambda c: c.execute("SELECT plus_one(v) FROM t").fetchone())
            assert conn.execute("SELECT plus_one(v) FROM t").fetchone() == pooled == (42,)
            with pytest.raises(sqlite3.DatabaseError):  # guarded and query-only, as the pooled ones are
                conn.execute("DELETE FROM t")
    finally:
        await database.close()
        snapshot.close()
    with pytest.raises(SnapshotClosed):
        database.connect()
