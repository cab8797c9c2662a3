"""Whether a value matches: a compiled pattern has the final say (and gives the spans), SQL pre-filters rows.

Every row SQLite returns is checked again in Python, so the SQL side only has to be a cheap superset:
`GLOB` for case-sensitive text (measured ~1.5x faster than `instr()`, which is kept for needles GLOB
cannot take), `LIKE` for case-insensitive ASCII text (SQLite's LIKE and lower() fold ASCII letters
only, which is why the Python pattern folds ASCII only for an ASCII needle), and a private SQL function
running the pattern for regular expressions and non-ASCII case-insensitive text (slow: a Python
call per value; a LIKE on the needle's longest ASCII run goes first when there is one). Regular
expressions run on RE2 (see core/regexes.py); plain text on Python's `re`, escaped.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from enum import Enum

from desktop_app.core import regexes
from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.search.options import SearchOptions
from desktop_app.core.sqlite.guard import allow_functions

#: The private SQL function the search registers on its connection while it runs.
MATCH_FUNCTION = "_search_match"
#: LIKE patterns longer than SQLite's default SQLITE_MAX_LIKE_PATTERN_LENGTH (50,000 bytes) fail.
_MAX_LIKE_BYTES = 50_000
#: An ASCII run shorter than this filters too little to be worth a LIKE before the Python function.
_MIN_PREFILTER_CHARS = 2
_CONTROL_TO_SPACE = {code: " " for code in (*range(0x20), 0x7F)}
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_NON_WORD = "[^0-9A-Za-z_]"
_PYTHON_CODECS = {"UTF-8": "utf-8", "UTF-16le": "utf-16-le", "UTF-16be": "utf-16-be"}


@dataclass(frozen=True)
class Snippet:
    """A short piece of a matching value, with the match spans inside it to highlight."""

    text: str
    spans: tuple[tuple[int, int], ...]
    #: Character offset of the first match in the whole value.
    match_start: int


class FilterKind(Enum):
    """How SQLite pre-filters rows."""

    INSTR = "instr"
    GLOB = "glob"
    LIKE = "like"
    FUNCTION = "function"


class Matcher:
    """The compiled form of one search's text and options."""

    def __init__(self, options: SearchOptions, encoding: str = "UTF-8") -> None:
        if options.text == "":
            raise UserError("Type something to search for.")
        try:
            options.text.encode("utf-8")
        except UnicodeEncodeError:
            raise UserError("The search text contains characters that cannot be searched for.") from None
        self.options = options
        self.pattern = _compile(options)
        self.codec = _PYTHON_CODECS.get(encoding, "utf-8")
        self.filter_kind, self.params, self._prefilter = _sql_filter(options)

    def first_match(self, text: str) -> tuple[int, int] | None:
        """The (start, end) of the first non-empty match in `text` (empty matches of `x*` do not count)."""
        for start, end in self.pattern.spans(text):
            if end > start:
                return start, end
        return None

    def snippet(self, text: str, width: int = LIMITS.search_snippet_chars) -> Snippet | None:
        """A snippet of `text` around its first match, or None when `text` does not match."""
        first = self.first_match(text)
        if first is None:
            return None
        first_start, first_end = first
        start = max(0, first_start - width // 3)
        end = min(len(text), max(start + width, min(first_end, first_start + width)))
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        shift = len(prefix) - start
        spans = []
        for found_start, found_end in self.pattern.spans(text, first_start):
            if found_start >= end:
                break
            if found_end > found_start:
                spans.append((found_start + shift, min(found_end, end) + shift))
        body = text[start:end].translate(_CONTROL_TO_SPACE)
        return Snippet(prefix + body + suffix, tuple(spans), first_start)

    def sql_function(self, raw: bytes | None) -> int:
        """The SQL function `_search_match(CAST(x AS BLOB))`: 1 when the value matches."""
        if raw is None:
            return 0
        # Bad bytes escaped as the snippet shows them (`values.text.plain_text`), so both agree on a match.
        return int(self.first_match(raw.decode(self.codec, "backslashreplace")) is not None)

    def register(self, conn: sqlite3.Connection) -> None:
        """Register the private match function on `conn` (only needed for FUNCTION filtering)."""
        conn.create_function(MATCH_FUNCTION, 1, self.sql_function, deterministic=True)
        allow_functions(conn, [MATCH_FUNCTION])

    @staticmethod
    def unregister(conn: sqlite3.Connection) -> None:
        """Replace the private match function on `conn` with one that matches nothing (releasing the pattern).

        Python's sqlite3 cannot delete a function (passing None registers one that raises).
        """
        conn.create_function(MATCH_FUNCTION, 1, _no_match, deterministic=True)

    def condition(self, column: str, *, blobs: bool) -> str:
        """SQL that is true for (at least) every value of `column` that matches.

        With `blobs`, blob values are matched too: by `instr()`, because LIKE and GLOB stop at the
        first NUL byte (and never match a blob in builds with SQLITE_LIKE_DOESNT_MATCH_BLOBS).
        """
        call = f"{MATCH_FUNCTION}(CAST({column} AS BLOB))"
        if self.filter_kind is FilterKind.FUNCTION:
            if not self._prefilter:
                return call
            is_blob = f"typeof({column}) = 'blob' OR " if blobs else ""
            return f"(({is_blob}{column} LIKE :prefilter ESCAPE '\\') AND {call})"
        if self.filter_kind is FilterKind.INSTR:
            return f"instr({column}, :needle)"
        if self.filter_kind is FilterKind.GLOB:
            text = self._with_word_glob(f"{column} GLOB :glob", column)
            blob = f"instr({column}, :needle)"
        else:
            text = self._with_word_glob(f"{column} LIKE :like ESCAPE '\\'", column)
            blob = f"instr(lower({column}), :needle_lower)"
        return f"({text} OR (typeof({column}) = 'blob' AND {blob}))" if blobs else text

    def _with_word_glob(self, condition: str, column: str) -> str:
        # The word pattern starts with a class, which GLOB cannot skip ahead to (measured 30x slower
        # alone), so it only runs on values the plain pattern already found.
        if "word_glob" not in self.params:
            return condition
        return f"({condition} AND (' ' || {column} || ' ') GLOB :word_glob)"


def _no_match(_value: object) -> None:
    return None


def _compile(options: SearchOptions) -> regexes.Pattern:
    if not options.regex:
        return regexes.compile_literal(
            options.text, case_sensitive=options.case_sensitive, whole_word=options.whole_word
        )
    return regexes.compile_user_pattern(
        options.text, case_sensitive=options.case_sensitive, whole_word=options.whole_word
    )


def like_pattern(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, with `\\` as the escape character."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def glob_pattern(text: str, *, fold_ascii: bool = False, whole_word: bool = False) -> str:
    """`text` as a GLOB pattern matching it anywhere (`*`, `?`, `[` made literal; `[aA]` when folding).

    `whole_word` puts an ASCII non-word class on each side: a superset of Python's Unicode `\\w`
    boundaries (the value is padded with spaces so its ends count as boundaries).
    """
    parts = []
    for char in text:
        if fold_ascii and char.isascii() and char.isalpha():
            parts.append(f"[{char.lower()}{char.upper()}]")
        elif char in "*?[":
            parts.append(f"[{char}]")
        else:
            parts.append(char)
    body = "".join(parts)
    return f"*{_NON_WORD}{body}{_NON_WORD}*" if whole_word else f"*{body}*"


def _sql_filter(options: SearchOptions) -> tuple[FilterKind, dict[str, str], bool]:
    text = options.text
    if options.regex:
        return FilterKind.FUNCTION, {}, False
    fits_pattern = "\x00" not in text and len(text.encode("utf-8")) * 4 < _MAX_LIKE_BYTES
    word: dict[str, str] = {}
    if options.whole_word and fits_pattern:
        word["word_glob"] = glob_pattern(text, fold_ascii=not options.case_sensitive, whole_word=True)
    if options.case_sensitive:
        if fits_pattern:
            return FilterKind.GLOB, {"glob": glob_pattern(text), "needle": text, **word}, False
        return FilterKind.INSTR, {"needle": text}, False
    if text.isascii() and fits_pattern:
        params = {"like": like_pattern(text), "needle_lower": text.lower(), **word}
        return FilterKind.LIKE, params, False
    runs = [run for run in _ASCII_RUN.findall(text) if run.strip()]
    longest = max(runs, key=len, default="")
    if len(longest) >= _MIN_PREFILTER_CHARS and fits_pattern:
        return FilterKind.FUNCTION, {"prefilter": like_pattern(longest)}, True
    return FilterKind.FUNCTION, {}, False
