"""The recovery scan in a child process: the same result as in the calling thread, Stop and failures
leave no process or shared memory behind, and errors arrive as the words the user sees today."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import pytest

from desktop_app.core.errors import Cancelled, RecoveryError
from desktop_app.core.limits import LIMITS
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.recovery import in_child
from desktop_app.core.recovery.in_child import last_run, recover_isolated
from desktop_app.core.recovery.scan import recover
from desktop_app.core.snapshot.snapshot import open_snapshot
from tests import recovery_cases as cases
from tests.conftest import folder_state


@contextmanager
def snapshot_of(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection on a memory snapshot of `path`, as the window's readers have."""
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            yield conn
    finally:
        snapshot.close()


def assert_nothing_left() -> None:
    """No child process runs and the shared memory of the last run is gone (the clean-up runs in the
    background, neither the result nor Stop waits for it)."""
    in_child.finish_cleanups()
    assert multiprocessing.active_children() == []
    with pytest.raises(FileNotFoundError):
        SharedMemory(str(last_run["shared_name"]))


@pytest.mark.parametrize(
    "make",
    [
        lambda folder: cases.scattered(folder, rows=600),
        cases.dropped_table,
        lambda folder: cases.overwritten(folder, longer=True),
        cases.without_rowid,
        lambda folder: cases.scattered(folder, "utf-16le", rows=300, encoding="'UTF-16le'"),
    ],
    ids=["leaf-deleted", "dropped-table", "overwritten-longer", "without-rowid", "utf-16le"],
)
def test_the_child_finds_exactly_what_the_calling_thread_finds(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    case = make(tmp_path)
    before = folder_state(tmp_path)
    seen: list[Progress] = []
    with snapshot_of(case.path) as conn:
        here = recover(conn)
        there = recover_isolated(conn, progress=seen.append)
    assert last_run["in_place"] is True  # the child read the shared memory without a copy
    assert there == here
    assert len(there.records) > 0
    assert seen[-1].done == seen[-1].total == here.pages_scanned
    assert_nothing_left()
    assert folder_state(tmp_path) == before


def test_a_corpus_file_gives_the_same_result_through_the_child(corpus: Path) -> None:
    with snapshot_of(corpus / "chinook" / "Chinook_Sqlite.sqlite") as conn:
        here = recover(conn)
        there = recover_isolated(conn)
    assert "start_s" in last_run
    assert there == here
    assert_nothing_left()


def test_stop_ends_the_child_and_unlinks_the_shared_memory(tmp_path: Path) -> None:
    case = cases.pages_freed(tmp_path)
    before = folder_state(tmp_path)
    token = CancelToken()
    with snapshot_of(case.path) as conn, pytest.raises(Cancelled):
        recover_isolated(conn, progress=lambda _progress: token.cancel(), cancel=token)
    assert "start_s" in last_run  # the child had started: Stop ended it
    assert_nothing_left()
    assert folder_state(tmp_path) == before


def test_too_little_memory_scans_in_the_calling_thread_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases.scattered(tmp_path, rows=300)
    monkeypatch.setattr(in_child, "LIMITS", replace(LIMITS, recovery_child_copies=1e12))
    last_run.clear()
    with snapshot_of(case.path) as conn:
        assert recover_isolated(conn) == recover(conn)
    assert last_run == {}  # no child, no shared memory


def _refusing_child(name: str, size: int, sending: Connection) -> None:
    """A child whose scan fails with the user's words."""
    import pickle

    error = RecoveryError("The database header names an impossible page size (3).")
    sending.send_bytes(pickle.dumps(("ready", True)))
    sending.send_bytes(pickle.dumps(("error", pickle.dumps(error), str(error))))
    sending.close()


def _dying_child(name: str, size: int, sending: Connection) -> None:
    """A child that dies part way (killed, out of memory)."""
    import pickle

    sending.send_bytes(pickle.dumps(("ready", True)))
    os._exit(3)


def test_a_failing_scan_gives_the_users_message_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases.scattered(tmp_path, rows=300)
    monkeypatch.setattr(in_child, "_child_main", _refusing_child)
    with snapshot_of(case.path) as conn, pytest.raises(RecoveryError) as refused:
        recover_isolated(conn)
    assert refused.value.message == "The database header names an impossible page size (3)."
    assert_nothing_left()


def test_a_child_that_dies_is_reported_in_words_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = cases.scattered(tmp_path, rows=300)
    monkeypatch.setattr(in_child, "_child_main", _dying_child)
    with snapshot_of(case.path) as conn, pytest.raises(RecoveryError) as died:
        recover_isolated(conn)
    assert died.value.message == "The recovery scan's process ended unexpectedly (exit code 3)."
    assert_nothing_left()
