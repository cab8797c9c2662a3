"""The one writer interface every export format implements, and the values they share.

A format writer is made for one output file and the result's column names, gets the rows a page at
a time (`write_page`) and writes its footer in `finish`. It never holds more than a page: every
format streams in constant memory. Values arrive as SQLite gives them: None, int, float, str,
bytes; text that is not valid UTF-8 arrives as `RawText` (shown with U+FFFD, raw bytes kept),
so a format that can say "these exact bytes as TEXT" (SQL) recreates it exactly.
"""

from __future__ import annotations

import abc
import base64
import enum
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Self

from desktop_app.core.errors import ExportError
from desktop_app.core.export.atomic import AtomicOutput

Row = Sequence[Any]
Page = Sequence[Row]


class BlobEncoding(enum.Enum):
    """How BLOB values are written in a text format."""

    BASE64 = "base64"
    #: Upper-case hex digits, as SQLite's `hex()` gives them.
    HEX = "hex"
    #: An empty cell.
    SKIP = "skip"

    def encoder(self) -> Callable[[bytes], str]:
        """The function that writes a blob as text in this encoding."""
        if self is BlobEncoding.BASE64:
            return lambda value: base64.b64encode(value).decode("ascii")
        if self is BlobEncoding.HEX:
            return lambda value: value.hex().upper()
        return lambda _value: ""


def float_text(value: float) -> str:
    """A float as text that reads back as the same float (`repr`), infinities as `Infinity`/`-Infinity`."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def unique_names(columns: Sequence[str]) -> list[str]:
    """Column names made unique (`a`, `a_2`, …) for formats whose rows are keyed by name."""
    seen: set[str] = set()
    names = []
    for column in columns:
        name, n = str(column), 1
        while name in seen:
            n += 1
            name = f"{column}_{n}"
        seen.add(name)
        names.append(name)
    return names


def has_type(page: Page, kinds: frozenset[type]) -> bool:
    """True if any cell of `page` is exactly one of `kinds` (one pass in C over the cell types)."""
    return not kinds.isdisjoint(map(type, itertools.chain.from_iterable(page)))


class SettingsMixin:
    """`to_settings`/`from_settings` for a frozen options dataclass of str, bool, int and enum fields."""

    def to_settings(self) -> dict[str, str | bool | int]:
        """The options as plain strings, booleans and numbers, for the UI to remember."""
        return {
            key: value.name if isinstance(value, enum.Enum) else value
            for key, value in asdict(self).items()  # type: ignore[call-overload]
        }

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Self:
        """Options from `to_settings` output; missing, unknown or invalid values get their defaults."""
        defaults = cls()
        values: dict[str, Any] = {}
        for field in fields(cls):  # type: ignore[arg-type]
            default = getattr(defaults, field.name)
            raw = settings.get(field.name, default)
            if isinstance(default, enum.Enum):
                kind = type(default)
                by_value = {member.value: member for member in kind}
                values[field.name] = kind.__members__.get(str(raw)) or by_value.get(raw, default)
            elif isinstance(default, bool):
                values[field.name] = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
            elif isinstance(default, int):
                try:
                    values[field.name] = int(str(raw))
                except ValueError:
                    values[field.name] = default
            else:
                values[field.name] = raw if isinstance(raw, str) else default
        return cls._valid(values)

    @classmethod
    def _valid(cls, values: dict[str, Any]) -> Self:
        try:
            return cls(**values)
        except ExportError:
            return cls()


class FormatWriter(abc.ABC):
    """Writes one export file: made with the output and column names, fed pages, then finished."""

    #: Set by formats that cannot write every value as it is (the first few reasons, for the user).
    notes: list[str]
    #: Longest note list kept.
    MAX_NOTES: ClassVar[int] = 5

    def __init__(self, output: AtomicOutput, columns: Sequence[str]) -> None:
        self.output = output
        self.columns = [str(column) for column in columns]
        self.notes = []

    def note(self, text: str) -> None:
        """Remember something the user should know about the file (kept once, at most MAX_NOTES)."""
        if text not in self.notes and len(self.notes) < self.MAX_NOTES:
            self.notes.append(text)

    @abc.abstractmethod
    def write_page(self, page: Page) -> None:
        """Write the rows of `page`."""

    def finish(self) -> None:  # noqa: B027 (most formats have no footer)
        """Write whatever closes the file (a footer, the zip directory); called once after the last page."""

    def abort(self) -> None:  # noqa: B027 (most formats hold nothing beside the output)
        """Release what the writer holds besides the output (temporary files) when the export stops."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: rows (header excluded), bytes of the file, where, seconds taken, and notes."""

    rows: int
    bytes: int
    path: Path
    elapsed: float
    notes: tuple[str, ...] = ()
