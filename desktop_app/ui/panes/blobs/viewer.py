"""One value on show: image, text and hex tabs beside its details (size, type, SHA-256), read in jobs.

The viewer reads the value only in bounded pieces: the hex tab asks for windows, the text tab for its
first `LIMITS.blob_text_preview_bytes`; only the image preview reads a whole value, and only up to
`LIMITS.blob_image_preview_max_bytes`. Moving to another value stops the reads of the previous one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QTextOption
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.blobs.text_and_hex import DecodedText, decode_blob_text
from desktop_app.core.blobs.values import (
    BlobRef,
    BlobSource,
    BlobSummary,
    NotABlob,
    blob_sha256,
    describe_blob,
    describe_ref,
    human_size,
    read_blob,
    read_blob_range,
)
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest, Ticket
from desktop_app.ui.panes.blobs.hex_view import HexView
from desktop_app.ui.panes.blobs.image_view import DecodedImage, ImageView, decode_image
from desktop_app.ui.settings import read_bool

IMAGE_TAB, TEXT_TAB, HEX_TAB = range(3)
_TEXT_TYPES = ("text/", "application/json", "application/xml", "image/svg+xml")
_SHOWN_JOB_BYTES = LIMITS.blob_chunk_bytes  # reads at least this long also show in the status bar
# Control characters would vanish or garble the text view; show them as a middle dot.
_CONTROL = str.maketrans({c: "·" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)})
_LONG_RUN = re.compile(r"\S{512}")
_WRAP_SETTING = "blobs/wrap_text"
_DETAILS = ("Cell", "Stored as", "Size", "Type", "Image", "Text")
_NONE = "—"


def text_preview(conn: Any, source: BlobSource, limit: int) -> tuple[DecodedText, bool]:
    """The first `limit` bytes of a value decoded for reading, and whether it has very long words.

    Runs in a worker thread. Qt's word wrap is quadratic in the length of an unbreakable run (measured:
    64 KB of one "word" took 1 s to lay out), so such text is wrapped anywhere instead.
    """
    data = read_blob_range(conn, source, 0, limit + 1)  # one byte more tells whether there is more
    decoded = decode_blob_text(data[:limit], final=len(data) <= limit)
    text = decoded.text.translate(_CONTROL)
    return DecodedText(text, decoded.encoding, decoded.lossy), _LONG_RUN.search(text) is not None


class BlobViewer(QSplitter):
    """Image / Text / Hex tabs (or a message such as "NULL") on the left, the value's details on the right."""

    #: The summary of the value on show once known (None when cleared).
    summary_changed = Signal(object)
    #: Reading the value failed (a UserError for the user).
    failed = Signal(object)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.context = context
        self.summary: BlobSummary | None = None
        self.source: BlobSource | None = None
        self.sha256: str | None = None  #: hex digest of the value on show, once computed
        self._values = LatestRequest()  # results of reads for a value no longer on show are dropped
        self._shown = self._values.begin()
        self._jobs: list[Job] = []
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.placeholder.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.placeholder.setFont(font)
        self.image_view = ImageView()
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setFont(fixed)
        self.text_info = QLabel()
        self.wrap_text = QCheckBox("Wrap lines")
        self.wrap_text.setChecked(read_bool(context.settings, _WRAP_SETTING))
        self.wrap_text.toggled.connect(self._apply_wrap)
        self._long_runs = False
        text_bar = QHBoxLayout()
        text_bar.addWidget(self.text_info, 1)
        text_bar.addWidget(self.wrap_text)
        text_page = QWidget()
        text_layout = QVBoxLayout(text_page)
        text_layout.setContentsMargins(0, 4, 0, 0)
        text_layout.addLayout(text_bar)
        text_layout.addWidget(self.text_view, 1)
        self._apply_wrap(self.wrap_text.isChecked())
        self.hex_view = HexView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.image_view, "Image")
        self.tabs.addTab(text_page, "Text")
        self.tabs.addTab(self.hex_view, "Hex")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.tabs)

        self.details = {name: QLabel(_NONE) for name in _DETAILS}
        self.sha_label = QLabel(_NONE)
        self.sha_label.setFont(fixed)
        self.sha_bar = QProgressBar()
        self.sha_bar.setRange(0, 1000)
        self.sha_bar.setMaximumHeight(12)
        self.sha_bar.setTextVisible(False)
        self.sha_bar.setVisible(False)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for name, label in (*self.details.items(), ("SHA-256", self.sha_label)):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", label)
        form.addRow("", self.sha_bar)
        side = QWidget()
        self.side_layout = QVBoxLayout(side)
        self.side_layout.addLayout(form)
        self.side_layout.addSpacing(8)
        self.side_layout.addStretch(1)
        self.addWidget(self.stack)
        self.addWidget(side)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setSizes([10_000, 330])  # the details keep their width; the value gets the rest

    def add_action(self, widget: QWidget) -> None:
        """Put a button (save, export...) under the details."""
        self.side_layout.insertWidget(self.side_layout.count() - 1, widget)

    # --- what is on show ------------------------------------------------------------------------

    def clear(self, message: str, label: str = "") -> None:
        """Show `message` instead of a value, stopping any reads."""
        self._stop()
        self._values.drop()
        self.summary = self.source = None
        self._show_message(message)
        self.details["Cell"].setText(label or _NONE)
        self.summary_changed.emit(None)

    def show_source(self, label: str, source: BlobSource | None) -> None:
        """Show a value: a `BlobRef` (read from the database in pieces) or the value itself."""
        database = self.context.database
        if database is None:
            self.clear("No database is open.")
            return
        self.clear("Reading…", label)
        shown = self._shown = self._values.begin()
        self.source = source

        async def work(job: Job) -> BlobSummary:
            if isinstance(source, BlobRef):
                return await database.run_sync(describe_ref, source, cancel=job.cancel_token)
            return describe_blob(source)

        def failed(error: UserError) -> None:
            if shown.current:
                self._show_message(error.message if isinstance(error, NotABlob) else "")
                self.details["Stored as"].setText("a number" if isinstance(error, NotABlob) else _NONE)
                if not isinstance(error, NotABlob):
                    self.failed.emit(error)

        def done(summary: BlobSummary) -> None:
            if shown.current:
                self._present(shown, summary)

        self._start("Reading blob", work, done, failed, show=False)

    def _present(self, shown: Ticket, summary: BlobSummary) -> None:
        self.summary = summary
        size = summary.size or 0
        storage = {"blob": "BLOB", "text": "TEXT", "null": "NULL"}.get(summary.storage, summary.storage)
        if summary.storage == "null":
            self._show_message("NULL — this cell holds no value.")
        elif summary.storage in ("integer", "real"):
            self._show_message(f"This cell holds the {summary.storage} {summary.label}, not a blob.")
        elif size == 0:
            self._show_message(f"Empty {storage} — 0 bytes.")
            self._show_sha(hashlib.sha256(b"").hexdigest())
        else:
            self.stack.setCurrentWidget(self.tabs)
        self.details["Stored as"].setText(storage)
        if summary.size is not None:
            self.details["Size"].setText(f"{human_size(size)} ({size:,} bytes)")
            self.details["Type"].setText(f"{summary.mime} ({summary.extension})")
        self.summary_changed.emit(summary)
        if size == 0:
            return
        self.hex_view.set_blob(size, functools.partial(self._read_window, shown))
        self._start_text(shown, size)
        self._start_sha(shown, size)
        is_image = summary.mime.startswith("image/")
        self.tabs.setTabEnabled(IMAGE_TAB, is_image)
        if is_image:
            self._start_image(shown, size)
        else:
            self.image_view.show_message(f"Not an image ({summary.mime}).")
        self.tabs.setCurrentIndex(IMAGE_TAB if is_image else TEXT_TAB if self._is_text() else HEX_TAB)

    def _apply_wrap(self, wrap: bool) -> None:
        self.context.settings.setValue(_WRAP_SETTING, wrap)
        if not wrap:
            self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            return
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        anywhere = QTextOption.WrapMode.WrapAnywhere
        self.text_view.setWordWrapMode(
            anywhere if self._long_runs else QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
        )

    def _is_text(self) -> bool:
        summary = self.summary
        return summary is not None and (summary.storage == "text" or summary.mime.startswith(_TEXT_TYPES))

    def _show_message(self, message: str) -> None:
        self.placeholder.setText(message)
        self.stack.setCurrentWidget(self.placeholder)
        self.hex_view.clear()
        self.text_view.clear()
        self.text_info.clear()
        self.image_view.show_message("")
        for name, label in self.details.items():
            if name != "Cell":
                label.setText(_NONE)
        self.sha256 = None
        self.sha_label.setText(_NONE)
        self.sha_bar.setVisible(False)

    def _show_sha(self, digest: str | None) -> None:
        self.sha256 = digest
        # Two lines of 32 digits keep the details narrow; the tooltip has it on one line to copy.
        self.sha_label.setText(f"{digest[:32]}\n{digest[32:]}" if digest else _NONE)
        self.sha_label.setToolTip(digest or "")
        self.sha_bar.setVisible(False)

    # --- jobs reading the value -----------------------------------------------------------------

    def _start(
        self,
        label: str,
        work: Callable[[Job], Any],
        done: Callable[[Any], None],
        failed: Callable[[UserError], None] | None = None,
        *,
        show: bool,
    ) -> Job:
        report = failed or self.failed.emit
        shown = self._shown

        def on_error(error: UserError) -> None:
            # Reads are stopped when we move on (or the database closes): only the value on show matters.
            if shown.current and not isinstance(error, Cancelled):
                report(error)

        job = self.context.jobs.start(label, work, on_done=done, on_error=on_error, show=show, owner=self)
        self._jobs.append(job)
        job.ended.connect(lambda: self._jobs.remove(job) if job in self._jobs else None)
        return job

    def _stop(self) -> None:
        for job in self._jobs:
            job.cancel()
        self._jobs.clear()

    def _read_window(self, shown: Ticket, offset: int, length: int, done: Any, failed: Any) -> None:
        """The hex view's loader: read one window of the value in a job."""
        database, source = self.context.database, self.source
        if database is None or not shown.current:
            return

        async def work(job: Job) -> bytes:
            return await database.run_sync(read_blob_range, source, offset, length, cancel=job.cancel_token)

        self._start("Reading blob bytes", work, done, lambda error: failed(error.message), show=False)

    def _start_text(self, shown: Ticket, size: int) -> None:
        database, source, limit = self.context.database, self.source, LIMITS.blob_text_preview_bytes
        assert database is not None
        self.text_info.setText("Reading…")

        async def work(job: Job) -> tuple[DecodedText, bool]:
            return await database.run_sync(text_preview, source, limit, cancel=job.cancel_token)

        def done(preview: tuple[DecodedText, bool]) -> None:
            if not shown.current:
                return
            decoded, self._long_runs = preview
            self._apply_wrap(self.wrap_text.isChecked())
            self.text_view.setPlainText(decoded.text)
            encoding = decoded.encoding.upper().replace("LATIN-1", "Latin-1 (not valid UTF-8)")
            note = f" · showing the first {human_size(limit)} of {human_size(size)}" if size > limit else ""
            lossy = " · some bytes could not be decoded" if decoded.lossy else ""
            self.text_info.setText(f"{encoding} · {len(decoded.text):,} characters{note}{lossy}")
            if self._is_text():
                self.details["Text"].setText(encoding)

        self._start("Reading text", work, done, show=False)

    def _start_sha(self, shown: Ticket, size: int) -> None:
        database, source = self.context.database, self.source
        assert database is not None
        self.sha_label.setText("computing…")
        self.sha_bar.setValue(0)
        self.sha_bar.setVisible(size > LIMITS.blob_chunk_bytes)

        async def work(job: Job) -> str | None:
            sha = functools.partial(blob_sha256, progress=job.progress_callback(), cancel=job.cancel_token)
            return await database.run_sync(sha, source, cancel=job.cancel_token)

        def done(digest: str | None) -> None:
            if shown.current:
                self._show_sha(digest)

        def progressed(progress: Any) -> None:
            if shown.current:
                self.sha_bar.setValue(int((progress.fraction or 0) * 1000))

        job = self._start("Computing SHA-256", work, done, show=size >= _SHOWN_JOB_BYTES)
        job.progressed.connect(progressed)

    def _start_image(self, shown: Ticket, size: int) -> None:
        database, source = self.context.database, self.source
        assert database is not None
        if size > LIMITS.blob_image_preview_max_bytes:
            limit = human_size(LIMITS.blob_image_preview_max_bytes)
            self.image_view.show_message(
                f"Too large to preview ({human_size(size)}; the limit is {limit}). "
                "Save it to a file to view it."
            )
            return
        self.image_view.show_message("Loading the image…")

        async def work(job: Job) -> DecodedImage:
            read = functools.partial(read_blob, progress=job.progress_callback(), cancel=job.cancel_token)
            data = await database.run_sync(read, source, cancel=job.cancel_token)
            return await asyncio.to_thread(decode_image, data or b"")

        def done(decoded: DecodedImage) -> None:
            if shown.current:
                self.image_view.show_image(decoded)
                self.details["Image"].setText(decoded.describe() if decoded.ok else "cannot be decoded")

        self._start("Loading image", work, done, show=size >= _SHOWN_JOB_BYTES)
