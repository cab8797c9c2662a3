"""The Profile tab of Browse's side area: what a column holds, figures first, complete a moment later.

The profile runs as a job on a pooled snapshot connection (`core.profile.run.profile_columns`), its
statements in a thread of lower priority than the UI's; each column's figures arrive as the core
yields them (first rows, then every row, then distinct values, top values and histogram) and replace
the column's card. Complete profiles are kept per snapshot generation.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.profile.cache import ProfileCache
from desktop_app.core.profile.model import ColumnProfile, Stage
from desktop_app.core.profile.run import profile_columns, profiled_columns
from desktop_app.core.progress import CancelToken
from desktop_app.core.schema.catalog import Table
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.models import cell_format
from desktop_app.ui.panes.browse.histogram import Histogram
from desktop_app.ui.theme import dim_colour, dim_style, error_style, link_colour
from desktop_app.ui.widgets.layout import hbox, vbox

#: Cards updated in one turn of the event loop (~1-8 ms each), of which at most one new card (its first
#: show and layout cost 10-40 ms on a busy machine); the window paints between turns.
_CARDS_PER_TURN = 4
_EMPTY_HINT = "Right-click a column header and choose Profile, or profile every column."


def _drive(
    conn: sqlite3.Connection,
    table: Table,
    columns: Sequence[str] | None,
    generation: int,
    cache: ProfileCache,
    cancel: CancelToken,
    deliver: Callable[[ColumnProfile], None],
) -> None:
    """Run the core's profile in the worker thread, handing each figure set over as it comes; its
    statements run in a thread of lower priority than the UI thread's."""
    for profile in profile_columns(
        conn, table, columns, generation=generation, cancel=cancel, cache=cache, low_priority=True
    ):
        deliver(profile)


def value_text(value: Any) -> str:
    """A value as the profile shows it (one line, NULL and blobs as in the grid)."""
    return cell_format.display_text(value)


def _length_text(profile: ColumnProfile) -> str:
    if profile.length is None:
        return ""
    unit = "bytes" if set(profile.types) == {"blob"} else "characters (bytes for blobs)"
    if "blob" not in profile.types:
        unit = "characters"
    low, high = profile.length
    return f"{low:,} – {high:,} {unit}"


def figures(profile: ColumnProfile) -> list[tuple[str, str]]:
    """(label, text) lines of a card: rows, NULLs, distinct, min, max, storage classes, lengths."""
    seen = profile.sampled_rows if profile.stage is Stage.SAMPLE and profile.sampled_rows else profile.count
    share = f" ({100 * profile.nulls / seen:.1f}%)" if seen else ""
    distinct = f"{profile.distinct:,}" if profile.distinct is not None else "…"
    types = ", ".join(f"{kind} {n:,}" for kind, n in profile.types.items()) or "only NULLs"
    lines = [
        ("Rows", f"{profile.count:,}"),
        ("NULLs", f"{profile.nulls:,}{share}"),
        ("Distinct", distinct),
        ("Min", value_text(profile.min)),
        ("Max", value_text(profile.max)),
        ("Storage", types),
    ]
    if profile.length is not None:
        lines.append(("Length", _length_text(profile)))
    if profile.time_encoding:
        lines.append(("Read as", profile.time_encoding.replace("_", " ")))
    return lines


def stage_text(profile: ColumnProfile) -> str:
    """What the figures cover so far, in words."""
    if profile.stage is Stage.SAMPLE:
        return f"first {profile.sampled_rows or 0:,} rows (estimates)…"
    if profile.stage is Stage.CHEAP:
        return "every row; counting distinct values…"
    return "complete"


class _TopValues(QLabel):
    """Top values one a line, drawn like links: a click on a line emits `linkActivated` with its position."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click a value to filter Browse on it")
        font = self.font()
        font.setUnderline(True)
        self.setFont(font)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.WindowText, link_colour())
        self.setPalette(palette)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A left click on a value's line activates it."""
        lines = self.text().count("\n") + 1 if self.text() else 0
        line = int((event.position().y() - self.contentsRect().top()) // self.fontMetrics().lineSpacing())
        if event.button() == Qt.MouseButton.LeftButton and 0 <= line < lines:
            self.linkActivated.emit(str(line))
        super().mouseReleaseEvent(event)


class ColumnCard(QFrame):
    """One column's profile: figures, top values (click one to filter on it) and a histogram.

    Plain-text labels (no rich text) and one painted widget: a card is laid out and redrawn each time its
    column's figures move on a stage, and rich-text tables cost 10-60 ms of the UI thread each time.
    """

    value_clicked = Signal(str, object)  #: column, value

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.profile: ColumnProfile | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(name)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.stage = QLabel("waiting…")
        _dim(self.stage)
        #: The figures: their names in one label, their values beside them in another.
        self.labels = QLabel()
        self.body = QLabel()
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Top values and histogram stay shown, empty until there are figures: the first show of a widget
        # (polish, layout) cost up to 30 ms of the UI thread per card, when the complete figures came.
        self.top_title = QLabel()
        _dim(self.top_title)
        #: The top values (a click on one filters on it) and their counts beside them.
        self.top = _TopValues()
        self.top.linkActivated.connect(self._on_top_clicked)
        self.counts = QLabel()
        self.counts.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.histogram = Histogram([])
        for label in (self.title, self.labels, self.body, self.top_title, self.top, self.counts):
            label.setTextFormat(Qt.TextFormat.PlainText)
        for label in (self.title, self.body, self.top_title, self.top):
            # A long value is cut at the panel's edge rather than widening every card past it.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        figures_row, top_row = hbox(self.labels, (self.body, 1)), hbox((self.top, 1), self.counts)
        figures_row.setSpacing(8)
        top_row.setSpacing(8)
        layout = vbox(
            hbox((self.title, 1), self.stage), figures_row, self.top_title, top_row, self.histogram, margins=6
        )
        layout.setSpacing(3)
        self.setLayout(layout)

    def show_profile(self, profile: ColumnProfile) -> None:
        """Show `profile`'s figures (a later stage replaces an earlier one)."""
        self.profile = profile
        self.stage.setText(stage_text(profile))
        lines = figures(profile)
        self.labels.setText("\n".join(label for label, _text in lines))
        self.body.setText("\n".join(text for _label, text in lines))
        self._show_top(profile.top)
        self.histogram.set_bins(profile.histogram or [])

    def _show_top(self, top: list[tuple[Any, int]]) -> None:
        if not top or top[0][1] == 1:  # every value once: a list of ten of them says nothing
            self.top_title.setText("Top values: every value occurs once" if top else "")
            self.top.setText("")
            self.counts.setText("")
            return
        self.top_title.setText("Top values (click one to filter on it)")
        self.top.setText("\n".join(_short(value_text(value)) for value, _count in top))
        self.counts.setText("\n".join(f"{count:,}" for _value, count in top))

    def top_rows(self) -> list[tuple[str, str]]:
        """(value, count) as listed, for tests and accessibility."""
        if self.profile is None or not self.top.text():
            return []
        return [(_short(value_text(v)), f"{n:,}") for v, n in self.profile.top]

    def _on_top_clicked(self, link: str) -> None:
        if self.profile is not None and link.isdigit() and int(link) < len(self.profile.top):
            self.value_clicked.emit(self.name, self.profile.top[int(link)][0])


def _dim(label: QLabel) -> None:
    """Dim text through the palette: a style sheet would make every show of the card cost a restyle."""
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, dim_colour())
    label.setPalette(palette)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class ProfilePanel(QWidget):
    """Profiles of one table's columns, streamed as they are computed; Stop ends the job."""

    #: Filter Browse on a value: (column, value).
    filter_requested = Signal(str, object)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.cache = ProfileCache(LIMITS.profile_cached_columns)
        self.table: Table | None = None
        #: The snapshot generation of the figures shown.
        self._generation: int | None = None
        self.columns: list[str] = []
        self.cards: dict[str, ColumnCard] = {}
        self._request = LatestRequest()
        #: Figures delivered but not shown yet (a later stage of a column replaces an earlier one).
        self._pending: dict[str, ColumnProfile] = {}
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self.heading = QLabel(_EMPTY_HINT)
        self.heading.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop profiling (figures shown so far stay)")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.all_button = QPushButton("Profile all columns")
        self.all_button.setToolTip("Profile every column of the table")
        self.all_button.clicked.connect(self.profile_all)
        self.all_button.setEnabled(False)
        self.container = QWidget()
        self.cards_layout = QVBoxLayout(self.container)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.container)
        buttons = hbox(self.stop_button, self.all_button)
        buttons.addStretch(1)
        vbox(
            self.heading,
            buttons,
            self.state,
            (self.scroll, 1),
            margins=4,
            parent=self,
        )

    @property
    def running(self) -> bool:
        """True while a profile job runs or figures it delivered wait to be shown."""
        return self._request.running or bool(self._pending)

    def set_table(self, table: Table | None) -> None:
        """The table Browse shows; a different one, or another snapshot, clears the profiles shown."""
        database = self.context.database
        generation = database.generation if database is not None else None
        if table == self.table and generation == self._generation:
            self.table = table
            return
        self._request.cancel()
        self.table, self._generation = table, generation
        self._clear()
        self.heading.setText(_EMPTY_HINT)
        self.state.setText("")
        self.all_button.setEnabled(table is not None)
        self._set_running(False)

    def profile_all(self) -> Job | None:
        """Profile every column of the table."""
        return self.profile(None)

    def profile(self, columns: Sequence[str] | None) -> Job | None:
        """Profile `columns` of the table shown (every column for None), replacing what is shown."""
        database, table = self.context.database, self.table
        if database is None or database.closed or table is None:
            return None
        names = list(columns) if columns is not None else profiled_columns(table)
        self._clear()
        self.columns = names
        what = f"“{names[0]}”" if len(names) == 1 else f"{len(names)} columns"
        self.heading.setText(f"<b>{escape(table.name)}</b>: {escape(what)} (every row of the table)")
        self.state.setStyleSheet("")
        self.state.setText("Profiling…")
        generation = database.generation
        ticket = self._request.begin()

        async def work(job: Job) -> None:
            loop = asyncio.get_running_loop()
            show = ticket.only(self._queue)

            def deliver(profile: ColumnProfile) -> None:
                loop.call_soon_threadsafe(show, profile)

            token = job.cancel_token
            await database.run_sync(
                _drive, table, columns, generation, self.cache, token, deliver, cancel=token
            )

        label = f"Profiling {table.name}" + (f".{names[0]}" if len(names) == 1 else "")
        job = self.context.jobs.start(
            label, work, on_done=ticket.only(self._done), on_error=ticket.only(self._failed)
        )
        self._request.track(job, on_ended=lambda: self._set_running(False))
        self._set_running(True)
        return job

    def stop(self) -> None:
        """Stop the running profile; the figures shown so far stay."""
        self._request.stop()

    def _queue(self, profile: ColumnProfile) -> None:
        self._pending[profile.name] = profile
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        """Show a few columns' figures, then let the window paint before the next few (a zero timer)."""
        created = False
        for _ in range(_CARDS_PER_TURN):
            name = next(iter(self._pending), None)
            if name is None or (created and name not in self.cards):
                break
            created = created or name not in self.cards
            self._show(self._pending.pop(name))
        if self._pending:
            self._flush_timer.start()

    def _show(self, profile: ColumnProfile) -> None:
        card = self.cards.get(profile.name)
        if card is None:  # cards appear with their first figures, in column order
            if profile.name not in self.columns:
                return
            order = self.columns.index(profile.name)
            card = ColumnCard(profile.name)
            card.value_clicked.connect(self.filter_requested)
            before = sum(1 for name in self.cards if self.columns.index(name) < order)
            self.cards[profile.name] = card
            self.cards_layout.insertWidget(before, card)
        card.show_profile(profile)
        done = sum(1 for c in self.cards.values() if c.profile and c.profile.stage is Stage.COMPLETE)
        if self._request.running:
            self.state.setText(f"Profiling… {done} of {len(self.columns)} complete")

    def _done(self, _result: object) -> None:
        self.state.setStyleSheet("")
        self.state.setText("Complete.")

    def _failed(self, error: UserError) -> None:
        if isinstance(error, Cancelled):
            self.state.setStyleSheet(dim_style())
            self.state.setText("Stopped: the figures shown are those computed so far.")
            return
        self.state.setStyleSheet(error_style())
        self.state.setText(f"⚠ {error.message}")

    def _set_running(self, running: bool) -> None:
        self.stop_button.setEnabled(running)

    def _clear(self) -> None:
        self._request.cancel()
        self._pending.clear()
        self._flush_timer.stop()
        for card in self.cards.values():
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = {}
        self.columns = []

    def card_figures(self, name: str) -> dict[str, str]:
        """The figures a column's card shows (label → text), for tests and accessibility."""
        card = self.cards.get(name)
        return dict(figures(card.profile)) if card is not None and card.profile is not None else {}
