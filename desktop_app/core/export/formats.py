"""The export formats: name, label, file extension, options type, and the writer of each.

Writers are imported only when used, so xlsxwriter and pyarrow load only for their own exports, and
Parquet is offered only where pyarrow is installed (`available`).
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import ExportError

if TYPE_CHECKING:
    from desktop_app.core.export.atomic import AtomicOutput
    from desktop_app.core.export.writer import FormatWriter

#: Options of any format (CsvOptions, JsonOptions, …): frozen dataclasses with `to_settings`.
Options = Any


@dataclass(frozen=True)
class FormatInfo:
    """How a format is named, saved and written."""

    label: str
    extension: str  #: with its dot, e.g. ".csv"
    #: "module:Class" of the options dataclass and of the writer.
    options: str
    writer: str
    #: A module that must be importable for the format, and how to install it.
    requires: str | None = None
    install_hint: str = ""


_PARQUET_HINT = (
    'Parquet needs pyarrow: pip install "sqlite-snapshot-browser[parquet]" (or pip install pyarrow).'
)


class ExportFormat(enum.Enum):
    """Every format a result can be exported to (the value is the CLI's `--format` name)."""

    CSV = "csv"
    TSV = "tsv"
    JSON = "json"
    JSONL = "jsonl"
    MARKDOWN = "markdown"
    XLSX = "xlsx"
    SQL = "sql"
    PARQUET = "parquet"

    @property
    def info(self) -> FormatInfo:
        """Label, extension and implementation of this format."""
        return _INFO[self]


_M = "desktop_app.core.export."
_INFO = {
    ExportFormat.CSV: FormatInfo("CSV", ".csv", _M + "csv_file:CsvOptions", _M + "csv_file:CsvWriter"),
    ExportFormat.TSV: FormatInfo("TSV", ".tsv", _M + "csv_file:TsvOptions", _M + "csv_file:CsvWriter"),
    ExportFormat.JSON: FormatInfo("JSON", ".json", _M + "json_file:JsonOptions", _M + "json_file:JsonWriter"),
    ExportFormat.JSONL: FormatInfo(
        "JSON Lines", ".jsonl", _M + "json_file:JsonOptions", _M + "json_file:JsonLinesWriter"
    ),
    ExportFormat.MARKDOWN: FormatInfo(
        "Markdown", ".md", _M + "markdown:MarkdownOptions", _M + "markdown:MarkdownWriter"
    ),
    ExportFormat.XLSX: FormatInfo(
        "Excel", ".xlsx", _M + "xlsx:XlsxOptions", _M + "xlsx:XlsxWriter", requires="xlsxwriter"
    ),
    ExportFormat.SQL: FormatInfo("SQL", ".sql", _M + "sql_file:SqlOptions", _M + "sql_file:SqlWriter"),
    ExportFormat.PARQUET: FormatInfo(
        "Parquet",
        ".parquet",
        _M + "parquet:ParquetOptions",
        _M + "parquet:ParquetWriter",
        requires="pyarrow",
        install_hint=_PARQUET_HINT,
    ),
}
_BY_EXTENSION = {fmt.info.extension: fmt for fmt in ExportFormat} | {
    ".ndjson": ExportFormat.JSONL,
    ".markdown": ExportFormat.MARKDOWN,
}


def _load(spec: str) -> Any:
    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


def available(fmt: ExportFormat) -> bool:
    """True if `fmt` can be written here (Parquet needs the optional pyarrow)."""
    requires = fmt.info.requires
    return requires is None or importlib.util.find_spec(requires) is not None


def available_formats() -> list[ExportFormat]:
    """The formats that can be written here, in menu order."""
    return [fmt for fmt in ExportFormat if available(fmt)]


def format_for_path(path: str) -> ExportFormat | None:
    """The format a file name's extension names (`.csv`, `.jsonl`, …), or None."""
    return _BY_EXTENSION.get(PurePath(path).suffix.lower())


def parse_format(name: str) -> ExportFormat:
    """The format called `name` (as the CLI spells it); ExportError for an unknown name."""
    try:
        return ExportFormat(name.lower())
    except ValueError:
        names = ", ".join(fmt.value for fmt in ExportFormat)
        raise ExportError(f"Unknown export format {name!r}: choose one of {names}.") from None


def default_options(fmt: ExportFormat) -> Options:
    """The default options of `fmt`."""
    return _load(fmt.info.options)()


def options_from_settings(fmt: ExportFormat, settings: dict[str, object]) -> Options:
    """Options of `fmt` from remembered settings (missing or invalid ones get their defaults)."""
    return _load(fmt.info.options).from_settings(settings)


def make_writer(
    fmt: ExportFormat, output: AtomicOutput, columns: Sequence[str], options: Options
) -> FormatWriter:
    """The writer of `fmt` for `output`; ExportError if the format is not installed or options don't fit."""
    if not available(fmt):
        raise ExportError(fmt.info.install_hint or f"{fmt.info.label} export is not available here.")
    options_type = _load(fmt.info.options)
    if options is None:
        options = options_type()
    elif not isinstance(options, options_type):
        raise ExportError(f"These options are not {fmt.info.label} options.")
    return _load(fmt.info.writer)(output, columns, options)
