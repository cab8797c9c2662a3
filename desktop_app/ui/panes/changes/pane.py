"""The Changes pane: compare two snapshots (this session's generations, the file now, another file), a
per-table summary, the changed rows of a table with old → new highlighted, export, and watch mode."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from desktop_app.core.diff.change_rows import ChangeRows, export_changes
from desktop_app.core.diff.compare import compare, count_between
from desktop_app.core.diff.model import ChangeKind, DatabaseDiff, RowChange, TableDiff
from desktop_app.core.diff.pairing import open_pair
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest
from desktop_app.ui.models.table_model import track_viewport
from desktop_app.ui.panes.base import Pane
from desktop_app.ui.panes.changes.grid import ChangesModel
from desktop_app.ui.panes.changes.sides import Side, SideNeedsInput, resolve
from desktop_app.ui.widgets.flow_layout import flow, labelled
from desktop_app.ui.widgets.full_text_tips import add_full_text_tips
from desktop_app.ui.widgets.grid_window import GridView, GridWindow
from desktop_app.ui.widgets.layout import hbox, push_button, splitter, vbox
from desktop_app.ui.widgets.open_dialogs import ask_how_to_open
from desktop_app.ui.widgets.save_dialog import save_file_dialog

_KINDS = {
    "All changes": None,
    "Added": ChangeKind.ADDED,
    "Removed": ChangeKind.REMOVED,
    "Changed": ChangeKind.CHANGED,
}
#: How often the grid of the selected table is refreshed while its rows stream in (ms).
_REFRESH_MS = 300


class TimelinePoint:
    """One generation on the watch timeline, with what changed since the one before."""

    def __init__(self, generation: int, taken_at: float, summary: str = "") -> None:
        self.generation, self.taken_at, self.summary = generation, taken_at, summary

    def text(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.taken_at))
        return f"{when}  {self.summary or 'reloaded'}"


class ChangesPane(Pane):
    """Pick two sides, compare, read the per-table summary, open a table's changed rows."""

    title = "Changes"
    refresh_while_hidden = True  # the timeline gets every generation, seen or not
    #: Watch mode wants a new snapshot of the file (the main window reloads).
    reload_requested = Signal()
    #: A comparison finished (for tests and the status bar).
    compared = Signal(object)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.diff: DatabaseDiff | None = None
        self.rows: dict[str, list[RowChange]] = {}
        self.timeline: list[TimelinePoint] = []
        self._other_files: list[Path] = []
        #: How to open a file side (its member, its key: memory only), by side key, once asked.
        self._side_options: dict[str, tuple[str | None, CipherKey | None]] = {}
        #: The two sides of the last comparison (compared again once a passphrase or member is given).
        self._compared: tuple[Side, Side] | None = None
        #: The passphrase or member dialog asked for a side, if any (tests reach it here).
        self.open_dialog: QDialog | None = None
        self._comparing = LatestRequest()
        #: Watch timeline counts: the generation the next count starts from, points waiting, one running.
        self._count_base: int | None = None
        self._count_epoch = 0
        self._count_running = False
        self._waiting: list[TimelinePoint] = []
        #: How many timeline counts were started (a benchmark compares it with the points added).
        self.counts_started = 0
        self._current_generation: int | None = None
        self._last_reload = 0.0
        self._dirty_table = False
        self._side_by_key: dict[str, Side] = {}
        self._comparing_ticket: object | None = None

        self.side_a, self.side_b = QComboBox(), QComboBox()
        for combo in (self.side_a, self.side_b):
            combo.setMinimumContentsLength(22)
            combo.activated.connect(lambda _i, c=combo: self._maybe_pick_file(c))
        self.compare_button = push_button(
            "Compare", self.compare_selected, "Compare the two (rows and schema)"
        )
        self.stop_button = push_button("Stop", self._comparing.stop, "Stop the comparison")
        self.stop_button.setEnabled(False)
        self.watch_box = QCheckBox("Watch for changes")
        self.watch_box.setToolTip(
            "When the file changes on disk, take a new snapshot automatically and add it to the timeline"
        )
        self.watch_box.toggled.connect(self._on_watch_toggled)
        self.budget = QSpinBox()
        self.budget.setRange(16, 1 << 16)
        self.budget.setSuffix(" MB")
        self.budget.setValue(max(16, context.history.budget_bytes >> 20))
        self.budget.setToolTip("Memory the earlier snapshots may keep (the oldest are let go first)")
        self.budget.valueChanged.connect(lambda mb: context.history.set_budget(mb << 20))
        self.summary = QLabel("Pick two snapshots and press Compare.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.tables = QTreeWidget()
        self.tables.setHeaderLabels(["Table", "+", "−", "~", "Schema"])
        self.tables.setRootIsDecorated(False)
        add_full_text_tips(self.tables)
        for column, width in enumerate((150, 60, 60, 60)):
            self.tables.setColumnWidth(column, width)
        self.tables.currentItemChanged.connect(lambda *_: self._show_table())
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumBlockCount(10_000)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter rows (any value contains…)")
        self.filter.textChanged.connect(lambda _t: self._show_table())
        self.kind = QComboBox()
        self.kind.addItems(list(_KINDS))
        self.kind.currentIndexChanged.connect(lambda _i: self._show_table())
        self.export_csv = push_button("Export CSV…", lambda: self._export("csv"), "Save this table's changes")
        self.export_json = push_button(
            "Export JSON…", lambda: self._export("json"), "Save this table's changes"
        )
        self.view = GridView()
        self.model = ChangesModel(self)
        self.grid = GridWindow(self.view, self.model, track_viewport(self.view, self.model))
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.grid_note = QLabel("")

        self.timeline_list = QListWidget()
        self.timeline_list.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.timeline_list.setToolTip("Select two points and press Compare points")
        self.compare_points = push_button("Compare points", self.compare_timeline_selection)

        left = QWidget()
        vbox(self.tables, QLabel("Schema changes and notes"), self.details, margins=0, parent=left)
        right = QWidget()
        vbox(
            flow((self.filter, 1), self.kind, self.export_csv, self.export_json),
            self.grid,
            self.grid_note,
            margins=0,
            parent=right,
        )
        watch = QWidget()
        timeline_bar = hbox(QLabel("Timeline (watch mode and reloads)"), self.compare_points)
        timeline_bar.addStretch(1)
        vbox(timeline_bar, self.timeline_list, margins=0, parent=watch)
        body = splitter(left, (right, 1), sizes=[320, 700])
        outer = splitter(body, watch, sizes=[500, 120], orientation=Qt.Orientation.Vertical)
        # Wraps in a narrow window: the pane is as narrow as its widest part.
        bar = flow(
            QLabel("Compare"),
            self.side_a,
            QLabel("→"),
            self.side_b,
            self.compare_button,
            self.stop_button,
            self.watch_box,
            labelled("Keep earlier snapshots up to", self.budget),
        )
        vbox(
            bar,
            self.summary,
            (outer, 1),
            parent=self,
        )
        self._refresh = QTimer(self, interval=_REFRESH_MS)
        self._refresh.timeout.connect(self._refresh_grid)
        self._watch_poll = QTimer(self, interval=max(int(LIMITS.watch_debounce_s * 1000), 50))
        self._watch_poll.timeout.connect(self._poll_source)
        context.generations_changed.connect(self._fill_sides)
        self._fill_sides()

    # --- sides ------------------------------------------------------------------------------------

    def _sides(self) -> list[Side]:
        sides = [Side("current")]
        sides += [Side("generation", s.generation) for s in reversed(self.context.history.snapshots)]
        sides.append(Side("disk"))
        sides += [Side("file", path=p) for p in self._other_files]
        return sides

    @staticmethod
    def _key(side: Side) -> str:
        return f"{side.kind}:{side.generation or ''}:{side.path or ''}"

    def _fill_sides(self) -> None:
        sides = {self._key(side): side for side in self._sides()}
        self._side_by_key = sides
        for combo, default in ((self.side_a, 1), (self.side_b, 0)):
            chosen = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for key, side in sides.items():
                combo.addItem(side.label(self.context.history), key)
            combo.addItem("Another file…", "")
            index = combo.findData(chosen) if chosen else -1
            if index < 0:
                newest_kept = self.context.history.snapshots[-1:] if default == 1 else []
                wanted = Side("generation", newest_kept[0].generation) if newest_kept else Side("current")
                if default == 1 and not newest_kept:
                    wanted = Side("disk")
                index = combo.findData(self._key(wanted))
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

    def chosen_side(self, combo: QComboBox) -> Side | None:
        """The side chosen in `combo` (None for "Another file…")."""
        return self._side_by_key.get(combo.currentData() or "")

    def choose(self, combo: QComboBox, side: Side) -> None:
        """Choose `side` in `combo`."""
        combo.setCurrentIndex(combo.findData(self._key(side)))

    def _maybe_pick_file(self, combo: QComboBox) -> None:
        if combo.currentData():
            return
        dialog = QFileDialog(self, "Compare with another database")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda path: self.add_other_file(Path(path), combo))
        dialog.open()

    def add_other_file(self, path: Path, combo: QComboBox | None = None) -> Side:
        """Offer `path` as a side (and choose it in `combo`)."""
        if path not in self._other_files:
            self._other_files.append(path)
        self._fill_sides()
        side = Side("file", path=path)
        if combo is not None:
            self.choose(combo, side)
        return side

    # --- comparing --------------------------------------------------------------------------------

    def compare_selected(self) -> Job | None:
        """Compare the two sides chosen in the combo boxes."""
        a, b = self.chosen_side(self.side_a), self.chosen_side(self.side_b)
        if a is None or b is None:
            return None
        return self.compare(a, b)

    def compare(self, a: Side, b: Side) -> Job:
        """Compare side `a` (before) with side `b` (after) as a job; rows stream into the pane. A side
        whose file is encrypted or packed asks for its passphrase or member, then compares again."""
        a, b = self._with_options(a), self._with_options(b)
        self._compared = (a, b)
        self.diff, self.rows = None, {}
        self.tables.clear()
        self.details.clear()
        self.model.set_source(None)
        history, current = self.context.history, self._current_snapshot()
        self.summary.setText(f"Comparing {a.label(history)} → {b.label(history)}…")
        self.stop_button.setEnabled(True)

        async def work(job: Job) -> DatabaseDiff:
            loop = asyncio.get_running_loop()
            progress = job.progress_callback()
            ticket = self._comparing_ticket = object()

            def deliver(table: TableDiff, page: list[RowChange]) -> None:
                loop.call_soon_threadsafe(self._rows_arrived, ticket, table, page)

            def table_done(table: TableDiff) -> None:
                loop.call_soon_threadsafe(self._table_done, ticket, table)

            def run() -> DatabaseDiff:
                first = resolve(a, current, history, job.cancel_token)
                try:
                    second = resolve(b, current, history, job.cancel_token)
                    try:
                        pair = open_pair(first.snapshot, second.snapshot, job.cancel_token, progress)
                        try:
                            diff = compare(
                                pair,
                                on_rows=deliver,
                                on_table=table_done,
                                cancel=job.cancel_token,
                                progress=progress,
                            )
                            if pair.note:
                                diff.settings.append(pair.note)
                            return diff
                        finally:
                            pair.close()
                    finally:
                        second.close()
                finally:
                    first.close()

            return await asyncio.to_thread(run)

        self._refresh.start()
        return self._comparing.start(
            self.context.jobs,
            f"Comparing {a.label(history)} with {b.label(history)}",
            work,
            on_done=self._finished,
            on_error=self._failed,
            on_ended=self._ended,
            owner=self,
        )

    def _current_snapshot(self) -> Any:
        database = self.context.database
        return database.snapshot if database is not None else None

    def _rows_arrived(self, ticket: object, table: TableDiff, page: list[RowChange]) -> None:
        if ticket is not self._comparing_ticket:
            return
        kept = self.rows.setdefault(table.name, [])
        room = LIMITS.diff_rows_kept - sum(len(r) for r in self.rows.values())
        if room > 0:
            kept.extend(page[:room])
        self._upsert_table(table)
        if self._selected_table() == table.name:
            self._dirty_table = True

    def _table_done(self, ticket: object, table: TableDiff) -> None:
        if ticket is self._comparing_ticket:
            self._upsert_table(table)

    def _upsert_table(self, table: TableDiff) -> None:
        items = self.tables.findItems(table.name, Qt.MatchFlag.MatchExactly, 0)
        item = items[0] if items else None
        if item is None:
            if not table.any_change and table.done:
                return
            item = QTreeWidgetItem(self.tables)
            item.setData(0, Qt.ItemDataRole.UserRole, table.name)
        schema = "; ".join(c.describe() for c in table.schema_changes)
        values = [table.name, f"{table.added:,}", f"{table.removed:,}", f"{table.changed:,}", schema or "-"]
        for column, text in enumerate(values):
            item.setText(column, text)
        item.setToolTip(0, table.note or f"rows matched by {table.matching.value}")
        item.setData(0, Qt.ItemDataRole.UserRole + 1, table)
        if table.done and not table.any_change:
            self.tables.takeTopLevelItem(self.tables.indexOfTopLevelItem(item))
        elif self.tables.currentItem() is None:
            self.tables.setCurrentItem(item)

    def _finished(self, diff: DatabaseDiff) -> None:
        self.diff = diff
        for table in diff.tables:
            self._upsert_table(table)
        unchanged = len(diff.tables) - len(diff.changed_tables)
        self.summary.setText(
            f"{diff.summary()}  ({len(diff.changed_tables)} of {len(diff.tables)} tables differ; "
            f"{unchanged} the same)"
        )
        self._show_table()
        self.compared.emit(diff)

    def _with_options(self, side: Side) -> Side:
        options = self._side_options.get(self._key(side))
        if options is None or side.kind not in ("file", "disk"):
            return side
        return replace(side, member=options[0], key=options[1])

    def _failed(self, error: UserError) -> None:
        if isinstance(error, SideNeedsInput):
            side = error.side
            dialog = ask_how_to_open(
                self,
                error.path.name,
                error.error,
                lambda member, key: self._compare_again(side, member, key),
                member=error.member,
                key=side.key,
            )
            if dialog is not None:
                self.open_dialog = dialog
                self.summary.setText(error.message)
                return
        self.summary.setText(f"Comparison stopped: {error.message}")

    def _compare_again(self, side: Side, member: str | None, key: CipherKey | None) -> None:
        """The passphrase or member of `side` was given: compare the same two sides with it."""
        self._side_options[self._key(side)] = (member, key)
        if self._compared is not None:
            self.compare(*self._compared)

    def _ended(self) -> None:
        self.stop_button.setEnabled(False)
        self._refresh.stop()
        self._refresh_grid()

    # --- one table --------------------------------------------------------------------------------

    def _selected_table(self) -> str | None:
        item = self.tables.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _selected_diff(self) -> TableDiff | None:
        item = self.tables.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole + 1) if item is not None else None

    def select_table(self, name: str) -> None:
        """Show `name`'s changed rows."""
        items = self.tables.findItems(name, Qt.MatchFlag.MatchExactly, 0)
        if items:
            self.tables.setCurrentItem(items[0])

    def _refresh_grid(self) -> None:
        if self._dirty_table:
            self._dirty_table = False
            self._show_table()

    def _show_table(self) -> None:
        table = self._selected_diff()
        if table is None:
            self.model.set_source(None)
            self.grid_note.setText("")
            return
        changes = self.rows.get(table.name, [])
        source = ChangeRows(table, changes, _KINDS[self.kind.currentText()], self.filter.text())
        self.model.set_source(source)
        lines = [c.describe() for c in table.schema_changes]
        if table.note:
            lines.append(table.note)
        if self.diff is not None and table.name == self._selected_table():
            lines += self.diff.settings + [c.describe() for c in self.diff.other_changes]
        self.details.setPlainText("\n".join(lines))
        shown = len(source.changes)
        note = f"{shown:,} of {table.rows_changed:,} changed rows" + (
            f"; rows matched by {table.matching.value}" if table.matching else ""
        )
        if len(changes) < table.rows_changed and table.done:
            note += (
                f" (the pane keeps the first {LIMITS.diff_rows_kept:,} changed rows; the counts are exact)"
            )
        self.grid_note.setText(note)

    def _export(self, kind: str) -> None:
        table = self._selected_diff()
        if table is None:
            return
        filters = "CSV (*.csv)" if kind == "csv" else "JSON (*.json)"
        dialog = save_file_dialog(self, "Export changes", f"{table.name or 'table'}-changes.{kind}", filters)
        dialog.fileSelected.connect(lambda path: self.export_to(Path(path)))
        dialog.open()

    def export_to(self, path: Path) -> None:
        """Save the selected table's changes (as filtered) to `path`: JSON for .json, else CSV."""
        table = self._selected_diff()
        if table is None:
            return
        source = ChangeRows(
            table, self.rows.get(table.name, []), _KINDS[self.kind.currentText()], self.filter.text()
        )
        current = self._current_snapshot()
        sources = (current.path if current is not None else None, *self._other_files)
        try:
            export_changes(path, table, source.changes, sources=sources)
        except (UserError, OSError) as exc:
            self.status_message.emit(f"Export failed: {getattr(exc, 'message', exc)}")
            return
        self.status_message.emit(f"Saved {len(source.changes):,} changed rows to {path.name}")

    # --- generations and watch mode ----------------------------------------------------------------

    @property
    def watching(self) -> bool:
        """True while watch mode is on."""
        return self.watch_box.isChecked()

    def _on_watch_toggled(self, on: bool) -> None:
        if on:
            self._watch_poll.start()
            self._poll_source()
        else:
            self._watch_poll.stop()

    def on_source_changed(self) -> None:
        """The session saw the file change on disk: in watch mode, take a new snapshot."""
        if self.watching:
            self._poll_source()

    def _poll_source(self) -> None:
        snapshot = self._current_snapshot()
        if snapshot is None or not self.watching:
            return
        # At most one new snapshot per debounce period: a busy writer's commits merge into the next one.
        if time.monotonic() - self._last_reload < LIMITS.watch_debounce_s:
            return
        try:
            changed = snapshot.changed_on_disk()
        except OSError:
            return
        if changed:
            self._last_reload = time.monotonic()
            self.reload_requested.emit()

    def on_database_changed(self) -> None:
        """A new generation is shown: the timeline gets a point (with what changed since the last)."""
        snapshot = self._current_snapshot()
        self._fill_sides()
        if snapshot is None:
            self._current_generation = None
            self._side_options.clear()  # another file's key goes with the database
            self._reset_counts(None)
            self.timeline.clear()
            self.timeline_list.clear()
            return
        previous = self._current_generation
        self._current_generation = snapshot.generation
        if previous == snapshot.generation:
            return
        if previous is None or self.context.history.find(previous) is None:
            if previous is None or not self.timeline:
                self.timeline.clear()
                self.timeline_list.clear()
            self._reset_counts(snapshot.generation)
            self._add_point(TimelinePoint(snapshot.generation, snapshot.taken_at, "opened"))
            return
        if self._count_base is None:
            self._count_base = previous
        point = TimelinePoint(snapshot.generation, snapshot.taken_at, "comparing…")
        self._add_point(point)
        self._waiting.append(point)
        self._next_count()

    def _add_point(self, point: TimelinePoint) -> None:
        self.timeline.append(point)
        item = QListWidgetItem(point.text())
        item.setData(Qt.ItemDataRole.UserRole, point.generation)
        self.timeline_list.addItem(item)
        while len(self.timeline) > LIMITS.watch_timeline_entries:
            self.timeline.pop(0)
            self.timeline_list.takeItem(0)

    def _reset_counts(self, base: int | None) -> None:
        """Start counting afresh from generation `base` (a count still running no longer moves the base)."""
        self._count_epoch += 1
        self._count_base = base
        self._waiting.clear()

    @property
    def counts_waiting(self) -> int:
        """Timeline points waiting for their count (at most the newest is compared when the running one
        ends; the others are merged into it)."""
        return len(self._waiting)

    def _next_count(self) -> None:
        """Count what changed from the last counted point to the newest waiting one, unless a count runs:
        then the points wait, and only the newest is compared when it ends (the others are merged into it,
        so no change is lost and at most one count is ever queued)."""
        if self._count_running or not self._waiting or self._count_base is None:
            return
        point, merged = self._waiting[-1], self._waiting[:-1]
        self._waiting.clear()
        when = time.strftime("%H:%M:%S", time.localtime(point.taken_at))
        for earlier in merged:
            earlier.summary = f"merged into {when}"
            self._update_point(earlier)
        base, epoch = self._count_base, self._count_epoch
        history, current = self.context.history, self._current_snapshot()
        newest = self._side_of(point.generation)
        self._count_running = True
        self.counts_started += 1

        async def work(job: Job) -> None:
            def run() -> DatabaseDiff:
                first = resolve(Side("generation", base), current, history, job.cancel_token)
                second = resolve(newest, current, history, job.cancel_token)
                return count_between(first.snapshot, second.snapshot, job.cancel_token)

            cancelled = False
            try:
                diff = await asyncio.to_thread(run)
                point.summary = diff.summary()
            except UserError as error:
                point.summary = f"not compared ({error.message})"
            except asyncio.CancelledError:
                cancelled = True
                raise
            except Exception:  # a bug: reported by the job centre; the timeline goes on
                point.summary = "not compared"
                raise
            finally:
                self._count_running = False
                if epoch == self._count_epoch:
                    self._count_base = point.generation
                if not cancelled:
                    self._update_point(point)
                    self._next_count()

        self.context.jobs.start("Comparing snapshots", work, show=False, owner=self)

    def _update_point(self, point: TimelinePoint) -> None:
        for row in range(self.timeline_list.count()):
            item = self.timeline_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == point.generation:
                item.setText(point.text())

    def compare_timeline_selection(self) -> Job | None:
        """Compare the two points selected on the timeline (older → newer)."""
        chosen = sorted(i.data(Qt.ItemDataRole.UserRole) for i in self.timeline_list.selectedItems())
        if len(chosen) != 2:
            self.status_message.emit("Select two points on the timeline to compare them.")
            return None
        return self.compare(self._side_of(chosen[0]), self._side_of(chosen[1]))

    def _side_of(self, generation: int) -> Side:
        current = self._current_snapshot()
        if current is not None and current.generation == generation:
            return Side("current")
        return Side("generation", generation)

    def save_state(self) -> dict[str, Any]:
        """Watch mode survives the reloads it causes."""
        return {"watching": self.watching}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Nothing to restore: the pane keeps its own widgets across reloads."""
