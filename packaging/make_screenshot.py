"""Render the README screenshot from the real app (offscreen): `python packaging/make_screenshot.py [OUT]`.

It shows what `snapshot-browser --demo` opens. Install an emoji font (Debian: fonts-noto-color-emoji)
first, or the demo's 🎉 table name shows as a box.
"""

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
    """Open the demo as `snapshot-browser --demo` does (building it first if needed) and save the window."""
    from desktop_app.ui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(QSettings(str(Path(folder) / "shot.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 760)
        window.show()
        window.open_demo()
        browse = window.panes["browse"]
        while (
            window.session.snapshot is None or window.session.busy or getattr(browse, "table", None) is None
        ):
            await asyncio.sleep(0.05)
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
