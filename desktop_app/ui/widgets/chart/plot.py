"""The chart itself: pyqtgraph items for `ChartData`, thinned to the pixels shown as the user pans and zooms.

pyqtgraph is imported here only (loaded when the first chart opens, ~0.3 s), on PySide6 (the package sets
PYQTGRAPH_QT_LIB). A line keeps each pixel column's lowest and highest value of the visible range
(`LineThinner`, tested in the core; as fast as pyqtgraph's own peak downsampling: tests/bench/bench_chart.py);
a big scatter is a picture of the pixels its points fall in (`DensityPicture`); bars and histograms are
drawn as they are. New data is settled, then painted, in loop turns of their own, and painted once
(`_hold_paint`, `_settle`): a 5M-point line's update, settle and paint take ~3-5 ms of CPU each.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen, QPicture
from PySide6.QtWidgets import QGraphicsView, QWidget

from desktop_app.core.chart.spec import AxisKind, ChartData, ChartKind
from desktop_app.core.chart.thinning import LineThinner, cell_counts
from desktop_app.core.limits import LIMITS
from desktop_app.ui.svg_png import draw_png, draw_svg
from desktop_app.ui.theme import CHART_SERIES, chart_colours

#: A big scatter's picture is painted again this long after the view stops moving.
_PICTURE_SETTLE_MS = 120
#: Characters of a category shown under its bar.
_CATEGORY_LABEL_CHARS = 16
#: Pixels kept free between two category labels.
_CATEGORY_LABEL_GAP_PX = 12
#: A summarised line's zoomed range is read again this long after the view stops moving.
_ZOOM_SETTLE_MS = 150
#: A view narrower than this share of a summarised line's whole range is read again in detail.
_ZOOMED_SHARE = 0.9


def colour(index: int, alpha: int = 255) -> QColor:
    """The colour of series number `index`."""
    result = QColor(CHART_SERIES[index % len(CHART_SERIES)])
    result.setAlpha(alpha)
    return result


class ChartPlot(pg.PlotWidget):
    """A pyqtgraph plot that shows one `ChartData` at a time."""

    #: A summarised line was zoomed into (x0, x1 on the axis, pixel columns): its window reads that range.
    zoomed = Signal(float, float, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        background, foreground = chart_colours()
        super().__init__(parent, background=background)
        self.data: ChartData | None = None
        #: The lines, redrawn for the visible range (at once when it changes).
        self._thinned: list[tuple[pg.PlotDataItem, LineThinner]] = []
        #: Big scatters, drawn as pictures: scaled with the view while it moves, redrawn once it settles.
        self._pictures: list[DensityPicture] = []
        self._background, self._foreground = background, foreground
        self._left = GridAxis(QColor(background))
        self.plotItem.setAxisItems({"left": self._left})
        self.plotItem.showGrid(x=True, y=True, alpha=0.15)
        self.legend: pg.LegendItem | None = None
        self._redraw = QTimer(self, singleShot=True, interval=0)
        self._redraw.timeout.connect(self.thin_to_view)
        self._repaint_pictures = QTimer(self, singleShot=True, interval=_PICTURE_SETTLE_MS)
        self._repaint_pictures.timeout.connect(self.draw_pictures)
        self._zoom_settled = QTimer(self, singleShot=True, interval=_ZOOM_SETTLE_MS)
        self._zoom_settled.timeout.connect(self._zoom_changed)
        # New data is settled, its axes drawn, then painted, each in a loop turn (see `_hold_paint`).
        self._steps_done = 0
        self._next_step = QTimer(self, singleShot=True, interval=0)
        self._next_step.timeout.connect(self._run_step)
        #: The X range whose detail the lines show (None: the first read's points everywhere).
        self.detail_range: tuple[float, float] | None = None
        box = self.plotItem.getViewBox()
        # Lines are thinned along X only: a Y change (auto-range after new points) needs no new points.
        box.sigXRangeChanged.connect(self._x_range_changed)
        box.sigRangeChanged.connect(self._range_changed)
        self._set_bottom_axis(pg.AxisItem("bottom"))

    # --- what is shown --------------------------------------------------------------------------

    def show_data(self, data: ChartData) -> None:
        """Replace what is drawn with `data` (painted in the next loop turn)."""
        self._hold_paint()
        if self._same_lines(data):
            # More rows of the same line chart (a read under way): new points, same items, axes and legend.
            self._thinned = [
                (item, series.thinner or LineThinner(series.x, series.y))
                for (item, _old), series in zip(self._thinned, data.series, strict=True)
            ]
            self.data = data
            self._show_everything()
            return
        self.clear_chart()
        self.data = data
        plot = self.plotItem
        # A new axis costs a relayout of the plot on the GUI thread: the one shown is kept when it fits.
        bottom = type(plot.getAxis("bottom"))
        if data.x_kind is AxisKind.TIME:
            if bottom is not pg.DateAxisItem:
                self._set_bottom_axis(pg.DateAxisItem("bottom", utcOffset=0))
        elif data.x_kind is AxisKind.CATEGORY:
            self._set_bottom_axis(CategoryAxis(data.categories))
        elif bottom is not pg.AxisItem:
            self._set_bottom_axis(pg.AxisItem("bottom"))
        kind = data.spec.kind
        self._left.set_under_items(kind is ChartKind.LINE)
        time = f" ({data.time_encoding}, UTC)" if data.time_encoding else ""
        _set_label(plot, "bottom", data.x_label + time)
        _set_label(plot, "left", "count" if kind is ChartKind.HISTOGRAM else _y_label(data))
        if len(data.series) > 1:
            background = QColor(self._background)
            background.setAlpha(210)
            self.legend = plot.addLegend(offset=(-10, 10), labelTextColor=self._foreground, brush=background)
            self.legend.setColumnCount(2 if len(data.series) > 10 else 1)
        for index, series in enumerate(data.series):
            if kind is ChartKind.LINE:
                # Thinned to the view's pixel columns already (pyqtgraph's clip to view and downsampling
                # would only redo the work on each range change: a second setData and paint).
                item = pg.PlotDataItem(pen=pg.mkPen(colour(index), width=1.5), name=series.name)
                self._thinned.append((item, series.thinner or LineThinner(series.x, series.y)))
            elif kind is ChartKind.SCATTER and len(series.x) > LIMITS.chart_scatter_direct_points:
                item = DensityPicture(series.x, series.y, colour(index))
                self._pictures.append(item)
                if self.legend is not None:
                    self.legend.addItem(_marker(index), series.name)
            elif kind is ChartKind.SCATTER:
                item = _marker(index, name=series.name)
                item.setData(series.x, series.y)
            elif kind is ChartKind.BAR:
                item = _bars(series.x, series.y, index, len(data.series), name=series.name)
            else:
                item = pg.PlotDataItem(
                    series.x,
                    series.y,
                    stepMode="center",
                    fillLevel=0,
                    pen=pg.mkPen(colour(index), width=1),
                    brush=pg.mkBrush(colour(index, 90 if len(data.series) > 1 else 160)),
                    name=series.name,
                )
            plot.addItem(item)
        self._show_everything()

    def _same_lines(self, data: ChartData) -> bool:
        shown = self.data
        return (
            shown is not None
            and shown.partial
            and data.spec == shown.spec
            and data.spec.kind is ChartKind.LINE
            and data.x_kind is shown.x_kind
            and data.categories == shown.categories
            and [s.name for s in data.series] == [s.name for s in shown.series]
        )

    def show_detail(
        self, data: ChartData, lines: list[tuple[np.ndarray, np.ndarray]], x0: float, x1: float
    ) -> None:
        """Draw the lines of `data` (still shown) with the points read again for the range [x0, x1]."""
        if self.data is not data or len(lines) != len(self._thinned):
            return
        self._thinned = [
            (item, LineThinner(x, y)) for (item, _old), (x, y) in zip(self._thinned, lines, strict=True)
        ]
        self.detail_range = (x0, x1)
        self.thin_to_view()

    def _x_range_changed(self, *_args: object) -> None:
        self._redraw.start()
        if self.data is not None and self.data.summary is not None and not self.data.partial:
            self._zoom_settled.start()

    def _zoom_changed(self) -> None:
        """Ask for the visible range in detail when the view shows part of a summarised line (the first
        read's points serve the whole of it)."""
        data = self.data
        if data is None or data.summary is None or self.plotItem is None:
            return
        (x0, x1), _y = self.plotItem.getViewBox().viewRange()
        low, high = (float(v) for v in data.summary.x.to_axis(np.array(data.summary.raw_range)))
        if x1 - x0 >= _ZOOMED_SHARE * (high - low) or x1 < low or x0 > high:
            if self.detail_range is not None:  # back to the whole line: the first read's points
                self.detail_range = None
                self._thinned = [
                    (item, LineThinner(x, y))
                    for (item, _old), (x, y) in zip(self._thinned, data.summary.overview, strict=True)
                ]
                self.thin_to_view()
            return
        self.zoomed.emit(float(x0), float(x1), self._pixels()[0])

    def clear_chart(self) -> None:
        """Remove every drawn item and the legend."""
        self.plotItem.clear()
        if self.legend is not None:
            if self.legend.scene() is not None:
                self.legend.scene().removeItem(self.legend)
            self.plotItem.legend = None
            self.legend = None
        self._thinned = []
        self._pictures = []
        self.data = None
        self.detail_range = None
        self._zoom_settled.stop()

    def _show_everything(self) -> None:
        """Fit the view to all the data (thinned lines and pictures first get their whole range)."""
        extents = [t.extent() for _item, t in self._thinned if len(t.x)]
        extents += [(p.x.min(), p.x.max(), p.y.min(), p.y.max()) for p in self._pictures if len(p.x)]
        if extents:
            x0, x1 = min(e[0] for e in extents), max(e[1] for e in extents)
            y0, y1 = min(e[2] for e in extents), max(e[3] for e in extents)
            self._thin(x0, x1)
            if self._pictures:  # a picture is painted once, for the range shown (padding included)
                self.plotItem.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1))
                self._redraw.stop()
                self._repaint_pictures.stop()
                self.draw_pictures()
                return
        self.plotItem.enableAutoRange()
        self.plotItem.autoRange()
        # Thinned again now for the padded range, in this turn: not a second setData and repaint in the next.
        self.thin_to_view()
        self._redraw.stop()

    def _hold_paint(self) -> None:
        """Settle, draw the axes of and paint what changes now in the next loop turns, one each, input
        handled in between (`_run_step`).

        Qt paints right after the turn that set new data, which made one stall of both (and pyqtgraph's
        paint then changed the view again: two more paints, see `_settle`).
        """
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        self._steps_done = 0
        self._next_step.start()

    def _run_step(self) -> None:
        steps = (self._settle, self._draw_axes, self._release_paint)
        step = steps[self._steps_done]
        self._steps_done += 1
        if self._steps_done < len(steps):
            self._next_step.start()
        if self.plotItem is not None:  # (None once closed)
            step()

    def _settle(self) -> None:
        """Do before the paint what pyqtgraph leaves to it, so new data is painted once.

        pyqtgraph applies a pending auto-range and the view's transform when it paints (which marks the
        view dirty again: a second paint), and the axes measure their labels then (wider labels lay the
        plot out again: a third paint). Here: the labels are measured and the plot laid out, and the view
        settled (the lines thinned again if that moved it).
        """
        plot = self.plotItem
        box = plot.getViewBox()
        _draw_axis(plot.getAxis("left"))  # (measures its labels: the plot's layout follows their width)
        plot.layout.activate()
        box.prepareForPaint()
        if self._redraw.isActive():  # the view moved (laid out again, or fitted to the thinned lines)
            self.thin_to_view()
            self._redraw.stop()
            box.prepareForPaint()

    def _draw_axes(self) -> None:
        """Draw the axes' pictures their paint would (which then plays them with the lines)."""
        for side in ("left", "bottom"):
            axis = self.plotItem.getAxis(side)
            if axis.picture is None:
                _draw_axis(axis)

    def _release_paint(self) -> None:
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.viewport().update()

    def _set_bottom_axis(self, axis: pg.AxisItem) -> None:
        axis.setPen(self._foreground)
        axis.setTextPen(self._foreground)
        self.plotItem.setAxisItems({"bottom": axis})
        # A new axis draws no grid until told (showGrid told the old one); categories are marked by their
        # bars, which lines through them would only cross.
        self.plotItem.updateGrid()
        if isinstance(axis, CategoryAxis):
            axis.setGrid(False)
        left = self.plotItem.getAxis("left")
        left.setPen(self._foreground)
        left.setTextPen(self._foreground)

    # --- thinning for display --------------------------------------------------------------------

    def _range_changed(self, *_args: object) -> None:
        if self._pictures:
            self._repaint_pictures.start()

    def _pixels(self) -> tuple[int, int]:
        box = self.plotItem.getViewBox()
        return max(int(box.width()), 100), max(int(box.height()), 100)

    def thin_to_view(self) -> None:
        """Redraw the lines for the range now visible (min and max of each pixel column)."""
        if self._thinned and self.plotItem is not None:  # (None once the widget is closed)
            (x0, x1), _y = self.plotItem.getViewBox().viewRange()
            self._thin(x0, x1)

    def _thin(self, x0: float, x1: float) -> None:
        columns, _rows = self._pixels()
        for item, thinner in self._thinned:
            item.setData(*thinner.view(x0, x1, columns))

    def draw_pictures(self) -> None:
        """Redraw the big scatters' pictures, pixel for pixel, for the range now visible."""
        if not self._pictures or self.plotItem is None:
            return
        (x0, x1), (y0, y1) = self.plotItem.getViewBox().viewRange()
        for picture in self._pictures:
            picture.draw((x0, x1, y0, y1), self._pixels())

    def drawn_points(self) -> int:
        """Points (or bars) the items hold now, after thinning."""
        total = 0
        for item in self.plotItem.items:
            if isinstance(item, pg.BarGraphItem):
                total += len(item.opts["x"])
            elif isinstance(item, pg.PlotDataItem | pg.ScatterPlotItem):
                xs = item.getData()[0]
                total += 0 if xs is None else len(xs)
            elif isinstance(item, DensityPicture):
                total += item.cells
        return total

    # --- export ----------------------------------------------------------------------------------

    def png_bytes(self, max_pixels: int) -> bytes:
        """The chart as a PNG picture, at the size shown (scaled down beyond `max_pixels`)."""
        rect = self.plotItem.sceneBoundingRect()
        return draw_png(
            rect.width(), rect.height(), max_pixels, lambda p, target: self._render(p, target, rect)
        )

    def svg_bytes(self, title: str) -> bytes:
        """The chart as an SVG document (lines hold the thinned points shown, not every row)."""
        rect = self.plotItem.sceneBoundingRect()
        return draw_svg(rect.width(), rect.height(), title, lambda p, to: self._render(p, to, rect))

    def _render(self, painter: QPainter, target: QRectF, rect: QRectF) -> None:
        painter.fillRect(target, self.backgroundBrush())
        self.scene().render(painter, target, rect)


class GridAxis(pg.AxisItem):
    """The left axis, which draws the grid (pyqtgraph's ticks drawn across the plot, translucent, over
    what is drawn). Under a line chart, its grid lines are opaque, in the colour their transparency
    gives over the plot's background, and drawn under the lines: the same picture (a line's pixel on
    a grid line is no longer tinted by it), without blending each pixel of 30-odd plot-wide lines at
    each paint (~2 ms of every paint of a line chart, most of it besides the lines). Bars and
    histograms keep the grid drawn over them, where it shows."""

    def __init__(self, background: QColor) -> None:
        super().__init__("left")
        self.background = background
        self.under_items = False
        self._opaque: dict[int, QPen] = {}

    def set_under_items(self, under: bool) -> None:
        """Draw the grid opaque under the plot's items (True) or translucent over them (pyqtgraph's)."""
        if under != self.under_items:
            self.under_items = under
            # Axes sit at 0.5 over the view box (-100), whose children are the items drawn.
            self.setZValue(-101 if under else 0.5)
            self.picture = None
            self.update()

    def drawPicture(
        self, p: QPainter, axisSpec: tuple, tickSpecs: list[tuple], textSpecs: list[tuple]
    ) -> None:
        """pyqtgraph's picture of the axis (its ticks drawn opaque when under the items)."""
        if self.under_items:
            tickSpecs = [(self._opaque_pen(pen), start, end) for pen, start, end in tickSpecs]
        super().drawPicture(p, axisSpec, tickSpecs, textSpecs)

    def _opaque_pen(self, pen: QPen) -> QPen:
        colour = pen.color()
        if colour.alpha() == 255:
            return pen
        key = colour.name(QColor.NameFormat.HexArgb)
        if key not in self._opaque:
            a, under = colour.alphaF(), self.background
            mixed = QColor(
                *(
                    round(c * a + u * (1 - a))
                    for c, u in zip(colour.getRgb()[:3], under.getRgb()[:3], strict=True)
                )
            )
            opaque = QPen(pen)
            opaque.setColor(mixed)
            self._opaque[key] = opaque
        return self._opaque[key]


class DensityPicture(pg.ImageItem):
    """A scatter of many points as a picture: each pixel of the view that holds points is painted, more
    opaque where more points fall. pyqtgraph scales the picture with the view while the user pans and
    zooms; `draw` paints it again, sharp, for the range the view settles on."""

    def __init__(self, x: np.ndarray, y: np.ndarray, colour: QColor) -> None:
        super().__init__()
        self.x, self.y = x, y
        self.rgb = (colour.red(), colour.green(), colour.blue())
        #: Pixels painted the last time.
        self.cells = 0

    def draw(self, view: tuple[float, float, float, float], pixels: tuple[int, int]) -> None:
        """Paint the points inside `view` (x0, x1, y0, y1) at `pixels` (columns, rows)."""
        x0, x1, y0, y1 = view
        if x1 <= x0 or y1 <= y0:
            x0, x1, y0, y1 = x0 - 0.5, x0 + 0.5, y0 - 0.5, y0 + 0.5
        counts = cell_counts(self.x, self.y, (x0, x1, y0, y1), pixels)
        hit = counts > 0
        self.cells = int(hit.sum())
        dot = hit.copy()  # each point a small cross, as readable as a drawn marker
        dot[1:, :] |= hit[:-1, :]
        dot[:-1, :] |= hit[1:, :]
        dot[:, 1:] |= hit[:, :-1]
        dot[:, :-1] |= hit[:, 1:]
        image = np.zeros((*counts.shape, 4), dtype=np.uint8)
        image[..., 0], image[..., 1], image[..., 2] = self.rgb
        image[..., 3] = np.where(dot, 120, 0)
        if self.cells:
            density = np.log1p(counts[hit]) / np.log1p(counts.max())
            image[..., 3][hit] = (150 + 105 * density).astype(np.uint8)
        self.setImage(image, autoLevels=False, levels=(0, 255))
        self.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))


def _marker(index: int, name: str | None = None) -> pg.ScatterPlotItem:
    """The round marker of a scatter series (also its legend sample)."""
    brush = pg.mkBrush(colour(index, 180))
    return pg.ScatterPlotItem(size=5, pen=None, brush=brush, name=name, hoverable=False)


class CategoryAxis(pg.AxisItem):
    """An axis whose ticks are the categories at 0, 1, 2, …: as many labels as fit without overlapping."""

    def __init__(self, labels: list[str]) -> None:
        super().__init__("bottom")
        keep = _CATEGORY_LABEL_CHARS
        self.labels = [label if len(label) <= keep else label[: keep - 1] + "…" for label in labels]
        metrics = QFontMetrics(self.font())
        #: Each label's width in pixels, with the gap kept between two labels.
        self._label_px = [metrics.horizontalAdvance(label) + _CATEGORY_LABEL_GAP_PX for label in self.labels]

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """Every n-th category in view, the smallest n for which no two labels shown overlap."""
        first, last = max(0, math.ceil(minVal)), min(len(self.labels) - 1, math.floor(maxVal))
        if last < first:
            return []
        per_category = max(size, 1.0) / max(maxVal - minVal, 1e-9)
        widths = self._label_px[first : last + 1]
        # The narrowest labels set the least step; wider ones raise it until every neighbour fits.
        step = max(1, math.ceil(min(widths) / per_category))
        while step < len(widths) and not _labels_fit(widths[(-first) % step :: step], step * per_category):
            step += 1
        start = first + (-first) % step
        return [(float(step), [float(v) for v in range(start, last + 1, step)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """The categories' text."""
        return [self.labels[int(v)] if 0 <= int(v) < len(self.labels) else "" for v in values]


def _labels_fit(widths: list[int], spacing: float) -> bool:
    """Whether labels of `widths`, centred `spacing` pixels apart, leave each other room."""
    return all((left + right) / 2 <= spacing for left, right in itertools.pairwise(widths))


def _draw_axis(axis: pg.AxisItem) -> None:
    """Draw `axis`'s picture now, as its paint would (which then only plays it)."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
        if specs is not None:
            axis.drawPicture(painter, *specs)
    finally:
        painter.end()
    axis.picture = picture


def _set_label(plot: pg.PlotItem, side: str, text: str) -> None:
    """Label an axis, unless it says that already (a new label lays the plot out again)."""
    axis = plot.getAxis(side)
    if axis.labelText != text or axis.label.isVisible() != bool(text):
        plot.setLabel(side, text)


def _y_label(data: ChartData) -> str:
    """The Y column's name when one series is drawn (a legend names several)."""
    return data.series[0].name if len(data.series) == 1 and data.spec.series is None else ""


def _bars(x: np.ndarray, y: np.ndarray, index: int, count: int, name: str) -> pg.BarGraphItem:
    """Bars of one series, side by side with the other series' bars at the same X."""
    distinct = np.unique(x)
    spacing = float(np.min(np.diff(distinct))) if len(distinct) > 1 else 1.0
    width = 0.8 * spacing / count
    offset = (index - (count - 1) / 2) * width
    return pg.BarGraphItem(
        x=x + offset, height=y, width=width, brush=pg.mkBrush(colour(index)), pen=pg.mkPen(None), name=name
    )
