"""SVG → PNG with Qt's SVG renderer: for the window's export, and run as a program by the headless CLI.

`snapshot-browser-cli erd --out X.png` may not import Qt (import-linter keeps the CLI headless), so it
writes the SVG from the core and runs `python -m desktop_app.ui.svg_png` (SVG on stdin, PNG on stdout)
in a child process; without PySide6 the child exits with `NO_QT` and the CLI says to use .svg.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import Any

NO_QT = 3  #: exit status of the program when PySide6 cannot be imported


def png_scale(width: float, height: float, max_pixels: int, wanted: float = 1.0) -> float:
    """The scale at which a `width` × `height` picture fits in `max_pixels` (at most `wanted`)."""
    area = max(1.0, width * height)
    return min(wanted, math.sqrt(max_pixels / area))


def draw_png(width: float, height: float, max_pixels: int, draw: Callable[[Any, Any], None]) -> bytes:
    """PNG bytes of a white `width` × `height` picture (scaled down beyond `max_pixels`), painted by
    `draw(painter, target QRectF)`."""
    from PySide6.QtCore import QBuffer, QIODevice, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    from desktop_app.ui.theme import EXPORT_BACKGROUND

    factor = png_scale(width, height, max_pixels)
    image = QImage(max(1, round(width * factor)), max(1, round(height * factor)), QImage.Format.Format_RGB32)
    image.fill(QColor(EXPORT_BACKGROUND))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    draw(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data().data())


def draw_svg(width: float, height: float, title: str, draw: Callable[[Any, Any], None]) -> bytes:
    """An SVG document of a `width` × `height` picture painted by `draw(painter, target QRectF)`."""
    from PySide6.QtCore import QBuffer, QIODevice, QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(width), int(height)))
    generator.setViewBox(QRectF(0, 0, width, height))
    generator.setTitle(title)
    painter = QPainter(generator)
    draw(painter, QRectF(0, 0, width, height))
    painter.end()
    return bytes(buffer.data().data())


def svg_to_png(svg: bytes, max_pixels: int) -> bytes:
    """Render `svg` to PNG bytes at its own size (smaller when it would exceed `max_pixels`)."""
    from PySide6.QtCore import QByteArray
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("not an SVG picture")
    size = renderer.defaultSize()
    return draw_png(size.width(), size.height(), max_pixels, renderer.render)


def main() -> int:
    """Read SVG on stdin, write PNG on stdout; the first argument is the pixel limit."""
    try:
        from PySide6.QtGui import QGuiApplication
    except ImportError:
        return NO_QT
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(["svg_png"])
    max_pixels = int(sys.argv[1]) if len(sys.argv) > 1 else 32_000_000
    data = svg_to_png(sys.stdin.buffer.read(), max_pixels)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
