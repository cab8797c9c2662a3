"""The demo database: built by code on first use into the user's cache folder, with every pane's showcase."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from desktop_app.core.demo.content import CONTENT_STEPS, execute_script
from desktop_app.core.errors import UserError
from desktop_app.core.progress import CancelToken, Progress, ProgressCallback, ignore_progress
from desktop_app.core.snapshot.source_file import SQLITE_MAGIC, parse_header
from desktop_app.core.sqlite.interrupt import cancellable

#: Bump when the builder changes: a cached demo with another version is rebuilt.
DEMO_VERSION = 1
#: `PRAGMA application_id` of the demo ("SSBD"), so we never mistake another file for it.
DEMO_APPLICATION_ID = 0x53534244
#: Rows in the big `events` table of the default demo.
DEMO_EVENT_ROWS = 1_000_000
#: The table the demo opens on in Browse: its showcase, the million rows of `events`.
DEMO_START_TABLE = "events"
#: Rows inserted per statement while filling `events` (progress and cancel are checked between them).
EVENT_BATCH_ROWS = 100_000
#: Unfinished builds left by a crash are removed once they are this old (seconds).
STALE_BUILD_AGE_S = 3600

APP_FOLDER = "sqlite-snapshot-browser"


def cache_directory() -> Path:
    """Return the per-user cache folder of the program (XDG cache, LOCALAPPDATA, ~/Library/Caches)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / APP_FOLDER


def demo_database_path(rows: int = DEMO_EVENT_ROWS) -> Path:
    """Return where the demo database (with `rows` events) lives in the cache folder."""
    name = "demo.sqlite3" if rows == DEMO_EVENT_ROWS else f"demo-{rows}-events.sqlite3"
    return cache_directory() / name


def is_current_demo(path: Path) -> bool:
    """True when `path` is a complete demo database built by this version of the builder."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError:
        return False
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return False
    parsed = parse_header(header, size)
    return parsed.application_id == DEMO_APPLICATION_ID and parsed.user_version == DEMO_VERSION


def ensure_demo_database(
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
    *,
    rows: int = DEMO_EVENT_ROWS,
) -> Path:
    """Return the demo database's path, building it first if it is missing or from an older builder."""
    path = demo_database_path(rows)
    if is_current_demo(path):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"The demo database cannot be created: {path.parent} is not writable ({exc.strerror}).",
            details=str(exc),
        ) from None
    _remove_stale_builds(path.parent)
    # Build beside the target and rename: a crash or cancel never leaves a half-built demo in place,
    # and two programs building at once each rename a complete file.
    fd, temp_name = tempfile.mkstemp(prefix=".demo-", suffix=".building", dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    try:
        build_demo_database(temp, rows=rows, progress=progress, cancel=cancel)
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(
            f"The demo database could not be written: {exc.strerror}.", details=str(exc)
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return path


def _remove_stale_builds(folder: Path) -> None:
    """Delete unfinished builds that a crashed run left behind."""
    now = time.time()
    for leftover in folder.glob(".demo-*.building"):
        try:
            if now - leftover.stat().st_mtime > STALE_BUILD_AGE_S:
                leftover.unlink()
        except OSError:
            pass


def build_demo_database(
    path: Path,
    *,
    rows: int = DEMO_EVENT_ROWS,
    progress: ProgressCallback = ignore_progress,
    cancel: CancelToken | None = None,
) -> None:
    """Write the demo database into the empty (or missing) file `path`."""
    cancel = cancel or CancelToken()
    batches = list(_event_batches(rows))
    total = len(CONTENT_STEPS) + len(batches) + 1
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with cancellable(conn, cancel):
            conn.execute("PRAGMA journal_mode=OFF")  # a throw-away file until renamed: no journal needed
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA foreign_keys=ON")
            done = 0
            for label, step in CONTENT_STEPS:
                progress(Progress(done, total, label))
                cancel.raise_if_cancelled()
                conn.execute("BEGIN")
                step(conn)
                conn.execute("COMMIT")
                done += 1
            _create_events_table(conn)
            for first, last in batches:
                progress(Progress(done, total, f"Generating events ({first - 1:,} of {rows:,})"))
                cancel.raise_if_cancelled()
                _insert_events(conn, first, last)
                done += 1
            progress(Progress(done, total, "Finishing"))
            cancel.raise_if_cancelled()
            conn.execute(f"PRAGMA application_id={DEMO_APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={DEMO_VERSION}")
            conn.execute("ANALYZE")
            progress(Progress(total, total, "Demo database ready"))
    finally:
        conn.close()


# --- events: the big table ---------------------------------------------------------------------------


def _event_batches(rows: int) -> Iterator[tuple[int, int]]:
    for first in range(1, rows + 1, EVENT_BATCH_ROWS):
        yield first, min(rows, first + EVENT_BATCH_ROWS - 1)


def _create_events_table(conn: sqlite3.Connection) -> None:
    execute_script(
        conn,
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            happened_at TEXT NOT NULL,
            level TEXT NOT NULL,
            source TEXT NOT NULL,
            customer_id INTEGER REFERENCES customers(id),
            duration_ms REAL,
            message TEXT
        );
        CREATE INDEX events_errors ON events(happened_at) WHERE level = 'ERROR';
        CREATE VIEW recent_errors AS
            SELECT id, happened_at, source, message FROM events
            WHERE level = 'ERROR' ORDER BY id DESC LIMIT 100;
        """,
    )


def _insert_events(conn: sqlite3.Connection, first: int, last: int) -> None:
    # Generated inside SQLite by a recursive CTE: a million rows take about two seconds.
    conn.execute("BEGIN")
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO events
        SELECT i,
            datetime(1704067200 + i * 29, 'unixepoch'),
            CASE WHEN i % 97 = 0 THEN 'ERROR' WHEN i % 13 = 0 THEN 'WARNING'
                 WHEN i % 3 = 0 THEN 'DEBUG' ELSE 'INFO' END,
            CASE i % 5 WHEN 0 THEN 'web' WHEN 1 THEN 'api' WHEN 2 THEN 'worker'
                       WHEN 3 THEN 'billing' ELSE 'auth' END,
            CASE WHEN i % 11 = 0 THEN NULL ELSE 1 + (i * 7919) % 500 END,
            CASE WHEN i % 17 = 0 THEN NULL ELSE ((i * 104729) % 100000) / 100.0 END,
            CASE i % 6
                WHEN 0 THEN 'GET /orders/' || (i % 2000 + 1) || ' 200'
                WHEN 1 THEN 'payment ' || i || ' captured'
                WHEN 2 THEN 'job ' || (i % 977) || ' retried after timeout'
                WHEN 3 THEN 'login from 10.0.' || (i % 256) || '.' || (i * 7 % 256)
                WHEN 4 THEN 'cache miss for product ' || (i % 12 + 1)
                ELSE 'café order ' || i || ' ☕ shipped' END
        FROM n
        """,
        (first, last),
    )
    conn.execute("COMMIT")
