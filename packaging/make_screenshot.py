"""Render the README screenshot from the real app (offscreen): `python packaging/make_screenshot.py [OUT]`."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]


async def capture(out: Path) -> None:
    from desktop_app.core.demo.database import ensure_demo_database
    from desktop_app.ui.main_window import MainWindow

    path = await asyncio.to_thread(ensure_demo_database)
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "shot.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.resize(1280, 760)
    window.show()
    window.open_path(path)
    while window.session.snapshot is None or window.session.busy:
        await asyncio.sleep(0.05)
    window.browse_table("events")
    await asyncio.sleep(2.0)  # first pages and row counts arrive
    window.grab().save(str(out))
    window.close()
    await window.session.shutdown()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshot.png"
    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(capture(out))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
