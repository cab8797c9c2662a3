"""Making SQLite stoppable: early interrupts are caught, deadlines are said, stops nest."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest

from desktop_app.core.progress import CancelToken
from desktop_app.core.sqlite.interrupt import stoppable

#: A statement that runs until it is stopped.
ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


def test_interrupt_before_the_statement_starts_still_stops_it(conn: sqlite3.Connection) -> None:
    with stoppable(conn) as stop:
        stop.stop()  # SQLite forgets this interrupt: nothing runs yet
        with pytest.raises(sqlite3.OperationalError, match="interrupted"):
            conn.execute(ENDLESS).fetchone()
    assert stop.interrupted and not stop.timed_out


def test_cancelled_token_stops_the_statement(conn: sqlite3.Connection) -> None:
    token = CancelToken()
    token.cancel()
    with stoppable(conn, token), pytest.raises(sqlite3.OperationalError):
        conn.execute(ENDLESS).fetchone()


def test_deadline_stops_and_says_it_timed_out(conn: sqlite3.Connection) -> None:
    with stoppable(conn, deadline=time.monotonic()) as stop, pytest.raises(sqlite3.OperationalError):
        conn.execute(ENDLESS).fetchone()
    assert stop.timed_out


def test_inner_stop_honours_the_outer_and_gives_its_handler_back(conn: sqlite3.Connection) -> None:
    outer_token = CancelToken()
    with stoppable(conn, outer_token) as outer:
        with stoppable(conn, check=lambda: False):
            outer_token.cancel()  # a cancel of the outer job reaches a statement run inside the inner stop
            with pytest.raises(sqlite3.OperationalError):
                conn.execute(ENDLESS).fetchone()
        assert outer.interrupted
        # After the inner block the outer handler polls again: the flag still stops a new statement.
        with pytest.raises(sqlite3.OperationalError):
            conn.execute(ENDLESS).fetchone()
    assert conn.execute("SELECT 42").fetchone() == (42,)  # no handler left once both ended


def test_a_stop_after_its_block_no_longer_stops_the_connection(conn: sqlite3.Connection) -> None:
    token = CancelToken()
    with stoppable(conn, token):
        pass
    token.cancel()
    assert conn.execute("SELECT count(*) FROM (VALUES (1), (2))").fetchone() == (2,)
