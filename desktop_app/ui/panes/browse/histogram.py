"""A column profile's histogram drawn with plain Qt painting: one bar per bin, edges below."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize
from PySide6.QtGui import QHelpEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop_app.core.profile.model import HistogramBin
from desktop_app.ui import theme

_HEIGHT_PX = 64
_LABEL_GAP_PX = 4


def edge_text(value: float, time: str | None) -> str:
    """A bin edge as shown: the decoded time when there is one, else the number, short."""
    if time:
        return time.replace("T", " ").removesuffix("Z")[:19]
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.6g}"


class Histogram(QWidget):
    """Bars for `bins` (counts scale to the tallest bin); hover a bar for its range and count."""

    def __init__(self, bins: list[HistogramBin], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bins = bins
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.set_bins(bins)

    def set_bins(self, bins: list[HistogramBin]) -> None:
        """Draw `bins` instead (no bins: no height)."""
        self.bins = bins
        self.setFixedHeight(_HEIGHT_PX + 2 * self.fontMetrics().height() if bins else 0)
        self.update()

    def sizeHint(self) -> QSize:
        """Wide enough for a bar each, as tall as fixed."""
        return QSize(240, self.height())

    def _plot(self) -> QRectF:
        label = self.fontMetrics().height() + _LABEL_GAP_PX
        return QRectF(0, 2, self.width() - 1, self.height() - label - 4)

    def bar_at(self, x: float) -> int | None:
        """The bin under x (widget coordinates), or None."""
        if not self.bins or self.width() <= 0:
            return None
        index = int(x / (self.width() / len(self.bins)))
        return index if 0 <= index < len(self.bins) else None

    def paintEvent(self, event: QPaintEvent) -> None:
        """Bars from the bottom of the plot; first and last edges under it."""
        painter = QPainter(self)
        plot = self._plot()
        painter.setPen(theme.dim_colour())
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        if self.bins:
            peak = max(b.count for b in self.bins) or 1
            width = plot.width() / len(self.bins)
            colour = theme.info_colour()
            for i, b in enumerate(self.bins):
                height = plot.height() * b.count / peak
                if b.count and height < 1:
                    height = 1  # a non-empty bin never disappears
                bar = QRectF(plot.left() + i * width + 1, plot.bottom() - height, max(width - 2, 1), height)
                painter.fillRect(bar, colour)
            first, last = self.bins[0], self.bins[-1]
            metrics = self.fontMetrics()
            baseline = plot.bottom() + _LABEL_GAP_PX + metrics.ascent()
            painter.setPen(theme.dim_colour())
            painter.drawText(int(plot.left()), int(baseline), edge_text(first.low, first.low_time))
            right = edge_text(last.high, last.high_time)
            painter.drawText(int(plot.right() - metrics.horizontalAdvance(right)), int(baseline), right)
        painter.end()

    def tooltip_for(self, index: int) -> str:
        """`low – high: count` of one bar."""
        b = self.bins[index]
        return f"{edge_text(b.low, b.low_time)} – {edge_text(b.high, b.high_time)}: {b.count:,}"

    def event(self, event: QEvent) -> bool:
        """Tooltips per bar."""
        if isinstance(event, QHelpEvent) and event.type() == QEvent.Type.ToolTip:
            index = self.bar_at(event.pos().x())
            if index is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
