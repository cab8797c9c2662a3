"""The one way the window asks where to save a file: Qt's save dialog, which confirms an overwrite."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QWidget


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
