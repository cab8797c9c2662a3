"""Parquet export through pyarrow (the optional `[parquet]` extra), written in row groups.

A column's type is fixed by its values in the first row group (65,536 rows): all integers → int64,
integers and floats → double, all text → string, all blobs → binary, NULL → null in any of them; a
column mixing kinds (SQLite allows it) is written as text, and the result says which. A later row
group that does not fit the type stops the export with a message naming the column (CAST it in the
query). Invalid UTF-8 text has U+FFFD where bytes were bad.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import ExportError
from desktop_app.core.export.atomic import AtomicOutput
from desktop_app.core.export.writer import FormatWriter, Page, SettingsMixin, unique_names

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

#: Rows gathered before a row group is written (bounded memory, reasonable group size).
_GROUP_ROWS = 65_536


@dataclass(frozen=True)
class ParquetOptions(SettingsMixin):
    """Parquet compression."""

    compression: str = "zstd"


def _column_type(values: Sequence[Any]) -> pa.DataType:
    import pyarrow as pa

    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.null()
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    if kinds <= {str} or all(issubclass(k, str) for k in kinds):
        return pa.string()
    if kinds <= {bytes}:
        return pa.binary()
    return pa.string()


class ParquetWriter(FormatWriter):
    """A Parquet file written in row groups."""

    def __init__(self, output: AtomicOutput, columns: Sequence[str], options: ParquetOptions) -> None:
        super().__init__(output, columns)
        self._names = unique_names(self.columns)
        self._compression = options.compression
        self._rows: list[Sequence[Any]] = []
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write_page(self, page: Page) -> None:
        """Gather the rows of `page`; write a row group once enough are gathered."""
        self._rows.extend(page)
        if len(self._rows) >= _GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa  # optional: imported only when a Parquet file is written
        import pyarrow.parquet as pq

        columns = list(zip(*self._rows, strict=True)) if self._rows else [() for _ in self._names]
        self._rows = []
        if self._schema is None:
            fields = []
            for name, values in zip(self._names, columns, strict=True):
                kind = _column_type(values)
                if kind == pa.null():
                    kind = pa.string()  # no value seen yet: text takes any later one
                fields.append(pa.field(name, kind))
            self._schema = pa.schema(fields)
            self._writer = pq.ParquetWriter(self.output.binary, self._schema, compression=self._compression)
        arrays = [self._array(values, field) for values, field in zip(columns, self._schema, strict=True)]
        assert self._writer is not None
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def _array(self, values: Sequence[Any], field: pa.Field) -> pa.Array:
        import pyarrow as pa

        if field.type == pa.string() and any(v is not None and not isinstance(v, str) for v in values):
            self.note(f"Column {field.name} mixes kinds of values: written as text.")
            values = [v if v is None or isinstance(v, str) else _as_text(v) for v in values]
        elif field.type == pa.float64() and any(type(v) is int for v in values):
            self.note(f"Column {field.name} mixes integers and floats: written as floats.")
        try:
            return pa.array(values, type=field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise ExportError(
                f"Column {field.name} holds values of another kind than its first rows ({field.type}): "
                "Parquet needs one type a column; CAST it in the query.",
                details=str(exc),
            ) from None

    def finish(self) -> None:
        """Write the last row group and the file's footer."""
        if self._rows or self._writer is None:
            self._flush()
        assert self._writer is not None
        self._writer.close()


def _as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex().upper()
    return repr(value) if isinstance(value, float) else str(value)
