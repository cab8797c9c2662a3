"""The ER diagram on screen: a QGraphicsScene drawn from the core's laid-out `Diagram`, with zoom and pan."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QShortcut,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from desktop_app.core.structure.diagram import HEADER_HEIGHT, LINE_HEIGHT, PADDING, Box, Diagram, TextMeasure
from desktop_app.ui.svg_png import draw_png, draw_svg
from desktop_app.ui.theme import notifier, scheme

MARGIN = 20


def diagram_font() -> QFont:
    """The font boxes are drawn (and measured) in: the system's fixed-width font."""
    font = QFont("Monospace")
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    font.setPointSizeF(9.0)
    return font


def text_measure(font: QFont) -> TextMeasure:
    """A thread-safe width function for `font`: character widths read now, on the UI thread, then summed
    (the layout runs in a worker thread, where Qt's font metrics should not be used)."""
    metrics = QFontMetricsF(font)
    bold = QFont(font)
    bold.setBold(True)
    bold_metrics = QFontMetricsF(bold)
    widths = {
        chr(c): max(metrics.horizontalAdvance(chr(c)), bold_metrics.horizontalAdvance(chr(c)))
        for c in range(32, 127)
    }
    wide = max(widths.values())

    def measure(text: str) -> float:
        return sum(widths.get(ch, wide) for ch in text)

    return measure


#: Where a box item keeps its table's name (`QGraphicsItem.data`).
NAME_KEY = 0


def table_item(box: Box, font: QFont) -> QGraphicsRectItem:
    """One table's box: a coloured header with its name, then a line per column.

    Built from Qt's own items, not a Python subclass: a scene torn down by Qt must never call back into
    Python (a subclass's `paint`/`boundingRect` then crashes the process at exit).
    """
    frame = QGraphicsRectItem(0, 0, box.width, box.height)
    frame.setPos(box.x, box.y)
    colours = scheme()
    frame.setPen(QPen(QColor(colours.diagram_frame), 1))
    frame.setBrush(QBrush(QColor(colours.diagram_box)))
    frame.setData(NAME_KEY, box.name)
    frame.setToolTip(f"{box.title}\nClick to browse it")
    frame.setCursor(Qt.CursorShape.PointingHandCursor)
    header = QGraphicsRectItem(0, 0, box.width, HEADER_HEIGHT, frame)
    header.setPen(QPen(QColor(colours.diagram_frame), 1))
    fill = colours.diagram_fill
    header.setBrush(QBrush(QColor(fill.get(box.kind, fill["other"]))))
    bold = QFont(font)
    bold.setBold(True)
    _text(frame, box.title, bold, 0, HEADER_HEIGHT)
    for i, line in enumerate(box.lines()):
        _text(frame, line, font, HEADER_HEIGHT + i * LINE_HEIGHT, LINE_HEIGHT)
    return frame


def _text(parent: QGraphicsItem, text: str, font: QFont, top: float, height: float) -> None:
    item = QGraphicsSimpleTextItem(text, parent)
    item.setFont(font)
    item.setBrush(QBrush(QColor(scheme().diagram_text)))
    item.setPos(PADDING, top + (height - item.boundingRect().height()) / 2)


def edge_item(points: list[tuple[float, float]], inferred: bool) -> QGraphicsPathItem:
    """A polyline from the child to the parent with an arrow head at the parent."""
    path = QPainterPath(QPointF(*points[0]))
    for x, y in points[1:]:
        path.lineTo(x, y)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    line = QPointF(x1 - x0, y1 - y0)
    length = max(1e-6, (line.x() ** 2 + line.y() ** 2) ** 0.5)
    ux, uy = line.x() / length, line.y() / length
    tip = QPointF(x1, y1)
    head = QPolygonF(
        [
            tip,
            QPointF(x1 - 9 * ux + 4 * uy, y1 - 9 * uy - 4 * ux),
            QPointF(x1 - 9 * ux - 4 * uy, y1 - 9 * uy + 4 * ux),
            tip,
        ]
    )
    item = QGraphicsPathItem(path)
    colour = QColor(scheme().diagram_inferred if inferred else scheme().diagram_edge)
    pen = QPen(colour, 1.3)
    if inferred:
        pen.setStyle(Qt.PenStyle.DashLine)
    item.setPen(pen)
    item.setZValue(-1)
    arrow = QGraphicsPolygonItem(head, item)  # filled, apart from the line (a bent line must stay unfilled)
    arrow.setPen(QPen(colour, 1))
    arrow.setBrush(QBrush(colour))
    return item


class DiagramView(QGraphicsView):
    """Zoom (wheel, Ctrl+plus/minus, fit), pan (drag), and a click on a table asks to browse it."""

    table_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box_font = diagram_font()
        self.diagram: Diagram | None = None
        self.table_items: dict[str, QGraphicsRectItem] = {}
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QBrush(QColor(scheme().diagram_canvas)))
        notifier().changed.connect(self._restyle)
        self._pressed_at: QPoint | None = None
        for keys, slot in (
            (QKeySequence.StandardKey.ZoomIn, self.zoom_in),
            ("Ctrl+=", self.zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
            ("Ctrl+0", self.fit),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def show_diagram(self, diagram: Diagram | None) -> None:
        """Draw `diagram` (None: clear)."""
        scene = self.scene()
        scene.clear()
        self.table_items = {}
        self.diagram = diagram
        if diagram is None:
            return
        for edge in diagram.edges:
            if len(edge.points) >= 2:
                scene.addItem(edge_item(edge.points, edge.inferred))
        for box in diagram.boxes:
            item = table_item(box, self.box_font)
            scene.addItem(item)
            self.table_items[box.name] = item
        scene.setSceneRect(QRectF(-MARGIN, -MARGIN, diagram.width + 2 * MARGIN, diagram.height + 2 * MARGIN))

    def _restyle(self) -> None:
        """The theme changed: draw the diagram again in its colours, at the same zoom and place."""
        self.setBackgroundBrush(QBrush(QColor(scheme().diagram_canvas)))
        centre = self.mapToScene(self.viewport().rect().center())
        self.show_diagram(self.diagram)
        self.centerOn(centre)

    def zoom(self) -> float:
        """The current scale (1.0 = actual size)."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by `factor`, kept between 2% and 400%."""
        wanted = min(4.0, max(0.02, self.zoom() * factor))
        self.scale(wanted / self.zoom(), wanted / self.zoom())

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.zoom_by(0.8)

    def fit(self) -> None:
        """Show the whole diagram (never larger than actual size)."""
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        self.centerOn(rect.center())

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The wheel zooms around the mouse (the scroll bars still scroll by dragging)."""
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Remember where a press began: a press and release in place is a click."""
        self._pressed_at = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click (not a drag) on a table asks to browse it."""
        super().mouseReleaseEvent(event)
        start, self._pressed_at = self._pressed_at, None
        point = event.position().toPoint()
        if event.button() != Qt.MouseButton.LeftButton or start is None:
            return
        if (point - start).manhattanLength() > 4:
            return
        name = self.table_at(point)
        if name is not None:
            self.table_clicked.emit(name)

    def table_at(self, point: QPoint) -> str | None:
        """The table whose box is under `point` (viewport coordinates)."""
        for item in self.items_at(point):
            name = item.topLevelItem().data(NAME_KEY)
            if isinstance(name, str):
                return name
        return None

    def items_at(self, point: QPoint) -> list[QGraphicsItem]:
        """The scene's items under `point`."""
        return self.items_under(self.mapToScene(point))

    def items_under(self, scene_point: QPointF) -> list[QGraphicsItem]:
        """The scene's items under `scene_point`."""
        return self.scene().items(scene_point)

    def view_point_of(self, name: str) -> QPoint | None:
        """Where the centre of table `name`'s header is on screen (for tests and tours)."""
        item = self.table_items.get(name)
        if item is None:
            return None
        return self.mapFromScene(item.pos() + QPointF(item.rect().width() / 2, HEADER_HEIGHT / 2))

    def svg_bytes(self, title: str) -> bytes:
        """The scene drawn into an SVG document (Qt's SVG generator)."""
        rect = self.scene().sceneRect()
        return draw_svg(rect.width(), rect.height(), title, self._render)

    def png_bytes(self, max_pixels: int) -> bytes:
        """The scene drawn into a PNG at actual size (scaled down beyond `max_pixels`)."""
        rect = self.scene().sceneRect()
        return draw_png(rect.width(), rect.height(), max_pixels, self._render)

    def _render(self, painter: QPainter, target: QRectF) -> None:
        self.scene().render(painter, target, self.scene().sceneRect())
