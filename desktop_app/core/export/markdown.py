"""Markdown table export (GitHub-flavoured pipes), for pasting a result into an issue or a document.

Every value becomes text: `|` is escaped as `\\|`, line breaks become `<br>`, NULL is written as the
options' text (`NULL`), blobs as base64 (or hex). Markdown has no types, so reading it back gives text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import BlobEncoding, FormatWriter, Page, SettingsMixin, float_text


@dataclass(frozen=True)
class MarkdownOptions(SettingsMixin):
    """What Markdown writes for NULL and blobs."""

    null: str = "NULL"
    blobs: BlobEncoding = BlobEncoding.HEX


def markdown_cell(text: str) -> str:
    """`text` safe inside a Markdown table cell."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r\n", "<br>")
        .replace("\n", "<br>")
        .replace("\r", "<br>")
    )


def cell_text(options: MarkdownOptions) -> Callable[[Any], str]:
    """The function that turns one SQLite value into Markdown cell text."""
    encode_blob = options.blobs.encoder()

    def convert(value: Any) -> str:
        if value is None:
            return options.null
        if isinstance(value, bytes | bytearray):
            return encode_blob(bytes(value))
        if isinstance(value, float):
            return float_text(value)
        return markdown_cell(str(value))

    return convert


def markdown_lines(
    columns: Sequence[str], rows: Page, options: MarkdownOptions, *, header: bool = True
) -> str:
    """Markdown table text: the header and rule (when `header`) and one line per row."""
    convert = cell_text(options)
    lines = []
    if header:
        lines.append("| " + " | ".join(markdown_cell(str(c)) or " " for c in columns) + " |")
        lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines.extend("| " + " | ".join(map(convert, row)) + " |" for row in rows)
    return "\n".join(lines) + "\n" if lines else ""


class MarkdownWriter(FormatWriter):
    """A Markdown table, the header first."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: MarkdownOptions) -> None:
        super().__init__(output, columns)
        self._options = options
        self._file = output.text()
        self._file.write(markdown_lines(self.columns, [], options))

    def write_page(self, page: Page) -> None:
        """Write each row of `page` as a table line."""
        self._file.write(markdown_lines(self.columns, page, self._options, header=False))
