"""Opening an encrypted file asks for its passphrase (again when wrong); an archive of several asks which."""

from __future__ import annotations

import gzip
import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from desktop_app.core.snapshot import encrypted
from desktop_app.core.snapshot.encrypted import CipherSettings
from desktop_app.ui.main_window import DEFAULT_FILE_FILTER, FILE_FILTER, MainWindow
from desktop_app.ui.widgets.open_dialogs import MemberDialog, PassphraseDialog
from tests.conftest import folder_state
from tests.fixtures import sqlcipher_connector, text_rows_database
from tests.ui.helpers import close_window, make_window, wait_for

PASSPHRASE = "hunter2 but longer"


def open_message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


async def close_when_idle(window: MainWindow) -> None:
    """Close `window` (its shutdown stops its jobs and closes its connections, however far they got)."""
    await close_window(window)


def make_encrypted(path: Path, *pragmas: str) -> None:
    pytest.importorskip("sqlcipher3")
    text_rows_database(
        path, 6, table="secrets", text="s{i}", connect=sqlcipher_connector(PASSPHRASE, *pragmas)
    )


def plain_bytes(tmp_path: Path, table: str) -> bytes:
    path = tmp_path / f"{table}.db"
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (x)")
    conn.execute(f"INSERT INTO {table} VALUES (1)")
    conn.commit()
    conn.close()
    data = path.read_bytes()
    path.unlink()
    return data


async def test_passphrase_dialog_asks_again_after_a_wrong_one_then_opens(
    qtbot: object, tmp_path: Path
) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    path = folder / "vault.db"
    make_encrypted(path)
    before = folder_state(folder)
    window = make_window(tmp_path)
    window.open_path(path)
    await wait_for(lambda: isinstance(window.open_dialog, PassphraseDialog), message="passphrase dialog")
    dialog = window.open_dialog
    assert isinstance(dialog, PassphraseDialog) and not dialog.problem.isVisibleTo(dialog)
    dialog.secret.setText("wrong one")
    dialog.accept()
    assert dialog.secret.text() == ""  # the text typed is not kept in the dialog
    await wait_for(
        lambda: window.open_dialog is not dialog and isinstance(window.open_dialog, PassphraseDialog),
        message="second passphrase dialog",
    )
    again = window.open_dialog
    assert isinstance(again, PassphraseDialog)
    assert "wrong passphrase or settings" in again.problem.text() and again.problem.isVisibleTo(again)
    again.secret.setText(PASSPHRASE)
    again.accept()
    await wait_for(lambda: window.session.snapshot is not None and not window.session.busy, message="open")
    result = await window.context.database.execute("SELECT count(*) FROM secrets")  # type: ignore[union-attr]
    assert result.rows == [(6,)]
    await close_when_idle(window)
    assert folder_state(folder) == before


async def test_sqlcipher_3_preset_opens_a_3_file_and_reload_keeps_the_key(
    qtbot: object, tmp_path: Path
) -> None:
    path = tmp_path / "old.db"
    make_encrypted(path, "PRAGMA cipher_compatibility = 3")
    window = make_window(tmp_path)
    window.open_path(path)
    await wait_for(lambda: isinstance(window.open_dialog, PassphraseDialog), message="passphrase dialog")
    dialog = window.open_dialog
    assert isinstance(dialog, PassphraseDialog)
    dialog.preset.setCurrentIndex(1)
    assert dialog.settings() == CipherSettings(compatibility=3) and not dialog.kdf_iter.isEnabled()
    assert dialog.kdf_iter.value() == 64_000  # the preset's values shown
    dialog.secret.setText(PASSPHRASE)
    dialog.accept()
    await wait_for(lambda: window.session.snapshot is not None and not window.session.busy, message="open")
    generation = window.session.snapshot.generation  # type: ignore[union-attr]
    window.reload()
    await wait_for(
        lambda: window.session.snapshot is not None and window.session.snapshot.generation > generation,
        message="reload",
    )
    await close_when_idle(window)


def test_custom_settings_are_read_from_the_fields(qtbot: object) -> None:
    dialog = PassphraseDialog("x.db")
    dialog.preset.setCurrentIndex(2)
    dialog.page_size.setCurrentText("1024")
    dialog.kdf_iter.setValue(1000)
    dialog.hmac.setCurrentText("HMAC_SHA256")
    assert dialog.settings() == CipherSettings(
        compatibility=4, page_size=1024, kdf_iter=1000, hmac_algorithm="HMAC_SHA256",
        kdf_algorithm="PBKDF2_HMAC_SHA512", use_hmac=True,
    )  # fmt: skip
    keys: list[object] = []
    dialog.key_given.connect(keys.append)
    dialog.raw.setChecked(True)
    dialog.secret.setText("ab" * 32)
    dialog.accept()
    assert keys[0].secret == "x'" + "ab" * 32 + "'"  # type: ignore[attr-defined]


async def test_an_archive_of_several_databases_asks_which_to_open(qtbot: object, tmp_path: Path) -> None:
    archive = tmp_path / "bundle.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("first.db", plain_bytes(tmp_path, "one"))
        zipped.writestr("dir/second.db", plain_bytes(tmp_path, "two"))
        zipped.writestr("readme.txt", "hello")
    archive.write_bytes(buffer.getvalue())
    window = make_window(tmp_path)
    window.open_path(archive)
    await wait_for(lambda: isinstance(window.open_dialog, MemberDialog), message="member dialog")
    dialog = window.open_dialog
    assert isinstance(dialog, MemberDialog)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["first.db", "dir/second.db"]
    dialog.list.setCurrentRow(1)
    dialog.accept()
    await wait_for(lambda: window.session.snapshot is not None and not window.session.busy, message="open")
    assert window.session.snapshot.member == "dir/second.db"  # type: ignore[union-attr]
    assert "dir/second.db in bundle.zip" in window.windowTitle()
    result = await window.context.database.execute("SELECT count(*) FROM two")  # type: ignore[union-attr]
    assert result.rows == [(1,)]
    await close_when_idle(window)


async def test_a_gzipped_database_opens_without_asking(qtbot: object, tmp_path: Path) -> None:
    packed = tmp_path / "one.db.gz"
    packed.write_bytes(gzip.compress(plain_bytes(tmp_path, "one")))
    window = make_window(tmp_path)
    window.open_path(packed)
    await wait_for(lambda: window.session.snapshot is not None and not window.session.busy, message="open")
    assert window.open_dialog is None
    await close_when_idle(window)


def test_open_filters_default_to_all_files(qtbot: object) -> None:
    names = [part.split(" (")[0] for part in FILE_FILTER.split(";;")]
    assert names == ["SQLite databases", "Encrypted", "Archives", "All files"]
    assert DEFAULT_FILE_FILTER == "All files (*)"  # extensionless, .anki2, .localstorage… all shown
    sqlite_filter = FILE_FILTER.split(";;")[0]
    for suffix in (".anki2", ".sqlite3", ".db3", ".gpkg", ".mbtiles", ".localstorage"):
        assert f"*{suffix}" in sqlite_filter
    dialog = QFileDialog(None, "t", "", FILE_FILTER)
    dialog.selectNameFilter(DEFAULT_FILE_FILTER)
    assert dialog.selectedNameFilter() == DEFAULT_FILE_FILTER


async def test_without_sqlcipher_the_window_says_how_to_enable_it(
    qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "vault.db"
    make_encrypted(path)
    monkeypatch.setattr(encrypted, "_library", lambda: None)
    window = make_window(tmp_path)
    window.open_path(path)
    await wait_for(lambda: bool(open_message_boxes()), message="error box")
    box = open_message_boxes()[0]
    assert 'pip install "sqlite-snapshot-browser[sqlcipher]"' in box.text()
    assert window.open_dialog is None  # no passphrase asked for when it could not be used
    box.close()
    await close_when_idle(window)
