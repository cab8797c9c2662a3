"""A windowed, lazy grid model: only pages near the viewport are fetched, off the UI thread.

`total_rows` is the real count (an estimate until the exact count arrives; never waited for). Qt keeps
row positions in C ints of pixels, so a view of more than ~110M rows loops forever in its header's
paint: the model shows Qt a window of at most `window_rows` rows starting at `offset` into the real
rows, and `GridWindow` (ui/widgets/grid_window.py) slides the window and drives the position. Apart
from the Qt API (`rowCount`, `index`, `data`, `headerData`), every row number here is a real one;
`view_row`/`real_row` convert. Rows are fetched in pages keyed by page number, so a page is requested
once however often the view asks (the `fetchMore` re-entrancy trap cannot duplicate rows). Pages far
from the viewport are evicted; fetches for pages scrolled past are cancelled, which interrupts SQLite.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import QTableView, QWidget

from desktop_app.core.browse.paging import Page
from desktop_app.core.browse.row_sources import RowSource
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.logs import log_exception
from desktop_app.core.progress import CancelToken, ProgressCallback
from desktop_app.core.schema.visible_names import visible_name
from desktop_app.core.values.timestamps import TimeEncoding
from desktop_app.ui.latest import LatestRequest, Ticket
from desktop_app.ui.models import cell_format
from desktop_app.ui.models.column_times import effective_encoding, guess_times, time_text

log = logging.getLogger(__name__)
#: Page fetches running at once (the pool has a few readers; counting and indexing need one too).
_MAX_IN_FLIGHT = 2
#: Pages fetched beyond each edge of the viewport.
_PREFETCH_PAGES = 1
#: More pages than fit on any screen (guards against a view reporting a huge viewport).
_MAX_VISIBLE_PAGES = 8
#: How long a jump may keep showing the previous frame while its rows load, before placeholders show.
PLACEHOLDER_GRACE_MS = 50
#: Role that returns a cell's raw value (None, int, float, str, bytes or `Truncated`).
RawValueRole = Qt.ItemDataRole.UserRole + 1
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_RAW = int(RawValueRole)
_ROLES_SERVED = frozenset((_DISPLAY, _ACCESSIBLE_TEXT, _ALIGNMENT, _FOREGROUND, _FONT, _TOOLTIP, _RAW))
_SHOWN_ROLES = frozenset((_DISPLAY, _ACCESSIBLE_TEXT))  # the roles a time shown in a cell answers
AnyIndex = QModelIndex | QPersistentModelIndex
#: The layout signals' overload that carries a hint (a vertical-only change leaves column widths alone).
_LAYOUT_SIGNATURE = "QList<QPersistentModelIndex>,QAbstractItemModel::LayoutChangeHint"


class WindowedTableModel(QAbstractTableModel):
    """Rows of a `RowSource`, fetched page by page as the view needs them."""

    #: The row count changed or became exact.
    count_changed = Signal()
    #: A page arrived or was evicted.
    loaded_changed = Signal()
    #: A fetch failed with a `UserError` (shown by the pane).
    failed = Signal(object)
    #: Rows or the count could not be read (see `read_error`): the grid shows where.
    read_errors_changed = Signal()
    #: Which columns read as timestamps changed (guessed from the first rows, or chosen by the user).
    times_changed = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        page_rows: int = LIMITS.grid_page_rows,
        cached_pages: int = LIMITS.grid_cached_pages,
        window_rows: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.page_rows = page_rows
        #: Most rows shown to Qt at once (read from LIMITS when the model is made, so tests can lower it).
        self.window_rows = max(window_rows if window_rows is not None else LIMITS.grid_window_rows, 1)
        #: The real row shown as the view's row 0.
        self.offset = 0
        #: True while the count is an estimate (max rowid, or the previous count) rather than a lower bound.
        self.estimated = False
        self.cached_pages = max(cached_pages, 4)
        self.source: RowSource | None = None
        self.exact = False
        self._rows = 0
        self._pages: dict[int, Page] = {}
        self._in_flight: dict[int, CancelToken] = {}
        self._queue: list[int] = []  # wanted pages not started yet, most wanted last
        self._failed: dict[int, str] = {}  # page number → why it could not be read
        #: Why the row count could not be finished (the count stays an estimate), or None.
        self.count_error: str | None = None
        self._visible = (0, 0)
        self._visible_rows: tuple[int, int] | None = None  # None until a view reports its viewport
        self._sources = LatestRequest()  # fetches and counts of a replaced source are dropped
        self._source = self._sources.begin()
        self._background: list[CancelToken] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._header_markers: dict[int, str] = {}
        self._pump_scheduled = False
        self.fetches_started = 0  #: pages requested from the source (for tests and the benchmark)
        #: Column name → encoding name (or `column_times.NOT_A_TIMESTAMP`) chosen by the user.
        self.time_overrides: dict[str, str] = {}
        #: Columns (by name) whose cells show the decoded time instead of the stored value.
        self.times_shown: set[str] = set()
        self._guessed_times: dict[int, TimeEncoding] | None = None  # None until the first rows arrive
        self._times: dict[int, TimeEncoding] = {}  # column → encoding its tooltips (and cells) decode
        self._times_shown: set[int] = set()

    # --- source and counts ----------------------------------------------------------------------

    def set_source(
        self, source: RowSource | None, progress: ProgressCallback | None = None, rows_hint: int | None = None
    ) -> None:
        """Show `source` (None = empty): cancels everything in flight, then counts and fetches anew.

        `rows_hint` is a row count to show until the count arrives (e.g. the same rows, sorted anew).
        """
        self._cancel_all()
        self.beginResetModel()
        self._source = self._sources.begin()
        self.source = source
        self._rows, self.exact = (rows_hint or 0) if source is not None else 0, False
        self.estimated = bool(self._rows)
        self.offset = 0
        self._pages.clear()
        had_errors = bool(self._failed) or self.count_error is not None
        self._failed.clear()
        self.count_error = None
        self._queue.clear()
        self._header_markers = {}
        self._visible_rows = None  # until the view reports where it is in the new rows
        self._guessed_times, self._times, self._times_shown = None, {}, set()
        self.endResetModel()
        self.count_changed.emit()
        self.loaded_changed.emit()
        if had_errors:
            self.read_errors_changed.emit()
        if source is not None:
            self._want(0)
            self._spawn(self._count(source, self._source, progress))

    def replace_source(self, source: RowSource) -> None:
        """Read the same rows from now on through `source` (the same table, order and filters in the same
        generation of the data, e.g. now in memory): the rows already loaded stay on screen."""
        self._cancel_all()
        self._source = self._sources.begin()  # results of the old source's fetches on their way are dropped
        self.source = source
        self._failed.clear()
        self._queue.clear()
        if self._visible_rows is not None:
            self.set_viewport(*self._visible_rows)  # refetch what was in flight, from the new source
        self._spawn(self._count(source, self._source, None))  # and its position index, if any

    async def _count(self, source: RowSource, ticket: Ticket, progress: ProgressCallback | None) -> None:
        cancel = CancelToken()
        self._background.append(cancel)
        try:
            estimate = await source.estimate()
            if ticket.current and estimate is not None and not self.exact:
                self.estimated = True
                self._set_row_count(max(estimate, self._rows), exact=False)
            total = await source.count(cancel)
            if not ticket.current:
                return
            self._set_row_count(total, exact=True)
            self._schedule_pump()
            if progress is not None:
                await source.prepare(cancel, progress)
            else:
                await source.prepare(cancel)
        except Cancelled:
            pass
        except UserError as exc:
            if ticket.current:
                self.count_error = exc.message
                self.count_changed.emit()
                self.read_errors_changed.emit()
                self.failed.emit(exc)
        finally:
            if cancel in self._background:
                self._background.remove(cancel)

    def _set_row_count(self, rows: int, *, exact: bool) -> None:
        rows = max(rows, 0)
        shown, self.exact = self.rowCount(), self.exact or exact
        if rows < self._rows:
            for number in [n for n in self._pages if n * self.page_rows >= rows]:
                del self._pages[number]
        if rows < self.offset + shown and self.offset > max(rows - self.window_rows, 0):
            # Fewer rows than the estimate the window was moved by: show the window ending at the last row.
            self.beginResetModel()
            self._rows, self.offset = rows, max(rows - self.window_rows, 0)
            self.endResetModel()
        else:
            wanted = min(rows - self.offset, self.window_rows)
            if wanted > shown:
                self.beginInsertRows(QModelIndex(), shown, wanted - 1)
                self._rows = rows
                self.endInsertRows()
            elif wanted < shown:
                self.beginRemoveRows(QModelIndex(), wanted, shown - 1)
                self._rows = rows
                self.endRemoveRows()
            self._rows = rows
        self.count_changed.emit()

    @property
    def total_rows(self) -> int:
        """The real row count (exact, an estimate, or the rows seen so far: see `exact`, `estimated`)."""
        return self._rows

    def real_row(self, view_row: int) -> int:
        """The real row shown as the view's row `view_row`."""
        return self.offset + view_row

    def view_row(self, real_row: int) -> int:
        """Where the view shows real row `real_row` (outside 0..rowCount()-1 when outside the window)."""
        return real_row - self.offset

    def window_offset_for(self, real_row: int) -> int:
        """The window offset that centres `real_row` (clamped so the window is full where it can be)."""
        return max(0, min(real_row - self.window_rows // 2, self._rows - self.window_rows))

    def move_window(self, offset: int) -> bool:
        """Show the real rows from `offset` (clamped) as the view's rows; False when already there.

        A layout change, not a reset: the view's row count, column widths and header stay; the current
        index and selection follow their real rows (dropped when outside the new window). The caller moves
        the view's scroll position by the same number of rows.
        """
        offset = max(0, min(offset, self._rows - self.window_rows))
        if offset == self.offset:
            return False
        hint = QAbstractItemModel.LayoutChangeHint.VerticalSortHint
        self.layoutAboutToBeChanged[_LAYOUT_SIGNATURE].emit([], hint)
        shown = self.rowCount()
        old = self.persistentIndexList()
        new = []
        for index in old:
            row = index.row() + self.offset - offset
            new.append(self.createIndex(row, index.column()) if 0 <= row < shown else QModelIndex())
        self.changePersistentIndexList(old, new)
        self.offset = offset
        self.layoutChanged[_LAYOUT_SIGNATURE].emit([], hint)
        return True

    @property
    def loaded_rows(self) -> int:
        """Rows held in the page cache."""
        return sum(len(p.rows) for p in self._pages.values())

    @property
    def read_error(self) -> str | None:
        """Why rows (or the count) could not be read, or None when everything read so far was fine."""
        if self._failed:
            return self._failed[min(self._failed)]
        return self.count_error

    @property
    def first_unreadable_row(self) -> int | None:
        """The first row that could not be read (a damaged page), or None."""
        for number in sorted(self._failed):
            page = self._pages.get(number)
            return number * self.page_rows + (len(page.rows) if page is not None else 0)
        return None

    def is_unreadable(self, row: int) -> bool:
        """True when `row` could not be read (shown as `cell_format.UNREADABLE`, not as loading)."""
        number = row // self.page_rows
        if number not in self._failed:
            return False
        page = self._pages.get(number)
        return page is None or row - page.start >= len(page.rows)

    @property
    def busy(self) -> bool:
        """True while pages are being fetched or wait to be."""
        return bool(self._in_flight or self._queue)

    # --- Qt model API ---------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Rows in the window shown to Qt (all rows known, up to `window_rows`)."""
        return 0 if parent.isValid() else max(min(self._rows - self.offset, self.window_rows), 0)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Columns of the source."""
        return 0 if parent.isValid() or self.source is None else len(self.source.columns)

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        """Only while the count is unknown: the next page past the known rows may exist."""
        return (
            not parent.isValid()
            and self.source is not None
            and not self.exact
            and not self.busy
            and self.offset + self.rowCount() >= self._rows
        )

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008 - Qt's signature
        """Ask for the page after the known rows (deduplicated: repeated calls add nothing)."""
        if self.canFetchMore(parent):
            self._want(self._rows // self.page_rows)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        """Cell text, style and raw value; a placeholder while the row is loading."""
        # Called for every role of every visible cell on each paint: plain ints, one page lookup.
        # (flags() is not overridden: Qt's default, selectable and not editable, fits a read-only snapshot.)
        if role not in _ROLES_SERVED or not index.isValid():
            return None
        row = self.offset + index.row()
        page = self._pages.get(row // self.page_rows)
        offset = row - page.start if page is not None else 0
        if page is None or offset >= len(page.rows):
            error = self._failed.get(row // self.page_rows)
            if error is not None:
                return _unreadable_role_value(role, error)
            if role == _DISPLAY:
                self._want(row // self.page_rows)
                return cell_format.PLACEHOLDER
            return cell_format.dim_color() if role == _FOREGROUND else None
        column = index.column()
        if (
            self._times
            and column in self._times
            and (role == _TOOLTIP or (column in self._times_shown and role in _SHOWN_ROLES))
        ):
            return self._time_role_value(role, page.rows[offset][column], column)
        return _role_value(role, page.rows[offset][column])

    def _time_role_value(self, role: int, value: Any, column: int) -> Any:
        """A cell of a timestamp column: the decoded time in its tooltip, and in the cell when shown."""
        encoding = self._times[column]
        decoded = time_text(value, encoding)
        if decoded is None:
            return _role_value(role, value)
        if role == _TOOLTIP:
            stored = cell_format.display_text(value)
            return f"{decoded}  (UTC)\n{encoding.label}\nstored: {stored}"
        return decoded if column in self._times_shown else _role_value(role, value)

    # --- timestamps -----------------------------------------------------------------------------

    def cell_text(self, values: tuple[Any, ...], column: int) -> str:
        """The text a cell of a row holding `values` shows in `column` (a decoded time when shown so)."""
        value = values[column]
        if column in self._times_shown:
            decoded = time_text(value, self._times[column])
            if decoded is not None:
                return decoded
        return cell_format.display_text(value)

    def guessed_time_encoding(self, column: int) -> TimeEncoding | None:
        """The encoding guessed for `column` from the first rows (None: no guess, or none fits)."""
        return (self._guessed_times or {}).get(column)

    def time_encoding(self, column: int) -> TimeEncoding | None:
        """The encoding `column` is decoded with (the user's choice, else the guess), or None."""
        return self._times.get(column)

    def time_shown(self, column: int) -> bool:
        """True when `column`'s cells show the decoded time."""
        return column in self._times_shown

    def set_guessed_times(self, guessed: dict[int, TimeEncoding]) -> None:
        """Replace the first rows' guess by a better one (e.g. from a sample of the whole table)."""
        self._guessed_times = dict(guessed)
        self._apply_times()
        self._repaint_all()

    def set_time_preferences(self, overrides: dict[str, str], shown: set[str]) -> None:
        """Apply the user's per-column encodings (name → encoding name or "not a timestamp") and the
        columns shown as time; repaints the grid."""
        self.time_overrides, self.times_shown = dict(overrides), set(shown)
        self._apply_times()
        self._repaint_all()

    def _repaint_all(self) -> None:
        if self.rowCount() and self.columnCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def _apply_times(self) -> None:
        columns = self.source.columns if self.source is not None else []
        guessed = self._guessed_times or {}
        self._times = {
            position: encoding
            for position, column in enumerate(columns)
            if (encoding := effective_encoding(guessed.get(position), self.time_overrides.get(column.name)))
        }
        self._times_shown = {p for p in self._times if columns[p].name in self.times_shown}
        self.times_changed.emit()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        """Column names (with sort markers) and their type/key tooltip; real row numbers from 1."""
        if orientation == Qt.Orientation.Vertical:
            return str(self.offset + section + 1) if role == _DISPLAY else None
        if self.source is None or not 0 <= section < len(self.source.columns):
            return None
        column = self.source.columns[section]
        if role == _DISPLAY:
            marker = self._header_markers.get(section)
            name = visible_name(column.name)
            return f"{name} {marker}" if marker else name
        if role == _TOOLTIP:
            return column.tooltip
        return None

    def set_header_markers(self, markers: dict[int, str]) -> None:
        """Text shown after column names, e.g. sort indicators `▲1`, `▼2`."""
        self._header_markers = dict(markers)
        if self.columnCount():
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    # --- reading loaded rows --------------------------------------------------------------------

    def _cell(self, row: int, column: int) -> tuple[bool, Any]:
        page = self._pages.get(row // self.page_rows)
        if page is None:
            return False, None
        offset = row - page.start
        if offset >= len(page.rows):
            return False, None
        return True, page.rows[offset][column]

    def is_loaded(self, row: int) -> bool:
        """True when `row` is in the cache."""
        return self._cell(row, 0)[0] if self.columnCount() else False

    def row_values(self, row: int) -> tuple[Any, ...] | None:
        """The cached values of `row`, or None when not loaded."""
        page = self._pages.get(row // self.page_rows)
        if page is None or row - page.start >= len(page.rows):
            return None
        return page.rows[row - page.start]

    def row_key(self, row: int) -> tuple[Any, ...] | None:
        """The cached key of `row` (empty tuple when the source has no key), or None when not loaded."""
        page = self._pages.get(row // self.page_rows)
        if page is None or row - page.start >= len(page.keys):
            return None
        return page.keys[row - page.start]

    async def rows(self, start: int, count: int) -> Iterator[tuple[Any, ...]]:
        """Rows `start`..`start+count-1`, from the cache where loaded, else fetched (for copying)."""
        assert self.source is not None
        collected: list[tuple[Any, ...]] = []
        position = start
        while position < start + count:
            values = self.row_values(position)
            if values is not None:
                collected.append(values)
                position += 1
                continue
            wanted = min(self.page_rows * 4, start + count - position)
            page = await self.source.fetch(position, wanted, CancelToken())
            if not page.rows:
                break
            collected.extend(page.rows)
            position += len(page.rows)
        return iter(collected)

    # --- which pages to fetch -------------------------------------------------------------------

    def set_viewport(self, first_row: int, last_row: int) -> None:
        """The (real) rows on screen: fetch their pages first, drop queued/in-flight pages far from them."""
        first_page = first_row // self.page_rows
        last_page = min(max(last_row, first_row) // self.page_rows, first_page + _MAX_VISIBLE_PAGES)
        self._visible = (first_page, last_page)
        self._visible_rows = (first_row, max(last_row, first_row))
        keep = range(first_page - _PREFETCH_PAGES, last_page + _PREFETCH_PAGES + 1)
        self._queue = [n for n in self._queue if n in keep]
        for number, token in list(self._in_flight.items()):
            if number not in keep:
                token.cancel()  # interrupts SQLite; the late result is dropped
                del self._in_flight[number]
        prefetch = [last_page + 1, first_page - 1]
        for number in [*prefetch, *range(last_page, first_page - 1, -1)]:
            self._want(number)
        self._pump()

    def _want(self, number: int) -> None:
        if (
            self.source is None
            or number < 0
            or (self.exact and number * self.page_rows >= self._rows)
            or number in self._pages
            or number in self._in_flight
            or number in self._failed
        ):
            return
        if number in self._queue:
            self._queue.remove(number)
        self._queue.append(number)
        self._schedule_pump()

    def _schedule_pump(self) -> None:
        if not self._pump_scheduled:
            self._pump_scheduled = True
            QTimer.singleShot(0, self._pump)

    def _pump(self) -> None:
        self._pump_scheduled = False
        while self._queue and len(self._in_flight) < _MAX_IN_FLIGHT and self.source is not None:
            number = self._queue.pop()
            token = CancelToken()
            self._in_flight[number] = token
            self.fetches_started += 1
            self._spawn(self._fetch(self.source, number, token, self._source))

    async def _fetch(self, source: RowSource, number: int, token: CancelToken, ticket: Ticket) -> None:
        try:
            page = await source.fetch(number * self.page_rows, self.page_rows, token)
        except Cancelled:
            page = None
        except UserError as exc:
            page = await self._readable_part(source, number, token)
            if ticket.current and not token.cancelled:
                self._failed[number] = exc.message
                self._show_failed(number, page)
                self.failed.emit(exc)
            page = None
        finally:
            if ticket.current and self._in_flight.get(number) is token:
                del self._in_flight[number]
        if ticket.current and page is not None and not token.cancelled:
            self._store(number, page)
        if ticket.current:
            self._schedule_pump()

    async def _readable_part(self, source: RowSource, number: int, token: CancelToken) -> Page | None:
        """The rows of page `number` before the one that failed (a damaged page), found by bisection."""
        start = number * self.page_rows
        readable, failing, found = 0, self.page_rows, None
        while failing - readable > 1 and not token.cancelled:
            middle = (readable + failing) // 2
            try:
                found = await source.fetch(start, middle, token)
                readable = middle
            except Cancelled:
                return None
            except UserError:
                failing = middle
        if found is None or len(found.rows) != readable:
            return None
        return found

    def _show_failed(self, number: int, readable: Page | None) -> None:
        """Show page `number` as unreadable after the rows of `readable`, without taking it for the end."""
        if readable is not None and readable.rows:
            self._pages[number] = readable
            self._evict()
        if not self.exact:  # the unreadable rows are shown where they would be
            self._set_row_count(max(self._rows, (number + 1) * self.page_rows), exact=False)
        self._rows_changed(number * self.page_rows, min((number + 1) * self.page_rows, self._rows) - 1)
        self.loaded_changed.emit()
        self.read_errors_changed.emit()

    def _store(self, number: int, page: Page) -> None:
        self._pages[number] = page
        if self._guessed_times is None and page.rows and self.source is not None:
            self._guessed_times = guess_times(self.source.columns, page.rows)
            self._apply_times()
        end = page.start + len(page.rows)
        if not self.exact and (end > self._rows or len(page.rows) < self.page_rows):
            # Unknown count so far: a short page is the end, a full one shows at least this many rows.
            self._set_row_count(end if len(page.rows) < self.page_rows else max(end, self._rows), exact=False)
        self._evict()
        # Only rows on screen need repainting (a multi-cell dataChanged repaints the whole viewport).
        first, last = page.start, min(end, self._rows) - 1
        if self._visible_rows is not None:
            first, last = max(first, self._visible_rows[0]), min(last, self._visible_rows[1])
        if page.rows:
            self._rows_changed(first, last)
        self.loaded_changed.emit()

    def _rows_changed(self, first: int, last: int) -> None:
        """Repaint real rows `first`..`last` where the window shows them."""
        first, last = max(first - self.offset, 0), min(last - self.offset, self.rowCount() - 1)
        if self.columnCount() and last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.columnCount() - 1))

    def _evict(self) -> None:
        """Drop the pages farthest from the viewport beyond the cache's size."""
        if len(self._pages) <= self.cached_pages:
            return
        first, last = self._visible
        centre = (first + last) / 2
        by_distance = sorted(self._pages, key=lambda n: abs(n - centre), reverse=True)
        for number in by_distance[: len(self._pages) - self.cached_pages]:
            if not first - _PREFETCH_PAGES <= number <= last + _PREFETCH_PAGES:
                del self._pages[number]
                self._failed.pop(number, None)  # its readable rows are read again when wanted

    # --- tasks ----------------------------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log_exception(task.exception(), "grid fetch failed")  # type: ignore[arg-type]

    def _cancel_all(self) -> None:
        for token in [*self._in_flight.values(), *self._background]:
            token.cancel()
        self._in_flight.clear()
        self._background.clear()

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no fetch or count is running (tests, benchmark, close)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self._tasks or self._queue or self._pump_scheduled) and loop.time() < deadline:
            await asyncio.sleep(0.005)

    def close(self) -> None:
        """Cancel all work (the database is going away)."""
        self.set_source(None)


def _role_value(role: int, value: Any) -> Any:
    """What a loaded cell holding `value` shows for `role` (None for nothing)."""
    if role in (_DISPLAY, _ACCESSIBLE_TEXT):
        return cell_format.display_text(value)
    if role == _ALIGNMENT:
        return cell_format.alignment(value)
    if role == _FOREGROUND:
        if value is None:
            return cell_format.dim_color()
        return cell_format.blob_color() if cell_format.is_blob(value) else None
    if role == _FONT:
        return cell_format.italic_font() if value is None else None
    if role == _RAW:
        return value
    return cell_format.tooltip_text(value) if role == _TOOLTIP else None


def _unreadable_role_value(role: int, error: str) -> Any:
    """What a cell of a row that could not be read shows for `role`."""
    if role in (_DISPLAY, _ACCESSIBLE_TEXT):
        return cell_format.UNREADABLE
    if role == _FOREGROUND:
        return cell_format.error_color()
    return f"This row could not be read: {error}" if role == _TOOLTIP else None


def track_viewport(view: QTableView, model: WindowedTableModel) -> ViewportTracker:
    """Tell `model` which rows `view` shows as it scrolls or resizes; hold back placeholder frames."""
    return ViewportTracker(view, model)


class ViewportTracker(QObject):
    """Reports the viewport to the model; on a jump, keeps the old frame until the new rows arrive.

    Painting a screen of placeholders costs as much as painting the rows, and the rows of a keyset
    seek usually arrive within a frame or two: holding the repaint for a moment saves a paint and a
    flash of "…". Past `PLACEHOLDER_GRACE_MS` the placeholders are shown anyway.
    """

    def __init__(self, view: QTableView, model: WindowedTableModel) -> None:
        super().__init__(view)
        self.view, self.model = view, model
        self._later = QTimer(self, singleShot=True, interval=0)
        self._later.timeout.connect(self.report)
        self._grace = QTimer(self, singleShot=True, interval=PLACEHOLDER_GRACE_MS)
        self._grace.timeout.connect(self.release)
        self._held: list[QWidget] = []
        bar = view.verticalScrollBar()
        bar.actionTriggered.connect(lambda _action: self.hold())  # emitted before the value moves
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._report_later)
        model.modelReset.connect(self._report_later)
        model.rowsInserted.connect(self._report_later)
        model.layoutChanged.connect(self._report_later)
        model.loaded_changed.connect(self.release_if_loaded)

    def _visible_rows(self) -> tuple[int, int]:
        """The real rows on screen."""
        top = max(self.view.rowAt(0), 0)
        bottom = self.view.rowAt(self.view.viewport().height() - 1)
        bottom = bottom if bottom >= 0 else self.model.rowCount() - 1
        return self.model.real_row(top), self.model.real_row(bottom)

    def report(self) -> None:
        """Send the rows on screen to the model (which fetches their pages first)."""
        if self.view.model() is self.model and self.model.rowCount() > 0:
            self.model.set_viewport(*self._visible_rows())

    def _report_later(self, *_args: object) -> None:
        self._later.start()

    def _on_scrolled(self, _value: int) -> None:
        self.report()  # ask for the new pages at once, before anything paints
        self.release_if_loaded()

    def hold(self) -> None:
        """Keep the current frame (call before scrolling programmatically) until rows arrive or time is up."""
        if self._held:
            return  # a drag keeps holding, but never past the grace period of its first step
        self._held = [self.view.viewport(), self.view.verticalHeader().viewport()]
        for widget in self._held:
            widget.setUpdatesEnabled(False)
        self._grace.start()

    def release_if_loaded(self) -> None:
        """Release the held frame when the rows on screen are loaded."""
        if self._held:
            top, bottom = self._visible_rows()
            if self.model.rowCount() == 0 or (self.model.is_loaded(top) and self.model.is_loaded(bottom)):
                self.release()

    def release(self) -> None:
        """Paint again (the rows arrived, or the grace period is over)."""
        self._grace.stop()
        held, self._held = self._held, []
        for widget in held:
            widget.setUpdatesEnabled(True)
