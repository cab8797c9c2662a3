"""The one way the window asks where to save a file (Qt's save dialog, which confirms an overwrite) and saves
it (never over the database being read)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop_app.core.errors import UserError
from desktop_app.core.export.output_paths import write_file


def save_file_dialog(parent: QWidget | None, caption: str, path: str, filters: str = "") -> QFileDialog:
    """A non-blocking save dialog starting at `path`; open it with `open()` after connecting `fileSelected`.

    Choosing an existing file asks before replacing it (native dialogs and Qt's own alike): the
    DontConfirmOverwrite option is kept off on purpose, since the callers then replace the file.
    """
    dialog = QFileDialog(parent, caption, path, filters)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, False)
    return dialog


def picture_save_dialog(
    parent: QWidget | None, caption: str, name: str, kind: str, chosen: Callable[[str], object]
) -> QFileDialog:
    """Open a save dialog for a `kind` ("png", "svg") picture named `name` in the home folder; `chosen(path)`
    runs with the path picked. Keep the returned dialog referenced while it is open."""
    dialog = save_file_dialog(parent, caption, str(Path.home() / name), f"{kind.upper()} pictures (*.{kind})")
    dialog.setDefaultSuffix(kind)
    dialog.fileSelected.connect(chosen)
    dialog.open()
    return dialog


def save_bytes(path: str | os.PathLike[str], data: bytes, source_path: str | os.PathLike[str] | None) -> str:
    """Write `data` to `path` whole, never over the database at `source_path` or its sidecars: '' once
    saved, else what went wrong, for the user."""
    try:
        write_file(path, data, source_path=source_path)
    except UserError as exc:
        return exc.message
    except OSError as exc:
        return f"Could not save {path}: {exc.strerror or exc}"
    return ""
