"""The user's regular expressions (search and the `regexp()` SQL function), in bounded time and memory.

A backtracking engine (Python's `re`, the `regex` package) can run for hours on `(x+x+)+y`, and both
expand counted repetitions while compiling: `(?:(?:(?:a{100}){100}){100}){100}` took 23.8 GB. RE2
(`google-re2`) matches in time linear in the value's length, releases the GIL while it matches, refuses
nested counts over 1000 at once, and compiles within a memory budget (`LIMITS.regex_max_mem_bytes`,
which also bounds its matching caches). The price is RE2's syntax: no backreferences, no lookaround,
no possessive quantifiers, and `\\w`, `\\d`, `\\s`, `\\b` are ASCII (`\\pL`, `\\pN` are Unicode).

The user's pattern goes to RE2 as it is, never through `re` or `regex` first. Plain (non-regex) search
text is a literal: `compile_literal` uses Python's `re` on the escaped text, whose size and work are
those of the text itself, so plain search works even without RE2 installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Protocol

from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS

try:
    import re2
except ImportError:  # the app still runs; regular expressions say how to get them
    re2 = None

#: What RE2 counts as a word character for whole-word matching (Python's `\w` for text, near enough).
_WORD = r"\pL\pN_"
_INSTALL = "pip install google-re2"


class RegexError(UserError):
    """A regular expression that cannot be run: bad syntax, unsupported, too large, or no RE2."""


class Pattern(Protocol):
    """A compiled search pattern: whether a text matches, and where (in characters)."""

    def search(self, text: str) -> bool:
        """True when `text` contains a match."""
        ...

    def spans(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        """(start, end) character offsets of successive non-overlapping matches from `pos` on."""
        ...


def available() -> bool:
    """True when RE2 is installed (regular expressions work)."""
    return re2 is not None


def unavailable_message() -> str:
    """What to tell a user whose installation lacks RE2."""
    return f"Regular expressions are unavailable: the google-re2 package is not installed ({_INSTALL})."


def compile_user_pattern(pattern: str, *, case_sensitive: bool = True, whole_word: bool = False) -> Pattern:
    """Compile the user's `pattern` with RE2; RegexError with a message for the user when it cannot run.

    `whole_word` keeps only matches that do not touch a letter, digit or `_` on either side.
    """
    if re2 is None:
        raise RegexError(unavailable_message())
    if len(pattern) > LIMITS.regex_pattern_max_chars:
        raise RegexError(
            f"The regular expression is {len(pattern):,} characters long; at most "
            f"{LIMITS.regex_pattern_max_chars:,} are accepted."
        )
    options = _options(case_sensitive)
    # Alone first: wrapped, an unbalanced `)` in the user's text would close our group instead.
    plain = _compile(pattern, pattern, options)
    if not whole_word:
        return _Re2Pattern(plain)
    boundary = f"(?:\\z|[^{_WORD}])"
    first = _compile(pattern, f"(?:\\A|[^{_WORD}])({pattern}){boundary}", options)
    after = _compile(pattern, f"[^{_WORD}]({pattern}){boundary}", options)
    return _Re2WordPattern(first, after)


def compile_literal(text: str, *, case_sensitive: bool = True, whole_word: bool = False) -> Pattern:
    """`text` as a literal pattern (Python's `re`, so it works without RE2).

    Case-insensitive matching folds Unicode case, but only ASCII letters for an all-ASCII `text`
    (as SQLite's LIKE does); `whole_word` uses Python's Unicode `\\w`.
    """
    body = re.escape(text)
    if not case_sensitive and text.isascii():
        body = f"(?a:{body})"
    if whole_word:
        body = rf"(?<!\w){body}(?!\w)"
    return _PythonPattern(re.compile(body, 0 if case_sensitive else re.IGNORECASE))


def _options(case_sensitive: bool) -> Any:
    options = re2.Options()
    options.max_mem = LIMITS.regex_max_mem_bytes
    options.case_sensitive = case_sensitive
    options.log_errors = False  # RE2 would print every bad pattern on stderr
    return options


def _compile(users: str, pattern: str, options: Any) -> Any:
    try:
        compiled = re2.compile(pattern.encode("utf-8", "surrogatepass"), options)
    except re2.error as exc:
        raise RegexError(explain(users, exc)) from None
    finally:
        # re2.compile keeps its last 128 patterns, each up to max_mem; ours are held by their users.
        re2.purge()
    return compiled


_UNSUPPORTED = (
    (re.compile(r"invalid escape sequence: \\[1-9]"), "backreferences such as \\1"),
    (re.compile(r"invalid escape sequence: \\Z"), "\\Z (write \\z for the end of the text)"),
    (re.compile(r"invalid perl operator: \(\?<?[=!]"), "lookahead and lookbehind, (?=…) (?!…) (?<=…) (?<!…)"),
    (re.compile(r"invalid perl operator: \(\?>"), "atomic groups (?>…)"),
    (re.compile(r"invalid perl operator: \(\?\("), "conditionals (?(…)…)"),
    (re.compile(r"invalid perl operator: \(\?#"), "comments (?#…)"),
    (re.compile(r"bad repetition operator: .*\+$"), "possessive quantifiers such as a++"),
    (re.compile(r"invalid perl operator: \(\?P$"), "named backreferences (?P=name)"),
    (re.compile(r"invalid perl operator: \(\?[aLux]"), "the flags a, L, u and x (RE2 has i, m, s and U)"),
)


def explain(pattern: str, exc: Exception) -> str:
    """One line for the user about an RE2 error on `pattern`, naming an unsupported construct."""
    raw = exc.args[0] if exc.args else str(exc)
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for found, construct in _UNSUPPORTED:
        if found.search(message):
            shown = _printable(message)
            return f"Regular expressions use RE2 syntax, which does not support {construct}: {shown}."
    if message.startswith("invalid repetition size"):
        return (
            f"Invalid regular expression: {_printable(message)} (RE2 syntax allows at most 1000 "
            "repetitions, nested counts multiplied)."
        )
    if message.startswith("pattern too large"):
        return (
            "The regular expression is too large: it needs more than "
            f"{LIMITS.regex_max_mem_bytes / (1 << 20):g} MB to run."
        )
    return f"Invalid regular expression (RE2 syntax): {_printable(message)}."


def _printable(text: str, limit: int = 80) -> str:
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


class _PythonPattern:
    def __init__(self, compiled: re.Pattern[str]) -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool:
        return self._compiled.search(text) is not None

    def spans(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        for found in self._compiled.finditer(text, pos):
            yield found.span()


def _encode(text: str) -> bytes:
    # "replace" keeps one byte per unencodable character (a lone surrogate), so offsets stay aligned.
    return text.encode("utf-8", "replace")


class _Chars:
    """Byte offsets of one UTF-8 text turned into character offsets, moving forward only."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._byte = 0
        self._char = 0

    def at(self, offset: int) -> int:
        if offset < self._byte:
            return len(self._data[:offset].decode("utf-8", "ignore"))
        self._char += len(self._data[self._byte : offset].decode("utf-8", "ignore"))
        self._byte = offset
        return self._char


def _byte_offset(text: str, pos: int) -> int:
    return len(_encode(text[:pos])) if pos else 0


def _next_char(data: bytes, offset: int) -> int:
    offset += 1
    while offset < len(data) and 0x80 <= data[offset] < 0xC0:
        offset += 1
    return offset


def _previous_char(data: bytes, offset: int) -> int:
    offset -= 1
    while offset > 0 and 0x80 <= data[offset] < 0xC0:
        offset -= 1
    return offset


class _Re2Pattern:
    """A compiled RE2 pattern, searched in the text's UTF-8; spans are in characters of the text."""

    #: The group whose span is the match.
    group = 0

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def search(self, text: str) -> bool:
        return self._compiled.search(_encode(text)) is not None

    def spans(self, text: str, pos: int = 0) -> Iterator[tuple[int, int]]:
        data = _encode(text)
        chars = _Chars(data)
        offset = _byte_offset(text, pos)
        while offset <= len(data):
            found = self._find(data, offset)
            if found is None:
                return
            start, end = found.span(self.group)
            yield chars.at(start), chars.at(end)
            offset = end if end > start else _next_char(data, end)

    def _find(self, data: bytes, offset: int) -> Any:
        return self._compiled.search(data, offset)


class _Re2WordPattern(_Re2Pattern):
    """Whole-word matches without lookaround: the boundary characters are matched, the user's pattern is
    group 1. After a match the search resumes one character before its end, so that character can be
    the next match's leading boundary (`after` requires one)."""

    group = 1

    def __init__(self, first: Any, after: Any) -> None:
        super().__init__(first)
        self._after = after

    def _find(self, data: bytes, offset: int) -> Any:
        if offset == 0:
            return self._compiled.search(data)
        return self._after.search(data, _previous_char(data, offset))
