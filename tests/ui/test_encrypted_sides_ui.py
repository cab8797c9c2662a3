"""An encrypted or packed file asks for its passphrase or member wherever a file is opened: the Changes
pane's other file, File → Attach, and a SQLCipher file behind a plaintext header; decrypted in memory."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.open_dialogs import MemberDialog, PassphraseDialog
from tests.conftest import folder_state
from tests.fixtures import make_user_folder, sqlcipher_connector, text_rows_database
from tests.ui.helpers import close_window, make_window, open_in, wait_for

sqlcipher3 = pytest.importorskip("sqlcipher3")

PASSPHRASE = "side by side"
MARKER = "sides-plaintext-marker-51c0"
SALT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def make_encrypted(path: Path, rows: int, *pragmas: str) -> Path:
    return text_rows_database(
        path, rows, table="secrets", text=MARKER + " {i}", connect=sqlcipher_connector(PASSPHRASE, *pragmas)
    )


def make_plain(path: Path, rows: int) -> Path:
    return text_rows_database(path, rows, table="secrets", text=MARKER + " {i}")


async def passphrase_asked(holder: object, after: object = None) -> PassphraseDialog:
    """The passphrase dialog `holder` (the window or the pane) shows next (a new one after `after`)."""
    await wait_for(
        lambda: holder.open_dialog is not after and isinstance(holder.open_dialog, PassphraseDialog),
        message="passphrase dialog",
    )
    return holder.open_dialog


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
    return make_user_folder(tmp_path)


@asynccontextmanager
async def window_over(folder: Path, tmp_path: Path) -> AsyncIterator[MainWindow]:
    """A window for the test; once closed, `folder` (the user's) must be as it was (hashes, listing)."""
    before = folder_state(folder)
    window = make_window(tmp_path)
    try:
        yield window
    finally:
        await close_window(window)
    assert folder_state(folder) == before


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
    async with window_over(folder, tmp_path) as window:
        await open_in(window, a)
        pane = window.panes.changes
        pane.compare(pane.add_other_file(packed), pane.chosen_side(pane.side_b) or pane._sides()[0])
        await wait_for(lambda: isinstance(pane.open_dialog, MemberDialog), message="member chooser")
        chooser = pane.open_dialog
        assert isinstance(chooser, MemberDialog)
        chooser.list.setCurrentRow(0)
        chooser.accept()
        asked = await passphrase_asked(pane)
        assert "b.db in both.zip" in asked.intro.text()
        asked.secret.setText("not it")
        asked.accept()
        again = await passphrase_asked(pane, asked)
        assert "wrong passphrase or settings" in again.problem.text()
        again.secret.setText(PASSPHRASE)
        again.accept()
        await wait_for(lambda: pane.diff is not None, message="comparison")
        assert pane.diff is not None
        table = next(t for t in pane.diff.tables if t.name == "secrets")
        assert (table.added, table.removed) == (0, 2)  # b (5 rows) → a (3 rows)
        assert files_holding([folder], MARKER.encode()) == [a]  # only the plain file ever held it
        assert any(key is not None for _member, key in pane._side_options.values())
        window.close_database()
        assert pane._side_options == {}  # the passphrase goes with the database


async def test_attach_asks_for_the_passphrase_and_attaches_in_memory(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    main = make_plain(folder / "main.db", 2)
    secret = make_encrypted(folder / "vault.db", 4)
    async with window_over(folder, tmp_path) as window:
        await open_in(window, main)
        window.attach_database("v", str(secret))
        dialog = await passphrase_asked(window)
        dialog.secret.setText(PASSPHRASE)
        dialog.accept()
        await wait_for(lambda: "v" in window.session.attached_catalogs, message="attached")
        database = window.context.database
        assert database is not None
        result = await database.execute("SELECT count(*) FROM v.secrets")
        assert result.rows == [(4,)]
        assert files_holding([folder], MARKER.encode()) == [main]


async def test_a_plaintext_header_file_offers_the_header_and_opens_with_its_salt(
    qtbot: object, folder: Path, tmp_path: Path
) -> None:
    path = make_encrypted(
        folder / "ios.sqlite",
        3,
        "PRAGMA cipher_plaintext_header_size = 32",
        f"PRAGMA cipher_salt = \"x'{SALT}'\"",
    )
    async with window_over(folder, tmp_path) as window:
        window.open_path(path)
        dialog = await passphrase_asked(window)
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
