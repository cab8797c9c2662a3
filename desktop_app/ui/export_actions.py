"""CSV export from anywhere in the window: the options dialog, then a job that streams every row to the file.

Used by the SQL pane's result tabs, File → Export and the schema tree's context menu. The export runs
the statement again on the snapshot (all rows, not what a grid fetched), counts first when it can so
progress is determinate, and on Stop or failure leaves no file (the core writes to a hidden temporary
file and renames it into place only when complete).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from desktop_app.core.errors import Cancelled, QueryError, UserError
from desktop_app.core.export.csv_file import CsvOptions, ExportResult, export_query_csv
from desktop_app.core.progress import Progress
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.settings import read_str
from desktop_app.ui.widgets.csv_export_dialog import CsvExportDialog
from desktop_app.ui.widgets.error_dialog import show_user_error

SETTINGS_GROUP = "csv_export"
_FOLDER_KEY = f"{SETTINGS_GROUP}/folder"
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')

Notify = Callable[[str], None]


def load_csv_options(settings: QSettings) -> CsvOptions:
    """The CSV options the user chose last (defaults the first time)."""
    stored: dict[str, object] = {}
    for key in CsvOptions().to_settings():
        value = settings.value(f"{SETTINGS_GROUP}/{key}")
        if value is not None:
            stored[key] = value
    return CsvOptions.from_settings(stored)


def save_csv_options(settings: QSettings, options: CsvOptions) -> None:
    """Remember `options` for the next export."""
    for key, value in options.to_settings().items():
        settings.setValue(f"{SETTINGS_GROUP}/{key}", value)


def safe_file_name(name: str) -> str:
    """`name` usable as a file name on every system (no slashes, colons, control characters)."""
    cleaned = _UNSAFE_FILE_CHARS.sub("_", name).strip(" ._")
    return cleaned[:100] or "export"


def _default_path(settings: QSettings, suggested_name: str) -> str:
    folder = read_str(settings, _FOLDER_KEY)
    base = Path(folder) if folder and Path(folder).is_dir() else Path.home()
    return str(base / f"{safe_file_name(suggested_name)}.csv")


def _size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size:,} bytes"


def _default_notify(parent: QWidget | None) -> Notify:
    window = parent.window() if parent is not None else None
    status_bar = getattr(window, "statusBar", None)
    if callable(status_bar):
        return lambda text: status_bar().showMessage(text, 10000)
    return lambda _text: None


def start_csv_export(
    parent: QWidget | None,
    context: AppContext,
    sql: str,
    suggested_name: str,
    *,
    total_rows: int | None = None,
    notify: Notify | None = None,
    description: str | None = None,
) -> CsvExportDialog:
    """Open the CSV options dialog for `sql` (non-modal); on Export, run the export as a job.

    `total_rows` skips the count when the caller already knows it; `description` completes "Export every row
    of …" (default: the name). The job is in `dialog.job` once started.
    """
    options = load_csv_options(context.settings)
    path = _default_path(context.settings, suggested_name)
    source_path = context.database.snapshot.path if context.database is not None else None
    dialog = CsvExportDialog(parent, options, path, description or suggested_name, source_path)
    dialog.setWindowTitle(f"Export {suggested_name} as CSV")

    def on_export(path: str, chosen: CsvOptions) -> None:
        save_csv_options(context.settings, chosen)
        context.settings.setValue(_FOLDER_KEY, str(Path(path).absolute().parent))
        dialog.job = run_csv_export(
            context, sql, path, chosen, total_rows=total_rows, parent=parent, notify=notify
        )

    dialog.export_requested.connect(on_export)
    dialog.open()
    return dialog


def run_csv_export(
    context: AppContext,
    sql: str,
    path: str,
    options: CsvOptions,
    *,
    total_rows: int | None = None,
    parent: QWidget | None = None,
    notify: Notify | None = None,
) -> Job | None:
    """Export every row of `sql` to `path` as a job (counting first for determinate progress)."""
    tell = notify or _default_notify(parent)
    database = context.database
    if database is None:
        tell("No database is open.")
        return None
    name = Path(path).name

    async def work(job: Job) -> ExportResult:
        progress = job.progress_callback()
        token = job.cancel_token
        total = total_rows
        query = NestedQuery.of(sql)
        if total is None and query is not None:
            progress(Progress(0, None, "Counting rows"))
            try:
                total = await database.run_sync(query.count, token, cancel=token)
            except Cancelled:
                raise
            except QueryError:
                total = None  # the export itself will report what is wrong with the statement
        export = functools.partial(export_query_csv, source_path=database.snapshot.path)
        return await database.run_sync(export, sql, (), path, options, progress, token, total, cancel=token)

    def done(result: ExportResult) -> None:
        tell(
            f"Exported {result.rows:,} rows to {result.path} ({_size_text(result.bytes)}) "
            f"in {result.elapsed:,.1f} s."
        )

    def failed(error: UserError) -> None:
        if isinstance(error, Cancelled):
            tell(f"Export of {name} stopped; no file was written.")
            return
        tell(f"Export of {name} failed: {error.message}")
        show_user_error(parent, "CSV export failed", error)

    return context.jobs.start(f"Exporting {name}", work, on_done=done, on_error=failed)
