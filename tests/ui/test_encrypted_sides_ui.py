"""An encrypted or packed file asks for its passphrase or member wherever a file is opened: the Changes
pane's other file, File → Attach, and a SQLCipher file behind a plaintext header; decrypted in memory."""

from __future__ import annotations

import io
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.open_dialogs import MemberDialog, PassphraseDialog
from tests.conftest import folder_state
from tests.ui.helpers import close_window, make_window, open_in, wait_for

sqlcipher3 = pytest.importorskip("sqlcipher3")

PASSPHRASE = "side by side"
MARKER = "sides-plaintext-marker-51c0"
SALT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def make_encrypted(path: Path, rows: int, *pragmas: str) -> Path:
    conn = sqlcipher3.connect(str(path))
    conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
    for pragma in pragmas:
        conn.execute(pragma)
    conn.execute("CREATE TABLE secrets (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO secrets (v) VALUES (?)", [(f"{MARKER} {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def make_plain(path: Path, rows: int) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE secrets (id INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO secrets (v) VALUES (?)", [(f"{MARKER} {i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path


def files_holding(folders: list[Path], needle: bytes) -> list[Path]:
    return [
        Path(root, name)
        for folder in folders
        for root, _dirs, files in os.walk(folder)
        for name in files
        if needle in Path(root, name).read_bytes()
    ]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "user"
    made.mkdir()
    return made


async def close_when_idle(window: MainWindow) -> None:
    await close_window(window)


async def test_changes_pane_compares_with_an_encrypted_member_of_a_zip_after_asking(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    a = make_plain(folder / "a.db", 3)
    inner = make_encrypted(tmp_path / "b.db", 5)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("b.db", inner.read_bytes())
        archive.writestr("copy.db", inner.read_bytes())
    packed = folder / "both.zip"
    packed.write_bytes(buffer.getvalue())
    before = folder_state(folder)
    window = make_window(tmp_path)
    try:
        await open_in(window, a)
        pane = window.panes.changes
        pane.compare(pane.add_other_file(packed), pane.chosen_side(pane.side_b) or pane._sides()[0])
        await wait_for(lambda: isinstance(pane.open_dialog, MemberDialog), message="member chooser")
        chooser = pane.open_dialog
        assert isinstance(chooser, MemberDialog)
        chooser.list.setCurrentRow(0)
        chooser.accept()
        await wait_for(lambda: isinstance(pane.open_dialog, PassphraseDialog), message="passphrase")
        asked = pane.open_dialog
        assert isinstance(asked, PassphraseDialog) and "b.db in both.zip" in asked.intro.text()
        asked.secret.setText("not it")
        asked.accept()
        await wait_for(
            lambda: pane.open_dialog is not asked and isinstance(pane.open_dialog, PassphraseDialog),
            message="asked again",
        )
        again = pane.open_dialog
        assert isinstance(again, PassphraseDialog)
        assert "wrong passphrase or settings" in again.problem.text()
        again.secret.setText(PASSPHRASE)
        again.accept()
        await wait_for(lambda: pane.diff is not None, message="comparison")
        assert pane.diff is not None
        table = next(t for t in pane.diff.tables if t.name == "secrets")
        assert (table.added, table.removed) == (0, 2)  # b (5 rows) → a (3 rows)
        assert files_holding([folder], MARKER.encode()) == [a]  # only the plain file ever held it
    finally:
        await close_when_idle(window)
    assert folder_state(folder) == before


async def test_attach_asks_for_the_passphrase_and_attaches_in_memory(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    main = make_plain(folder / "main.db", 2)
    secret = make_encrypted(folder / "vault.db", 4)
    before = folder_state(folder)
    window = make_window(tmp_path)
    try:
        await open_in(window, main)
        window.attach_database("v", str(secret))
        await wait_for(lambda: isinstance(window.open_dialog, PassphraseDialog), message="passphrase")
        dialog = window.open_dialog
        assert isinstance(dialog, PassphraseDialog)
        dialog.secret.setText(PASSPHRASE)
        dialog.accept()
        await wait_for(lambda: "v" in window.session.attached_catalogs, message="attached")
        database = window.context.database
        assert database is not None
        result = await database.execute("SELECT count(*) FROM v.secrets")
        assert result.rows == [(4,)]
        assert files_holding([folder], MARKER.encode()) == [main]
    finally:
        await close_when_idle(window)
    assert folder_state(folder) == before


async def test_a_plaintext_header_file_offers_the_header_and_opens_with_its_salt(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    path = make_encrypted(
        folder / "ios.sqlite",
        3,
        "PRAGMA cipher_plaintext_header_size = 32",
        f"PRAGMA cipher_salt = \"x'{SALT}'\"",
    )
    before = folder_state(folder)
    window = make_window(tmp_path)
    try:
        window.open_path(path)
        await wait_for(lambda: isinstance(window.open_dialog, PassphraseDialog), message="passphrase")
        dialog = window.open_dialog
        assert isinstance(dialog, PassphraseDialog)
        assert dialog.plaintext_header.currentData() == 32 and dialog.salt.isEnabled()
        assert "plaintext SQLite header" in dialog.intro.text()
        dialog.resize(1024, 600)
        dialog.grab().save(str(tmp_path / "plaintext-header.png"))
        dialog.secret.setText(PASSPHRASE)
        dialog.salt.setText("12ab")
        dialog.accept()
        assert "32 hexadecimal digits" in dialog.problem.text() and dialog.isVisible()
        dialog.salt.setText(SALT)
        dialog.accept()
        await wait_for(
            lambda: window.session.snapshot is not None and not window.session.busy, message="open"
        )
        database = window.context.database
        assert database is not None
        assert (await database.execute("SELECT count(*) FROM secrets")).rows == [(3,)]
    finally:
        await close_when_idle(window)
    assert folder_state(folder) == before
