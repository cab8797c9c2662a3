"""Screenshots of every pane in the light and dark themes at 1024×600 and 1920×1080, for a reviewer.

    python -m tests.screenshots OUTDIR [--panes browse,sql] [--themes dark] [--sizes 1024x600] [--rows N]

Runs offscreen. The demo database is built into a temporary folder (with `--rows` events; the settings go
there too), each pane is given something to show (a table, a query's results, search hits, a blob, a
comparison with changed rows…), and `OUTDIR/<pane>-<light|dark>-<width>x<height>.png` is written for each.
A window that cannot be as small as asked is shot at the size it takes, and the run says so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZES = ((1024, 600), (1920, 1080))
THEMES = ("light", "dark")
#: Events in the demo's big table: enough to show a real count, quick to build.
DEFAULT_ROWS = 20_000
#: Seconds a pane may take to show its content before it is shot as it is.
SETTLE_S = 20.0


async def _until(condition: Callable[[], object], timeout: float = SETTLE_S) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _changed_copy(demo: Path, folder: Path) -> Path:
    """A copy of the demo with a few rows added, removed and changed, for the Changes pane."""
    after = folder / "demo-after.sqlite3"
    shutil.copyfile(demo, after)
    conn = sqlite3.connect(after)
    try:
        conn.executescript(
            """
            UPDATE customers SET country = 'Iceland', notes = 'moved' WHERE id IN (2, 5, 9);
            DELETE FROM customers WHERE id IN (3, 7);
            INSERT INTO customers (name, email, country, created_at, notes)
                VALUES ('Hedy Lamarr', 'hedy@example.com', 'Austria', '2024-05-01', 'new');
            """
        )
        conn.commit()
    finally:
        conn.close()
    return after


async def _shown_as_it_is() -> None:
    return None


def _delete_some_customers(demo: Path) -> None:
    """Delete a few customers from the demo copy, so the Recovered pane has deleted records to show."""
    conn = sqlite3.connect(demo)
    try:
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute("DELETE FROM customers WHERE id % 40 = 0")
        conn.commit()
    finally:
        conn.close()


def _stagers(window: object, demo: Path, folder: Path) -> dict[str, Callable[[], Awaitable[None]]]:
    """For each pane, what to do once so that its shot shows content."""
    from desktop_app.ui.panes.changes.sides import Side

    panes = window.panes  # type: ignore[attr-defined]

    async def browse() -> None:
        panes.browse.show_table("orders")
        await _until(lambda: panes.browse.model.rowCount() > 0 and panes.browse.model.is_loaded(0))
        panes.browse.view.selectRow(2)

    async def sql() -> None:
        panes.sql.set_sql(
            "-- Orders per country, biggest first\n"
            "SELECT c.country, count(*) AS orders, round(sum(i.quantity * p.price), 2) AS total\n"
            "FROM orders o\n  JOIN customers c ON c.id = o.customer_id\n"
            "  JOIN order_items i ON i.order_id = o.id\n  JOIN products p ON p.id = i.product_id\n"
            "GROUP BY c.country\nORDER BY total DESC;"
        )
        panes.sql.run_all()
        await _until(lambda: not panes.sql.running)

    async def search() -> None:
        panes.search.query.setText("Ada")
        panes.search.search_now()
        await _until(lambda: not panes.search.searching)

    async def functions() -> None:
        table = panes.functions.browser.table
        await _until(lambda: table.model() is not None and table.model().rowCount() > 0)
        table.selectRow(0)

    async def blobs() -> None:
        panes.blobs.show_cell("images", "data", {"rowid": 1}, None)
        await _until(lambda: panes.blobs.summary is not None)

    async def migrations() -> None:
        await _until(lambda: panes.migrations.selected_status() is not None, timeout=5)

    async def structure() -> None:
        await _until(lambda: not panes.structure.busy, timeout=30)

    async def changes() -> None:
        pane = panes.changes
        other = pane.add_other_file(_changed_copy(demo, folder))
        pane.choose(pane.side_a, Side("current"))
        pane.choose(pane.side_b, other)
        pane.compare_selected()
        if await _until(lambda: pane.diff is not None):
            pane.select_table("customers")
            await _until(lambda: pane.model.rowCount() > 0 and pane.model.is_loaded(0))

    async def recovery() -> None:
        panes.recovery.scan()
        await _until(lambda: panes.recovery.job is None or panes.recovery.job.done)

    return {
        "browse": browse,
        "sql": sql,
        "search": search,
        "functions": functions,
        "blobs": blobs,
        "migrations": migrations,
        "structure": structure,
        "changes": changes,
        "recovery": recovery,
    }


async def shoot(
    outdir: Path,
    panes: Sequence[str] | None = None,
    themes: Sequence[str] = THEMES,
    sizes: Sequence[tuple[int, int]] = SIZES,
    rows: int = DEFAULT_ROWS,
    report: Callable[[str], object] = print,
) -> list[Path]:
    """Write the screenshots into `outdir` (created); returns their paths. Runs on a qasync loop."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.demo.database import build_demo_database
    from desktop_app.ui.main_window import MainWindow
    from desktop_app.ui.theme import ThemeChoice, apply_theme, current_choice

    outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    previous_theme = current_choice()
    with tempfile.TemporaryDirectory(prefix="ssb-shots-") as temp:
        folder = Path(temp)
        demo = folder / "demo.sqlite3"
        build_demo_database(demo, rows=rows)
        _delete_some_customers(demo)
        window = MainWindow(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        window.show()
        try:
            window.open_path(demo)
            await _until(lambda: window.session.snapshot is not None and not window.session.busy)
            stagers = _stagers(window, demo, folder)
            chosen = [name for name in (panes or list(window.panes)) if name in window.panes]
            for name in chosen:  # each pane shown once first, so it loads what it shows
                window.show_pane(window.panes[name])
                await stagers.get(name, _shown_as_it_is)()  # a new pane without a stager
            for theme_name in themes:
                apply_theme(ThemeChoice(theme_name))
                for width, height in sizes:
                    window.resize(width, height)
                    for name in chosen:
                        window.show_pane(window.panes[name])
                        await _until(lambda: not window.context.jobs.jobs, timeout=5)
                        await asyncio.sleep(0.15)  # layout and paint
                        QApplication.processEvents()
                        path = outdir / f"{name}-{theme_name}-{width}x{height}.png"
                        window.grab().save(str(path))
                        written.append(path)
                        if (window.width(), window.height()) != (width, height):
                            report(f"{path.name}: the window took {window.width()}×{window.height()}")
        finally:
            await window.context.jobs.wait_all()
            window.close()
            await window.session.shutdown()
            apply_theme(previous_theme)
    return written


def _size(text: str) -> tuple[int, int]:
    width, _x, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: Sequence[str] | None = None) -> int:
    """Take the screenshots; exit status 0, or 1 with one line on stderr."""
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--panes", help="comma-separated pane names (default: every pane)")
    parser.add_argument("--themes", default=",".join(THEMES), help="light,dark (default both)")
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES), help="WxH,WxH")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="events in the demo database")
    args = parser.parse_args(argv)
    import qasync
    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.gui_thread_gc import collect_garbage_on_gui_thread

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)  # closing the window at the end must not stop the loop early
    collect_garbage_on_gui_thread(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            written = loop.run_until_complete(
                shoot(
                    args.outdir,
                    panes=args.panes.split(",") if args.panes else None,
                    themes=[t for t in args.themes.split(",") if t],
                    sizes=[_size(s) for s in args.sizes.split(",") if s],
                    rows=args.rows,
                )
            )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} screenshots in {args.outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
