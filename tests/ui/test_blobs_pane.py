"""The Blobs pane over real snapshots: image, windowed hex, text, NULL/empty, save and bulk export."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QIODevice, QSettings
from PySide6.QtGui import QImage

from desktop_app.core.blobs import values as core_blobs
from desktop_app.core.blobs.name_preview import NameSample, preview_names
from desktop_app.core.limits import LIMITS
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.ui.context import AppContext
from desktop_app.ui.panes.blobs import viewer as blob_viewer
from desktop_app.ui.panes.blobs.hex_view import HexModel
from desktop_app.ui.panes.blobs.image_view import PREVIEW_MAX_PX, ImageView, decode_image
from desktop_app.ui.panes.blobs.pane import BlobsPane
from desktop_app.ui.panes.blobs.viewer import HEX_TAB, IMAGE_TAB, TEXT_TAB
from tests.conftest import CORPUS
from tests.fixtures import database_over
from tests.ui.helpers import close_window, make_window, open_in, wait_for

MBTILES = CORPUS / "mbtiles" / "plain_1.mbtiles"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
needs_mbtiles = pytest.mark.skipif(not MBTILES.exists(), reason="MBTiles corpus file missing")


@asynccontextmanager
async def blobs_pane(qtbot: Any, tmp_path: Path, path: Path) -> AsyncIterator[BlobsPane]:
    """A shown Blobs pane over a snapshot of `path`."""
    async with database_over(path) as (database, catalog):
        context = AppContext(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        context.set_database(database, catalog)
        pane = BlobsPane(context)
        qtbot.addWidget(pane)
        pane.resize(1100, 700)
        pane.show()
        try:
            yield pane
        finally:
            await context.jobs.wait_all()
            pane.close()


def build_db(path: Path, statements: list[tuple[str, tuple[Any, ...]]]) -> Path:
    """A database at `path` made by running `statements` (sql, params)."""
    with sqlite3.connect(path) as conn:
        for sql, params in statements:
            conn.execute(sql, params)
    conn.close()
    return path


def mbtiles_rowids() -> list[int]:
    with sqlite3.connect(f"file:{MBTILES}?mode=ro", uri=True) as conn:
        rowids = [rowid for (rowid,) in conn.execute("SELECT rowid FROM images ORDER BY rowid")]
    conn.close()
    return rowids


def mbtiles_tile(rowid: int) -> bytes:
    with sqlite3.connect(f"file:{MBTILES}?mode=ro", uri=True) as conn:
        (data,) = conn.execute("SELECT tile_data FROM images WHERE rowid = ?", (rowid,)).fetchone()
    conn.close()
    return bytes(data)


async def shown(pane: BlobsPane, message: str = "the value") -> None:
    """Wait until the pane knows what the value on show is."""
    await wait_for(lambda: pane.summary is not None, message=message)


@needs_mbtiles
async def test_mbtiles_tile_shows_as_png_with_its_dimensions(qtbot: Any, tmp_path: Path) -> None:
    first = mbtiles_rowids()[0]
    async with blobs_pane(qtbot, tmp_path, MBTILES) as pane:
        pane.show_cell("images", "tile_data", {"rowid": first}, None)
        viewer = pane.viewer
        await wait_for(lambda: viewer.image_view.decoded is not None, message="the image")
        decoded = viewer.image_view.decoded
        assert decoded is not None and decoded.ok
        image = QImage.fromData(mbtiles_tile(first))
        assert (decoded.image.width(), decoded.image.height()) == (image.width(), image.height())
        assert decoded.format == "PNG"
        caption = viewer.image_view.caption.text()
        assert f"{image.width()} × {image.height()} px · PNG" in caption
        assert viewer.tabs.currentIndex() == IMAGE_TAB
        assert viewer.details["Type"].text() == "image/png (.png)"
        assert viewer.details["Cell"].text() == f"images.tile_data · rowid {first}"
        await wait_for(lambda: viewer.sha256 is not None, message="the SHA-256")
        assert viewer.sha256 == hashlib.sha256(mbtiles_tile(first)).hexdigest()
        assert viewer.sha_label.text().replace("\n", "") == viewer.sha256
        pane.grab().save(str(tmp_path / "blobs_image.png"))


@needs_mbtiles
async def test_next_row_button_steps_through_the_tiles(qtbot: Any, tmp_path: Path) -> None:
    rowids = mbtiles_rowids()
    async with blobs_pane(qtbot, tmp_path, MBTILES) as pane:
        pane.show_cell("images", "tile_data", {"rowid": rowids[0]}, None)
        await shown(pane)
        pane.next_button.click()
        await wait_for(
            lambda: pane.cell is not None and pane.cell.key == {"rowid": rowids[1]}, message="next"
        )
        assert pane.row_box.text() == str(rowids[1])
        pane.prev_button.click()
        await wait_for(
            lambda: pane.cell is not None and pane.cell.key == {"rowid": rowids[0]}, message="back"
        )
        pane.row_box.setText(str(rowids[5]))
        pane.row_box.returnPressed.emit()
        await wait_for(
            lambda: pane.cell is not None and pane.cell.key == {"rowid": rowids[5]}, message="typed"
        )
        await shown(pane, "the typed row")
        assert pane.summary is not None and pane.summary.size == len(mbtiles_tile(rowids[5]))


async def test_hex_view_of_5mb_blob_reads_only_small_windows(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(5 * 1024 * 1024 + 7)
    path = build_db(
        tmp_path / "big.db",
        [
            ("CREATE TABLE big(id INTEGER PRIMARY KEY, payload BLOB)", ()),
            ("INSERT INTO big VALUES (1, ?)", (data,)),
        ],
    )
    ranges: list[int] = []
    chunks: list[int] = []
    real_range, real_read_at = blob_viewer.read_blob_range, core_blobs._IncrementalReader.read_at

    def spy_range(conn: Any, source: Any, offset: int, length: int) -> bytes:
        ranges.append(length)
        return real_range(conn, source, offset, length)

    def spy_read_at(self: Any, offset: int, length: int) -> bytes:
        chunks.append(length)
        return real_read_at(self, offset, length)

    def whole_read(*_args: Any, **_kwargs: Any) -> bytes:
        raise AssertionError("the whole blob was read")

    monkeypatch.setattr(blob_viewer, "read_blob_range", spy_range)
    monkeypatch.setattr(core_blobs._IncrementalReader, "read_at", spy_read_at)
    monkeypatch.setattr(blob_viewer, "read_blob", whole_read)
    async with blobs_pane(qtbot, tmp_path, path) as pane:
        pane.show_cell("big", "payload", {"rowid": 1}, None)
        await shown(pane)
        viewer = pane.viewer
        assert viewer.tabs.currentIndex() == HEX_TAB  # random bytes: hex is the useful view
        model = viewer.hex_view.model
        assert model.rowCount() == -(-len(data) // 16)
        await wait_for(lambda: model.is_loaded(0), message="the first window")
        first = model.data(model.index(0, 1))
        assert first.replace(" ", "") == data[:16].hex()
        viewer.hex_view.table.selectRow(0)
        assert viewer.hex_view.copy_selection().startswith(f"00000000  {data[:8].hex(' ')}  ")
        viewer.hex_view.go_to_offset(len(data) - 1)
        last_row = model.rowCount() - 1
        await wait_for(lambda: model.is_loaded(last_row), message="the last window")
        assert model.data(model.index(last_row, 0)) == f"{last_row * 16:08x}"
        assert model.data(model.index(last_row, 1)).replace(" ", "") == data[last_row * 16 :].hex()
        await wait_for(lambda: viewer.sha256 is not None, message="the SHA-256")
        assert viewer.sha256 == hashlib.sha256(data).hexdigest()
        pane.grab().save(str(tmp_path / "blobs_hex.png"))
    assert ranges and max(ranges) <= LIMITS.blob_text_preview_bytes + 1
    assert max(chunks) <= LIMITS.blob_chunk_bytes < len(data)
    assert len(model.cached_windows) <= LIMITS.hex_cached_windows


def test_hex_model_keeps_only_a_few_windows() -> None:
    requests: list[tuple[int, int]] = []
    data = bytes(range(256)) * 4096  # 1 MiB

    def loader(offset: int, length: int, done: Any, _failed: Any) -> None:
        requests.append((offset, length))
        done(data[offset : offset + length])

    model = HexModel()
    model.set_blob(len(data), loader)
    window_rows = LIMITS.hex_window_bytes // 16
    for window in range(LIMITS.hex_cached_windows + 3):
        row = window * window_rows
        assert model.data(model.index(row, 1)) == "…"  # asked for; arrives at once from this loader
        assert model.data(model.index(row, 2)) == "".join(
            chr(b) if 0x20 <= b < 0x7F else "." for b in data[row * 16 : row * 16 + 16]
        )
    assert len(model.cached_windows) == LIMITS.hex_cached_windows
    assert all(length == LIMITS.hex_window_bytes for _, length in requests)


async def test_text_stored_in_a_blob_column_shows_in_the_text_view(qtbot: Any, tmp_path: Path) -> None:
    text = "Grüße aus Köln — 東京 ✓\nsecond line"
    path = build_db(
        tmp_path / "text.db",
        [
            ("CREATE TABLE notes(id INTEGER PRIMARY KEY, body BLOB)", ()),
            ("INSERT INTO notes VALUES (1, ?)", (text,)),
            ("INSERT INTO notes VALUES (2, ?)", (text.encode("utf-8"),)),
            ("INSERT INTO notes VALUES (3, ?)", ("café".encode("latin-1"),)),
        ],
    )
    async with blobs_pane(qtbot, tmp_path, path) as pane:
        viewer = pane.viewer
        for rowid in (1, 2):  # stored as TEXT, and as the BLOB of its UTF-8 bytes
            pane.show_cell("notes", "body", {"rowid": rowid}, None)
            await wait_for(lambda: viewer.text_view.toPlainText() == text, message=f"text of row {rowid}")
            assert viewer.tabs.currentIndex() == TEXT_TAB
            assert viewer.details["Type"].text() == "text/plain (.txt)"
            assert viewer.text_info.text().startswith("UTF-8")
        pane.show_cell("notes", "body", {"rowid": 3}, None)
        await wait_for(lambda: viewer.text_view.toPlainText() == "café", message="latin-1 text")
        assert "Latin-1" in viewer.text_info.text()
        pane.grab().save(str(tmp_path / "blobs_text.png"))


async def test_null_and_empty_values_show_a_clear_state(qtbot: Any, tmp_path: Path) -> None:
    path = build_db(
        tmp_path / "nulls.db",
        [
            ("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)", ()),
            ("INSERT INTO t VALUES (1, NULL), (2, x''), (3, 42)", ()),
        ],
    )
    async with blobs_pane(qtbot, tmp_path, path) as pane:
        viewer = pane.viewer
        pane.show_cell("t", "b", {"rowid": 1}, None)
        await shown(pane, "NULL")
        assert viewer.stack.currentWidget() is viewer.placeholder
        assert viewer.placeholder.text().startswith("NULL")
        assert viewer.details["Stored as"].text() == "NULL"
        assert not pane.save_button.isEnabled()
        pane.show_cell("t", "b", {"rowid": 2}, None)
        await shown(pane, "empty")
        assert viewer.placeholder.text() == "Empty BLOB — 0 bytes."
        assert viewer.details["Size"].text() == "0 B (0 bytes)"
        pane.show_cell("t", "b", {"rowid": 3}, None)
        await wait_for(lambda: "not a blob" in viewer.placeholder.text(), message="a number")
        # A query result passes the value itself.
        pane.show_cell("", "b", {}, None)
        await shown(pane, "NULL from a query")
        assert viewer.placeholder.text().startswith("NULL")
        assert viewer.details["Cell"].text() == "b (query result)"
        pane.show_cell("", "b", {}, b"")
        await shown(pane, "empty from a query")
        assert viewer.placeholder.text().startswith("Empty BLOB")
        assert not pane.export_button.isEnabled()
        pane.show_cell("t", "b", {"rowid": 99}, None)
        await wait_for(lambda: pane.error_label.isVisible(), message="the missing-row message")
        assert "no row with rowid 99" in pane.error_label.text()
        pane.show_cell("t", "b", {"rowid": 1}, None)
        await shown(pane, "NULL again")
        assert not pane.error_label.isVisible()
        pane.grab().save(str(tmp_path / "blobs_null.png"))


async def test_awkward_names_without_rowid_and_views_can_be_stepped(qtbot: Any, tmp_path: Path) -> None:
    quoted = quote_identifier(table := 'it\'s "q"')
    path = build_db(
        tmp_path / "awkward.db",
        [
            (
                f'CREATE TABLE {quoted}(lang TEXT, id INT, "da ta" BLOB, PRIMARY KEY(lang,id)) WITHOUT ROWID',
                (),
            ),
            (f"INSERT INTO {quoted} VALUES ('en', 1, x'01'), ('en', 2, x'0202'), ('fr', 1, x'030303')", ()),
            (f'CREATE VIEW "select" AS SELECT "da ta" AS v FROM {quoted} ORDER BY lang, id', ()),
        ],
    )
    async with blobs_pane(qtbot, tmp_path, path) as pane:
        pane.show_cell(table, "da ta", {"lang": "en", "id": 2}, None)
        await shown(pane)
        assert pane.summary is not None and pane.summary.size == 2
        pane.step(1)
        await wait_for(
            lambda: pane.cell is not None and pane.cell.key == {"lang": "fr", "id": 1}, message="next"
        )
        await shown(pane, "fr, 1")
        assert pane.summary is not None and pane.summary.size == 3
        assert pane.row_box.text() == "fr, 1"
        # The row box says what it takes: the key's columns here, a row number (a position) for a view.
        assert pane.row_box_label.text() == "lang, id:" and "(by lang, id)" in pane.next_button.toolTip()
        pane.row_box.setText("en, 1")
        pane.row_box.returnPressed.emit()
        await wait_for(
            lambda: pane.cell is not None and pane.cell.key == {"lang": "en", "id": 1}, message="typed"
        )
        # A view has no key: rows go by position and the value comes with the row.
        pane.table_box.setCurrentIndex(pane.table_box.findData("select"))
        pane.table_box.activated.emit(pane.table_box.currentIndex())
        await wait_for(lambda: pane.cell is not None and pane.cell.table == "select", message="the view")
        pane.step(1)
        await wait_for(lambda: pane.cell is not None and pane.cell.position == 1, message="view row 2")
        await shown(pane, "view row 2")
        assert pane.summary is not None and pane.summary.size == 2
        assert pane.viewer.details["Cell"].text() == "select.v · row 2"
        assert pane.row_box_label.text() == "Row:" and "1 is the first row" in pane.row_box.toolTip()
        state = pane.save_state()
        pane.show_cell(table, "da ta", {"lang": "en", "id": 1}, None)
        pane.restore_state(state)
        await wait_for(lambda: pane.cell is not None and pane.cell.table == "select", message="restored")
        assert pane.cell is not None and pane.cell.position == 1


@needs_mbtiles
async def test_save_to_file_writes_the_same_bytes(qtbot: Any, tmp_path: Path) -> None:
    async with blobs_pane(qtbot, tmp_path, MBTILES) as pane:
        rowid = mbtiles_rowids()[7]
        pane.show_cell("images", "tile_data", {"rowid": rowid}, None)
        await shown(pane)
        target = tmp_path / "out" / "tile.png"
        target.parent.mkdir()
        job = pane.save_to(str(target))
        assert job is not None
        await wait_for(lambda: job.done, message="the save")
        assert target.read_bytes() == mbtiles_tile(rowid)
        assert pane.context.settings.value("blobs/save_folder") == str(target.parent)


@needs_mbtiles
async def test_bulk_export_writes_all_207_tiles_as_valid_pngs(qtbot: Any, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    rowids = mbtiles_rowids()
    async with blobs_pane(qtbot, tmp_path, MBTILES) as pane:
        pane.show_cell("images", "tile_data", {"rowid": rowids[0]}, None)
        await shown(pane)
        pane.open_export_dialog()
        await wait_for(lambda: pane.export_dialog is not None, message="the export dialog")
        dialog = pane.export_dialog
        assert dialog is not None
        dialog.folder.setText(str(out))
        dialog.pattern.setText("tile-{rowid:03d}{ext}")
        assert dialog.preview.text().splitlines()[:2] == [f"tile-{rowid:03d}.png" for rowid in rowids[:2]]
        dialog.pattern.setText("{nope}")
        assert "{nope}" in dialog.message.text() and not dialog.export_button.isEnabled()
        dialog.pattern.setText("tile-{rowid:03d}{ext}")
        job = dialog.start_export()
        assert job is not None
        await wait_for(lambda: dialog.result is not None, timeout=30, message="the export")
        result = dialog.result
        assert result is not None and result.written == 207 and not result.failures
        assert "Wrote 207 files" in dialog.summary.text()
        assert dialog.progress.value() == dialog.progress.maximum()
        files = sorted(out.iterdir())
        assert len(files) == 207
        with sqlite3.connect(f"file:{MBTILES}?mode=ro", uri=True) as conn:
            expected = {
                f"tile-{rowid:03d}.png": hashlib.sha256(data).hexdigest()
                for rowid, data in conn.execute("SELECT rowid, tile_data FROM images")
            }
        conn.close()
        for file in files:
            data = file.read_bytes()
            assert data.startswith(PNG_SIGNATURE) and not QImage.fromData(data).isNull()
            assert hashlib.sha256(data).hexdigest() == expected[file.name]
        settings = pane.context.settings
        assert settings.value("blobs/export_pattern") == "tile-{rowid:03d}{ext}"
        assert settings.value("blobs/export_folder") == str(out)
        dialog.resize(640, 520)
        dialog.grab().save(str(tmp_path / "blobs_export.png"))
        # Again into the same folder, stopped at once: what was written is reported, nothing is replaced.
        job = dialog.start_export()
        assert job is not None
        dialog.stop()
        await wait_for(lambda: dialog.job is None, message="the stop")
        assert "Stopped" in dialog.summary.text() + dialog.message.text()
        assert len(list(out.iterdir())) <= 2 * 207


def test_name_preview_follows_the_pattern_and_skips() -> None:
    samples = [
        NameSample({"rowid": 1, "pk": 1, "name": "../../etc/passwd"}, PNG_SIGNATURE),
        NameSample({"rowid": 2, "pk": 2, "name": "CON"}, b"%PDF-1.4"),
        NameSample({"rowid": 3, "pk": 3, "name": "x"}, None),
        NameSample({"rowid": 4, "pk": 4, "name": "y"}, b""),
    ]
    names = preview_names("{name}{ext}", ["name"], samples, skip_empty=True)
    assert "/" not in names[0] and ".." not in names[0].split("_")[0] and names[0].endswith(".png")
    assert names[1] == "_CON.pdf"
    assert names[2] == "(NULL: no file)"
    assert names[3] == "(empty: no file)"


@needs_mbtiles
async def test_window_routes_a_blob_cell_to_the_blobs_pane(qtbot: Any, tmp_path: Path) -> None:
    window = make_window(tmp_path)
    try:
        await open_in(window, MBTILES)
        pane = window.panes["blobs"]
        assert isinstance(pane, BlobsPane)
        window.show_blob("images", "tile_data", {"rowid": mbtiles_rowids()[3]}, None)
        assert window.tabs.currentWidget() is pane
        await wait_for(lambda: pane.viewer.image_view.decoded is not None, message="the image")
        window.grab().save(str(tmp_path / "window_blobs.png"))
    finally:
        await window.context.jobs.wait_all()
        await close_window(window)


def test_big_images_are_shrunk_while_decoding_and_broken_ones_explained(qtbot: Any) -> None:
    big = QImage(3000, 1000, QImage.Format.Format_RGB32)
    big.fill(0x3366CC)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert big.save(buffer, "PNG")
    decoded = decode_image(bytes(buffer.data().data()))
    assert decoded.ok and decoded.describe() == "3,000 × 1,000 px · PNG"
    assert max(decoded.image.width(), decoded.image.height()) == PREVIEW_MAX_PX
    broken = decode_image(PNG_SIGNATURE + b"\x00" * 40)
    assert not broken.ok and broken.describe().startswith("Cannot show this as an image")
    view = ImageView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show_image(decoded)
    assert "shown at" in view.caption.text()
