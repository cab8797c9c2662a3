"""JSON (one array of objects) and JSON Lines (one object a line) export.

Integers stay integers and floats are written so they read back as the same float (`-0.0`, `1e+308`);
infinities, which JSON cannot hold, become the strings `"Infinity"`/`"-Infinity"`; NULL is `null`;
blobs are base64 strings (hex on request); invalid UTF-8 text has U+FFFD where bytes were bad.
Duplicate column names get `_2`, `_3`, … so no value is lost to a repeated key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import (
    BlobEncoding,
    FormatWriter,
    Page,
    SettingsMixin,
    float_text,
    unique_names,
)


@dataclass(frozen=True)
class JsonOptions(SettingsMixin):
    """How JSON and JSON Lines write what JSON has no type for."""

    blobs: BlobEncoding = BlobEncoding.BASE64


#: Separates items while a page is encoded in one call: JSON escapes every control character inside
#: strings, so a raw U+001F can only be a separator (between rows: after `}` and before `{`).
_MARK = "\x1f"


class _Encoder:
    """Row objects as JSON text; a page is encoded in one C call unless it holds an infinity."""

    def __init__(self, columns: Sequence[str], options: JsonOptions) -> None:
        self.keys = unique_names(columns)
        encode_blob = options.blobs.encoder()

        def default(value: Any) -> Any:
            if isinstance(value, bytes | bytearray | memoryview):
                return encode_blob(bytes(value))
            raise TypeError(f"{type(value).__name__} is not a SQLite value")

        def encoder(**kwargs: Any) -> Any:
            return json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=default, **kwargs).encode

        self._page = encoder(separators=("," + _MARK, ": "))
        self._row = encoder()

    def _safe(self, value: Any) -> Any:
        if type(value) is float and math.isinf(value):
            return float_text(value)
        return value

    def rows(self, page: Page, separator: str) -> str:
        """The rows of `page` as JSON objects joined by `separator`."""
        objects = list(map(dict, map(zip, repeat(self.keys), page)))
        try:
            text = self._page(objects)
        except ValueError:  # an infinity (allow_nan=False): convert this page's floats, then encode
            return separator.join(self._row({k: self._safe(v) for k, v in row.items()}) for row in objects)
        # Between rows `},<mark>{`; between a row's fields `,<mark>"` (a key follows).
        return text[1:-1].replace("}," + _MARK + "{", "}" + separator + "{").replace("," + _MARK, ", ")


class JsonLinesWriter(FormatWriter):
    """One JSON object per line (JSON Lines, `.jsonl`)."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: JsonOptions) -> None:
        super().__init__(output, columns)
        self._encoder = _Encoder(self.columns, options)
        self._file = output.text()

    def write_page(self, page: Page) -> None:
        """Write each row of `page` as an object on its own line."""
        if page:
            self._file.write(self._encoder.rows(page, "\n") + "\n")


class JsonWriter(FormatWriter):
    """One JSON array of objects, one object a line."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: JsonOptions) -> None:
        super().__init__(output, columns)
        self._encoder = _Encoder(self.columns, options)
        self._file = output.text()
        self._file.write("[")
        self._first = True

    def write_page(self, page: Page) -> None:
        """Write each row of `page` as an object of the array."""
        if not page:
            return
        self._file.write(("\n" if self._first else ",\n") + self._encoder.rows(page, ",\n"))
        self._first = False

    def finish(self) -> None:
        """Close the array."""
        self._file.write("]\n" if self._first else "\n]\n")
