"""The demo database: built on first use, atomically, versioned, and full of every showcase."""

from __future__ import annotations

import sqlite3
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app.core.demo import database as demo
from desktop_app.core.demo.images import demo_images, png_bytes
from desktop_app.core.errors import Cancelled
from desktop_app.core.progress import CancelToken, Progress
from desktop_app.core.sqlite.connection import configure_connection
from desktop_app.core.sqlite.quoting import quote_identifier

SMALL_ROWS = 2_000
#: The demo's ordinary tables, awkward names included.
DEMO_TABLES = (
    "customers",
    "products",
    "orders",
    "order_items",
    "order_status_log",
    "events",
    "images",
    "attachments",
    "text_cases",
    "mixed_types",
    "alembic_version",
    "django_migrations",
    "Order Details",
    "it's",
    'q"t',
    "select",
    "table]name",
    "🎉 party",
    "compound/keys",
    "2024 report.v2",
    "",
)


@pytest.fixture(scope="module")
def demo_conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    demo.build_demo_database(path, rows=SMALL_ROWS)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    configure_connection(conn)
    yield conn
    conn.close()


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("sys.platform", "linux")
    return tmp_path / "cache"


def one(conn: sqlite3.Connection, sql: str, *params: object) -> object:
    return conn.execute(sql, params).fetchone()[0]


def objects(conn: sqlite3.Connection, kind: str) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = ?", (kind,))}


def png_size(data: bytes) -> tuple[int, int]:
    """Check `data` is a well-formed PNG (signature, chunk CRCs, full image data) and return its size."""
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(tag + body) == crc
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, _depth, color_type, *_ = header
    channels = {0: 1, 2: 3, 6: 4}[color_type]
    assert len(zlib.decompress(idat)) == height * (1 + width * channels)
    return width, height


def test_demo_has_every_listed_table_and_the_requested_event_rows(demo_conn: sqlite3.Connection) -> None:
    assert set(DEMO_TABLES) <= objects(demo_conn, "table")
    assert one(demo_conn, "SELECT count(*) FROM events") == SMALL_ROWS
    assert one(demo_conn, "SELECT max(id) FROM events") == SMALL_ROWS
    assert one(demo_conn, "PRAGMA integrity_check") == "ok"


def test_default_demo_asks_for_a_million_events_in_batches() -> None:
    batches = list(demo._event_batches(demo.DEMO_EVENT_ROWS))
    assert demo.DEMO_EVENT_ROWS >= 1_000_000
    assert batches[0][0] == 1 and batches[-1][1] == demo.DEMO_EVENT_ROWS
    assert sum(last - first + 1 for first, last in batches) == demo.DEMO_EVENT_ROWS


def test_demo_tables_are_related_by_consistent_foreign_keys(demo_conn: sqlite3.Connection) -> None:
    parents = {row[2] for row in demo_conn.execute("PRAGMA foreign_key_list(order_items)")}
    assert parents == {"orders", "products"}
    assert {row[2] for row in demo_conn.execute('PRAGMA foreign_key_list("Order Details")')} == {
        "orders",
        "products",
    }
    assert demo_conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert one(demo_conn, "SELECT count(*) FROM order_items") > one(demo_conn, "SELECT count(*) FROM orders")


def test_demo_views_and_triggers_work_on_its_data(demo_conn: sqlite3.Connection) -> None:
    assert {"order_summary", "best_customers", "recent_errors"} <= objects(demo_conn, "view")
    assert {"order_items_update_total", "orders_log_status"} <= objects(demo_conn, "trigger")
    # The totals were filled in by the trigger as items were inserted.
    mismatches = one(
        demo_conn,
        """SELECT count(*) FROM orders o WHERE abs(o.total - (
               SELECT sum(quantity * unit_price) FROM order_items WHERE order_id = o.id)) > 0.01""",
    )
    assert mismatches == 0
    assert one(demo_conn, "SELECT count(*) FROM order_status_log") > 0
    assert one(demo_conn, "SELECT count(*) FROM order_summary") == one(
        demo_conn, "SELECT count(*) FROM orders"
    )
    assert one(demo_conn, "SELECT count(*) FROM recent_errors") > 0


def test_demo_full_text_table_finds_words(demo_conn: sqlite3.Connection) -> None:
    assert "CREATE VIRTUAL TABLE articles USING fts5" in one(
        demo_conn, "SELECT sql FROM sqlite_schema WHERE name = 'articles'"
    )
    assert one(demo_conn, "SELECT count(*) FROM articles WHERE articles MATCH 'snapshot'") > 0


def test_demo_images_are_valid_pngs_of_several_sizes(demo_conn: sqlite3.Connection) -> None:
    rows = demo_conn.execute("SELECT width, height, data FROM images").fetchall()
    assert len(rows) >= 20
    assert all(png_size(data) == (width, height) for width, height, data in rows)
    assert len({(width, height) for width, height, _ in rows}) >= 6


def test_demo_attachments_hold_other_binary_kinds(demo_conn: sqlite3.Connection) -> None:
    blobs = dict(demo_conn.execute("SELECT file_name, data FROM attachments"))
    assert blobs["notes.txt.gz"][:2] == b"\x1f\x8b"
    assert blobs["invoice.pdf"].startswith(b"%PDF-")
    assert blobs["archive.zip"].startswith(b"PK\x03\x04")
    assert blobs["nested.sqlite"].startswith(b"SQLite format 3\x00")
    assert len(blobs["random.bin"]) == 4096
    assert blobs["empty.bin"] == b"" and blobs["missing.bin"] is None


def test_demo_has_awkward_names_and_a_compound_without_rowid_key(demo_conn: sqlite3.Connection) -> None:
    for name in ("Order Details", "it's", 'q"t', "select", "table]name", "🎉 party", ""):
        assert one(demo_conn, f"SELECT count(*) FROM {quote_identifier(name)}") > 0
    columns = [row[1] for row in demo_conn.execute('PRAGMA table_info("🎉 party")')]
    assert "🔑" in columns and "名前" in columns
    assert (
        one(demo_conn, "SELECT sql FROM sqlite_schema WHERE name = 'compound/keys'")
        .rstrip()
        .endswith("WITHOUT ROWID")
    )
    key = [row[1] for row in demo_conn.execute('PRAGMA table_info("compound/keys")') if row[5]]
    assert key == ["pk 1", "pk/2"]


def test_demo_separates_null_from_empty_text_and_keeps_invalid_utf8(demo_conn: sqlite3.Connection) -> None:
    notes = {row[0] for row in demo_conn.execute("SELECT DISTINCT notes FROM customers")}
    assert None in notes and "" in notes
    raw = one(demo_conn, "SELECT CAST(value AS BLOB) FROM text_cases WHERE label = 'invalid UTF-8'")
    assert b"\xff\xfe" in raw
    assert "\ufffd" in one(demo_conn, "SELECT value FROM text_cases WHERE label = 'invalid UTF-8'")
    assert one(demo_conn, "SELECT typeof(value) FROM text_cases WHERE label = 'invalid UTF-8'") == "text"


def test_demo_records_alembic_and_django_migrations(demo_conn: sqlite3.Connection) -> None:
    assert one(demo_conn, "SELECT count(*) FROM alembic_version") == 1
    apps = {row[0] for row in demo_conn.execute("SELECT app FROM django_migrations")}
    assert {"auth", "contenttypes", "shop"} <= apps


def test_demo_path_is_in_the_user_cache_folder(cache_home: Path) -> None:
    assert demo.demo_database_path() == cache_home / "sqlite-snapshot-browser" / "demo.sqlite3"
    assert demo.demo_database_path(rows=10) != demo.demo_database_path()


def test_first_call_builds_and_second_call_reuses(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Progress] = []
    path = demo.ensure_demo_database(seen.append, rows=500)
    assert path.parent == cache_home / "sqlite-snapshot-browser"
    assert demo.is_current_demo(path)
    assert seen[-1].done == seen[-1].total and len(seen) > 3
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    inode = path.stat().st_ino

    def must_not_build(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rebuilt a current demo")

    monkeypatch.setattr(demo, "build_demo_database", must_not_build)
    assert demo.ensure_demo_database(rows=500) == path
    assert path.stat().st_ino == inode


def test_changed_builder_version_rebuilds_the_demo(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = demo.ensure_demo_database(rows=500)
    monkeypatch.setattr(demo, "DEMO_VERSION", demo.DEMO_VERSION + 1)
    assert not demo.is_current_demo(path)
    assert demo.ensure_demo_database(rows=500) == path
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert one(conn, "PRAGMA user_version") == demo.DEMO_VERSION
    finally:
        conn.close()


def test_a_foreign_file_at_the_demo_path_is_replaced(cache_home: Path) -> None:
    path = demo.demo_database_path(rows=500)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database")
    assert demo.ensure_demo_database(rows=500) == path
    assert demo.is_current_demo(path)


@pytest.mark.parametrize("stage", ["Creating the shop tables", "Generating events", "Finishing"])
def test_cancelled_build_leaves_nothing_behind(cache_home: Path, stage: str) -> None:
    token = CancelToken()

    def cancel_at_stage(progress: Progress) -> None:
        if progress.label.startswith(stage):
            token.cancel()

    with pytest.raises(Cancelled):
        demo.ensure_demo_database(cancel_at_stage, token, rows=500)
    assert list((cache_home / "sqlite-snapshot-browser").iterdir()) == []


def test_cancel_interrupts_a_running_event_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = CancelToken()
    monkeypatch.setattr(demo, "EVENT_BATCH_ROWS", 10_000_000)
    real_insert = demo._insert_events

    def insert_then_cancel_midway(conn: sqlite3.Connection, first: int, last: int) -> None:
        conn.set_progress_handler(token.cancel, 100_000)
        real_insert(conn, first, last)

    monkeypatch.setattr(demo, "_insert_events", insert_then_cancel_midway)
    with pytest.raises(Cancelled):
        demo.build_demo_database(tmp_path / "demo.sqlite3", rows=10_000_000, cancel=token)


def test_png_writer_round_trips_size_and_channels() -> None:
    assert png_size(png_bytes(7, 3, lambda u, v: (255, 0, 0, 128), channels=4)) == (7, 3)
    assert png_size(png_bytes(1, 1, lambda u, v: (9,), channels=1)) == (1, 1)
    assert len(demo_images()) >= 20
