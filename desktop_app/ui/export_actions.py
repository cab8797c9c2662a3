"""Export from anywhere in the window: the export dialog, then a job that streams every row to the file.

Used by the SQL pane's result tabs, File → Export, Browse and the schema tree's context menu. The export runs
the statement again on the snapshot (all rows, not what a grid fetched), counts first when it can so
progress is determinate, and on Stop or failure leaves no file (the core writes to a hidden temporary
file and renames it into place only when complete).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from desktop_app.core.errors import Cancelled, QueryError, UserError
from desktop_app.core.export.csv_file import CsvOptions
from desktop_app.core.export.formats import ExportFormat, Options, available, options_from_settings
from desktop_app.core.export.run import export_query
from desktop_app.core.export.writer import ExportResult
from desktop_app.core.progress import Progress
from desktop_app.core.sqlite.nested_query import NestedQuery
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.settings import read_str
from desktop_app.ui.widgets.error_dialog import show_user_error
from desktop_app.ui.widgets.export_dialog import ExportDialog

SETTINGS_GROUP = "csv_export"
_FOLDER_KEY = f"{SETTINGS_GROUP}/folder"
_FORMAT_KEY = "export/format"
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')

Notify = Callable[[str], None]


def _group(fmt: ExportFormat) -> str:
    # CSV keeps the group it always had, so options remembered before other formats existed still apply.
    return SETTINGS_GROUP if fmt is ExportFormat.CSV else f"export_{fmt.value}"


def load_export_options(settings: QSettings, fmt: ExportFormat) -> Options:
    """The options of `fmt` the user chose last (defaults the first time)."""
    stored: dict[str, object] = {}
    settings.beginGroup(_group(fmt))
    try:
        for key in settings.childKeys():
            stored[key] = settings.value(key)
    finally:
        settings.endGroup()
    return options_from_settings(fmt, stored)


def save_export_options(settings: QSettings, fmt: ExportFormat, options: Options) -> None:
    """Remember `options` of `fmt` for the next export."""
    for key, value in options.to_settings().items():
        settings.setValue(f"{_group(fmt)}/{key}", value)


def load_csv_options(settings: QSettings) -> CsvOptions:
    """The CSV options the user chose last (defaults the first time)."""
    return load_export_options(settings, ExportFormat.CSV)


def save_csv_options(settings: QSettings, options: CsvOptions) -> None:
    """Remember `options` for the next CSV export."""
    save_export_options(settings, ExportFormat.CSV, options)


def last_format(settings: QSettings) -> ExportFormat:
    """The format chosen last (CSV the first time, or when that format is no longer installed)."""
    try:
        fmt = ExportFormat(read_str(settings, _FORMAT_KEY, ExportFormat.CSV.value))
    except ValueError:
        return ExportFormat.CSV
    return fmt if available(fmt) else ExportFormat.CSV


def safe_file_name(name: str) -> str:
    """`name` usable as a file name on every system (no slashes, colons, control characters)."""
    cleaned = _UNSAFE_FILE_CHARS.sub("_", name).strip(" ._")
    return cleaned[:100] or "export"


def _default_path(settings: QSettings, suggested_name: str, fmt: ExportFormat) -> str:
    folder = read_str(settings, _FOLDER_KEY)
    base = Path(folder) if folder and Path(folder).is_dir() else Path.home()
    return str(base / f"{safe_file_name(suggested_name)}{fmt.info.extension}")


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


def start_export(
    parent: QWidget | None,
    context: AppContext,
    sql: str,
    suggested_name: str,
    *,
    params: Sequence[Any] | Mapping[str, Any] = (),
    total_rows: int | None = None,
    notify: Notify | None = None,
    description: str | None = None,
    fmt: ExportFormat | None = None,
) -> ExportDialog:
    """Open the export dialog for `sql` (non-modal); on Export, run the export as a job.

    `fmt` preselects a format (default: the one chosen last). `total_rows` skips the count when the caller
    already knows it; `description` completes "Export every row of …" (default: the name). The job is in
    `dialog.job` once started.
    """
    settings = context.settings
    chosen_format = fmt or last_format(settings)
    options = {each: load_export_options(settings, each) for each in ExportFormat if available(each)}
    if suggested_name:  # the SQL statements fill a table named after what is exported
        options[ExportFormat.SQL] = replace(options[ExportFormat.SQL], table=suggested_name)
    path = _default_path(settings, suggested_name, chosen_format)
    source_path = context.database.snapshot.path if context.database is not None else None
    what = description or suggested_name
    dialog = ExportDialog(parent, options, path, what, source_path, chosen_format)

    def on_export(path: str, chosen_format: ExportFormat, chosen: Options) -> None:
        save_export_options(settings, chosen_format, chosen)
        settings.setValue(_FORMAT_KEY, chosen_format.value)
        settings.setValue(_FOLDER_KEY, str(Path(path).absolute().parent))
        dialog.job = run_export_job(
            context,
            sql,
            path,
            chosen_format,
            chosen,
            params=params,
            total_rows=total_rows,
            parent=parent,
            notify=notify,
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
    """Export every row of `sql` to `path` as CSV, as a job."""
    return run_export_job(
        context, sql, path, ExportFormat.CSV, options, total_rows=total_rows, parent=parent, notify=notify
    )


def run_export_job(
    context: AppContext,
    sql: str,
    path: str,
    fmt: ExportFormat,
    options: Options,
    *,
    params: Sequence[Any] | Mapping[str, Any] = (),
    total_rows: int | None = None,
    parent: QWidget | None = None,
    notify: Notify | None = None,
) -> Job | None:
    """Export every row of `sql` to `path` in `fmt` as a job (counting first for determinate progress)."""
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
        query = NestedQuery.of(sql) if not params else None
        if total is None and query is not None:
            progress(Progress(0, None, "Counting rows"))
            try:
                total = await database.run_sync(query.count, token, cancel=token)
            except Cancelled:
                raise
            except QueryError:
                total = None  # the export itself will report what is wrong with the statement
        export = functools.partial(
            export_query,
            progress=progress,
            cancel=token,
            total_rows=total,
            source_path=database.snapshot.path,
        )
        return await database.run_sync(export, sql, params, path, fmt, options, cancel=token)

    def done(result: ExportResult) -> None:
        notes = "".join(f" {note}" for note in result.notes)
        tell(
            f"Exported {result.rows:,} rows to {result.path} ({_size_text(result.bytes)}) "
            f"in {result.elapsed:,.1f} s.{notes}"
        )

    def failed(error: UserError) -> None:
        if isinstance(error, Cancelled):
            tell(f"Export of {name} stopped; no file was written.")
            return
        tell(f"Export of {name} failed: {error.message}")
        show_user_error(parent, f"{fmt.info.label} export failed", error)

    return context.jobs.start(f"Exporting {name}", work, on_done=done, on_error=failed)
