"""A recovery scan run in a child process, so the caller's process never shares a GIL with the carving.

A scan is Python through and through: run in a thread of the window's process, the window waited for
the GIL at every event (stalls of 45-156 ms on a 1 GB file, however the scan handed it over). Here the
snapshot's bytes are copied into shared memory (in chunks, the GIL released), a child started with
`spawn` (never `fork`: the window is a multi-threaded Qt process) carves them, and its records come
back in batches, each unpickled in a few milliseconds. Stop terminates the child; whatever happens, a
clean-up thread then reaps it and unlinks the shared memory (0.4-0.6 s for 1 GB, which neither Stop nor
the result waits for). Where the machine lacks the memory for the copy, or no child can be started, the
scan runs in the calling thread as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import sqlite3
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager, suppress
from multiprocessing.connection import Connection, wait
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np

from desktop_app.core.errors import Cancelled, RecoveryError, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.pagefile.image import parse_header
from desktop_app.core.pagefile.snapshot_bytes import snapshot_bytes
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.recovery.allocator import keep_large_blocks_in_heap
from desktop_app.core.recovery.model import RecoveredRecord, RecoveryResult
from desktop_app.core.recovery.scan import recover
from desktop_app.core.snapshot.memory_copy import available_memory_bytes
from desktop_app.core.sqlite.connection import configure_connection, untrusted_schema_function
from desktop_app.core.sqlite.library import deserialize_in_place

log = logging.getLogger(__name__)

#: Bytes copied into shared memory per call (each a few milliseconds).
COPY_CHUNK_BYTES = 16 << 20
#: Records per message from the child: unpickling 2,000 took 8.5 ms (load 5), 500 about 2 ms.
BATCH_RECORDS = 500
#: Least time between two progress messages of the child.
PROGRESS_INTERVAL_S = 0.05
#: How often the waiting thread looks at the cancel token while the child works.
_POLL_S = 0.02
#: How long a child may take to end on its own before it is terminated (and then before it is killed).
_REAP_S = 1.0

#: Facts of the last child run, for benchmarks and tests: the shared memory's name and bytes, the child's
#: start-up seconds and whether it read the shared memory in place.
last_run: dict[str, Any] = {}


def recover_isolated(
    conn: sqlite3.Connection,
    *,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> RecoveryResult:
    """`recover(conn, ...)`, run in a child process on a shared-memory copy of the snapshot's bytes;
    in this thread instead when the machine lacks the memory for the copy or no child can be started.
    Errors arrive as `recover`'s would (`RecoveryError`, `Cancelled`, ...)."""
    token = cancel or CancelToken()
    size = _image_size(conn)
    if not _room_for(size):
        log.info("recovery scan in-process: too little memory to share %d bytes with a child", size)
        return recover(conn, progress=progress, cancel=token)
    # Reaping the child and freeing a big image take 0.2-0.5 s: neither the result nor Stop waits.
    cleanup = ExitStack()
    try:
        try:
            shared = SharedMemory(create=True, size=max(size, 1))
        except OSError as exc:
            log.info("recovery scan in-process: no shared memory (%s)", exc)
            shared = None
        else:
            cleanup.callback(_release, shared)
        if shared is not None and _copy_image(conn, shared, size, token):
            result = _run_child(shared.name, size, progress, token, cleanup)
            if result is not None:
                return result
    finally:
        _in_background(cleanup)
    return recover(conn, progress=progress, cancel=token)


def finish_cleanups(timeout: float | None = None) -> None:
    """Wait for the clean-ups still running (children reaped, shared memory unlinked)."""
    for thread in list(_cleanups):
        thread.join(timeout)


_cleanups: set[threading.Thread] = set()


def _in_background(cleanup: ExitStack) -> None:
    def run() -> None:
        try:
            cleanup.close()
        finally:
            _cleanups.discard(thread)

    # Not a daemon: the interpreter waits for it at exit, so nothing is left behind.
    thread = threading.Thread(target=run, name="recovery child clean-up")
    _cleanups.add(thread)
    thread.start()


def _release(shared: SharedMemory) -> None:
    shared.close()
    shared.unlink()


def _image_size(conn: sqlite3.Connection) -> int:
    page_size = conn.execute("PRAGMA main.page_size").fetchone()[0]
    page_count = conn.execute("PRAGMA main.page_count").fetchone()[0]
    return int(page_size * page_count)


def _room_for(size: int) -> bool:
    """Whether the memory available holds the shared copy and the child's own, if it needs one (and,
    where shared memory is a RAM file system, whether that has the room: writing past its end kills)."""
    available = available_memory_bytes()
    if available is not None and available < size * LIMITS.recovery_child_copies:
        return False
    if os.path.isdir("/dev/shm"):
        stat = os.statvfs("/dev/shm")
        if stat.f_bavail * stat.f_frsize < size + (1 << 20):
            return False
    return True


def _copy_image(conn: sqlite3.Connection, shared: SharedMemory, size: int, cancel: CancelToken) -> bool:
    """Copy the snapshot's bytes into `shared` a chunk at a time (numpy copies without the GIL); False
    when they are not `size` bytes long."""
    with snapshot_bytes(conn) as data:
        if len(data) != size:
            log.info("recovery scan in-process: the image's size changed")
            return False
        parse_header(data)  # bytes that are no database image are refused here, in words, as in-process
        source = np.frombuffer(data, dtype=np.uint8)
        target = np.frombuffer(shared.buf, dtype=np.uint8, count=size)
        try:
            for start in range(0, size, COPY_CHUNK_BYTES):
                cancel.raise_if_cancelled()
                end = start + COPY_CHUNK_BYTES
                np.copyto(target[start:end], source[start:end])
        finally:
            del source, target  # views of the buffers: neither could be closed while they live
    return True


def _run_child(
    name: str, size: int, progress: ProgressCallback, cancel: CancelToken, cleanup: ExitStack
) -> RecoveryResult | None:
    """Scan the image in shared memory `name` in a child (reaped by `cleanup`); None when the child
    could not start."""
    last_run.clear()
    last_run.update(shared_bytes=size, shared_name=name)
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    started = time.perf_counter()
    child = context.Process(target=_child_main, args=(name, size, sending), daemon=True)
    cleanup.callback(_reap, child)
    with closing(receiving):
        try:
            child.start()
        except OSError as exc:
            log.info("recovery scan in-process: no child process (%s)", exc)
            return None
        finally:
            sending.close()
        return _receive(receiving, child, started, progress, cancel)


def _reap(child: Any) -> None:
    """Wait for `child` to end (terminate it, then kill it, if it does not)."""
    if child.pid is None:
        return
    child.join(_REAP_S)
    if child.exitcode is None:
        child.terminate()
        child.join(_REAP_S)
        if child.exitcode is None:
            child.kill()
    child.join()
    child.close()


def _receive(
    receiving: Connection, child: Any, started: float, progress: ProgressCallback, cancel: CancelToken
) -> RecoveryResult | None:
    result: RecoveryResult | None = None
    records: list[RecoveredRecord] = []
    ready = False
    while True:
        if cancel.cancelled:
            child.terminate()  # it holds nothing to clean up: the shared memory is ours
            raise Cancelled()
        if not wait([receiving, child.sentinel], _POLL_S):
            continue
        try:
            message = pickle.loads(receiving.recv_bytes())
        except EOFError:  # the child ended without a word
            if not ready:
                log.warning("recovery child ended before it started (exit code %s)", child.exitcode)
                return None
            child.join(_REAP_S)
            raise RecoveryError(
                f"The recovery scan's process ended unexpectedly (exit code {child.exitcode})."
            ) from None
        kind = message[0]
        if kind == "progress":
            progress(Progress(*message[1:]))
        elif kind == "records":
            records += message[1]
        elif kind == "ready":
            ready = True
            last_run.update(start_s=time.perf_counter() - started, in_place=message[1])
        elif kind == "result":
            result = message[1]
        elif kind == "end":
            assert result is not None
            result.records = records
            return result
        elif kind == "unavailable":
            log.info("recovery scan in-process: %s", message[1])
            return None
        elif kind == "error":
            raise _error_from(message[1], message[2])


def _error_from(pickled: bytes | None, text: str) -> BaseException:
    """The child's error as the caller would have met it (a `UserError` or SQLite's), else a
    `RecoveryError` that says what happened (the traceback goes to the log)."""
    if pickled is not None:
        try:
            error = pickle.loads(pickled)
        except Exception:  # an error type whose constructor takes more than its message
            error = None
        if isinstance(error, UserError | sqlite3.Error):
            return error
    log.error("recovery child failed:\n%s", text)
    return RecoveryError(f"The recovery scan failed ({text.strip().splitlines()[-1]}).")


# --- in the child ---------------------------------------------------------------------------------


def _child_main(name: str, size: int, sending: Connection) -> None:
    """The child: scan the image in shared memory `name` and send what it finds to `sending`."""

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the parent's to handle
    keep_large_blocks_in_heap()  # this process scans and exits

    def send(*message: Any) -> None:
        sending.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    with closing(sending):
        try:
            shared = SharedMemory(name)
        except OSError as exc:
            send("unavailable", f"the child cannot open the shared memory ({exc})")
            return
        try:
            _scan_shared(shared, size, send)
        finally:
            with suppress(BufferError):  # a view still held: the mapping goes with the process
                shared.close()


def _scan_shared(shared: SharedMemory, size: int, send: Any) -> None:
    image = shared.buf[:size]
    try:
        with _connection_on(image) as (conn, in_place):
            send("ready", in_place)
            last = [0.0]

            def progress(report: Progress) -> None:
                now = time.monotonic()
                if now - last[0] >= PROGRESS_INTERVAL_S or report.done == report.total:
                    last[0] = now
                    send("progress", report.done, report.total, report.label)

            try:
                result = recover(conn, progress=progress, image=image)
            except (UserError, sqlite3.Error) as exc:
                send("error", _pickled(exc), str(exc))
                return
            except Exception:
                send("error", None, traceback.format_exc())
                return
        records, result.records = result.records, []
        send("result", result)
        for start in range(0, len(records), BATCH_RECORDS):
            send("records", records[start : start + BATCH_RECORDS])
        send("end")
    finally:
        with suppress(BufferError):
            image.release()


def _pickled(error: BaseException) -> bytes | None:
    try:
        data = pickle.dumps(error)
        pickle.loads(data)
        return data
    except Exception:
        return None


@contextmanager
def _connection_on(image: memoryview) -> Iterator[tuple[sqlite3.Connection, bool]]:
    """A connection reading `image`, configured as the window's readers are: in place where the library
    allows it, else on a copy (`Connection.deserialize`). Yields it and whether it reads in place."""
    memdb = f"/recovery-{uuid.uuid4().hex}"
    conn = sqlite3.connect(f"file:{memdb}?vfs=memdb", uri=True, isolation_level=None)
    lent = deserialize_in_place(conn, memdb, image)
    if lent is None:
        conn.close()
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.deserialize(image)
    try:
        configure_connection(conn, trust_schema=_needs_trust(conn))
        yield conn, lent is not None
    finally:
        conn.close()
        del lent


def _needs_trust(conn: sqlite3.Connection) -> bool:
    try:
        return untrusted_schema_function(conn) is not None
    except sqlite3.DatabaseError:
        return False  # not a database the schema of which loads: recover says so
