"""An image preview: decoding bytes off the UI thread, then showing them scaled to fit over a checkerboard."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMargins, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop_app.ui.theme import scheme

#: Larger images are shrunk to this many pixels a side while decoding (off the UI thread), so showing
#: and rescaling them on the UI thread stays cheap; the caption still gives the real size.
PREVIEW_MAX_PX = 2048
#: Small images are enlarged by whole factors up to this, pixels kept sharp (a 16 px favicon stays legible).
MAX_UPSCALE = 8
_CHECKER_PX = 8
_MARGINS = QMargins(8, 8, 8, 8)


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded from bytes, or why it could not be (then `image` is null)."""

    image: QImage
    format: str  # "PNG", "JPEG" ...; "" when unknown
    error: str = ""
    width: int = 0  # of the picture itself (`image` may be a shrunk copy)
    height: int = 0

    @property
    def ok(self) -> bool:
        """True when there is a picture to show."""
        return not self.image.isNull()

    def describe(self) -> str:
        """`256 × 256 px · PNG · with transparency`, for a caption."""
        if not self.ok:
            return self.error
        parts = [f"{self.width:,} × {self.height:,} px"]
        if self.format:
            parts.append(self.format)
        if self.image.hasAlphaChannel():
            parts.append("with transparency")
        return " · ".join(parts)


def decode_image(data: bytes, max_side: int = PREVIEW_MAX_PX) -> DecodedImage:
    """Decode `data` with Qt's image plugins, shrunk to `max_side`; safe in a worker thread (QImage only)."""
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)  # honour EXIF orientation, as a photo viewer would
    image_format = bytes(reader.format().data()).decode("ascii", "replace").upper()
    image = reader.read()
    if image.isNull():
        reason = reader.errorString() or "unknown format"
        return DecodedImage(QImage(), image_format, f"Cannot show this as an image: {reason}.")
    width, height = image.width(), image.height()
    if max(width, height) > max_side:
        image = image.scaled(
            max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return DecodedImage(image, "JPEG" if image_format == "JPG" else image_format, "", width, height)


def fit_scale(image: QSize, area: QSize) -> float:
    """The scale fitting `image` in `area`: below 1 to shrink, a whole factor (≤ MAX_UPSCALE) to grow."""
    if image.isEmpty() or area.isEmpty():
        return 1.0
    scale = min(area.width() / image.width(), area.height() / image.height())
    if scale >= 1:
        return float(min(int(scale), MAX_UPSCALE))
    return scale


class _Canvas(QWidget):
    """Paints the image centred and scaled, over a checkerboard that shows transparency."""

    #: The scale changed (new image or new size).
    rescaled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self._scaled = QPixmap()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(64, 64)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self._rescale()
        self.update()

    @property
    def scale(self) -> float:
        return fit_scale(self.image.size(), self._area())

    def _area(self) -> QSize:
        return self.size().shrunkBy(_MARGINS)

    def _rescale(self) -> None:
        if self.image.isNull():
            self._scaled = QPixmap()
            return
        # Scaled to device pixels (2 per point on a 2x screen) so the picture is as sharp as the screen.
        ratio = self.devicePixelRatioF()
        scale = self.scale * ratio
        target = QSize(max(1, round(self.image.width() * scale)), max(1, round(self.image.height() * scale)))
        mode = (
            Qt.TransformationMode.FastTransformation  # whole-factor enlargement: crisp pixels
            if scale >= 1
            else Qt.TransformationMode.SmoothTransformation
        )
        self._scaled = QPixmap.fromImage(
            self.image.scaled(target, Qt.AspectRatioMode.IgnoreAspectRatio, mode)
        )
        self._scaled.setDevicePixelRatio(ratio)
        self.rescaled.emit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Scale once per size, not on every paint."""
        self._rescale()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Checkerboard under the image's rectangle, then the image."""
        if self._scaled.isNull():
            return
        painter = QPainter(self)
        size = self._scaled.deviceIndependentSize().toSize()
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        colours = scheme()
        light, dark = QColor(colours.checker_light), QColor(colours.checker_dark)
        painter.fillRect(target, light)
        painter.setClipRect(target)
        for y in range(target.top(), target.bottom() + 1, _CHECKER_PX):
            for x in range(target.left(), target.right() + 1, _CHECKER_PX):
                if ((x - target.left()) // _CHECKER_PX + (y - target.top()) // _CHECKER_PX) % 2:
                    painter.fillRect(x, y, _CHECKER_PX, _CHECKER_PX, dark)
        painter.setClipping(False)
        painter.drawPixmap(target, self._scaled)
        painter.setPen(QColor(colours.image_frame))
        painter.drawRect(target.adjusted(0, 0, -1, -1))
        painter.end()


class ImageView(QWidget):
    """A decoded image scaled to fit, with a caption (dimensions, format, zoom) or a message instead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = _Canvas()
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)
        self.decoded: DecodedImage | None = None
        self.canvas.rescaled.connect(self._update_caption)

    def show_image(self, decoded: DecodedImage) -> None:
        """Show a decoded image (or its error message)."""
        self.decoded = decoded
        self.canvas.set_image(decoded.image)
        self._update_caption()

    def show_message(self, text: str) -> None:
        """Show no image, only `text` (loading, too large, not an image...)."""
        self.decoded = None
        self.canvas.set_image(QImage())
        self.caption.setText(text)

    def _update_caption(self) -> None:
        decoded = self.decoded
        if decoded is None:
            return
        text = decoded.describe()
        if decoded.ok:
            scale = self.canvas.scale * decoded.image.width() / max(decoded.width, 1)
            if abs(scale - 1) > 1e-3:
                text += f" · shown at {scale * 100:.0f}%"
        self.caption.setText(text)
