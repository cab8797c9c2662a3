"""The user's regular expressions (search and the `regexp()` SQL function), matched safely.

Python's `re` holds the GIL for the whole of a match and cannot be stopped, so one pattern with nested
quantifiers over a long value (`(x+x+)+y`) froze the window and ignored Stop. The `regex` package
(re-compatible syntax) matches with the GIL released and gives up after a time limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import regex

from desktop_app.core.errors import UserError
from desktop_app.core.limits import LIMITS

Pattern = regex.Pattern
Match = regex.Match
IGNORECASE = regex.IGNORECASE
#: What a bad pattern raises (both have `msg` and `pos`).
error = (re.error, regex.error)


class RegexTimeout(UserError):
    """A regular expression ran longer than its time limit on one value."""

    def __init__(self) -> None:
        super().__init__(
            f"The regular expression took longer than {LIMITS.regex_value_timeout_s:g} s on one value and "
            "was stopped. Nested repetitions such as (x+)+ are the usual cause: simplify the pattern."
        )


def compile_user_pattern(pattern: str, flags: int = 0) -> Pattern:
    """Compile with `re`'s syntax (regex.VERSION0); raises one of `error` for a bad pattern.

    `re` checks first: its messages and positions are the ones Python users know.
    """
    re.compile(pattern, flags)
    return regex.compile(pattern, flags | regex.VERSION0)


def search(pattern: Pattern, text: str) -> Match | None:
    """`pattern.search(text)` within the time limit (RegexTimeout after it), not holding the GIL."""
    try:
        return pattern.search(text, concurrent=True, timeout=LIMITS.regex_value_timeout_s)
    except TimeoutError:
        raise RegexTimeout() from None


def finditer(pattern: Pattern, text: str, pos: int = 0) -> Iterator[Match]:
    """`pattern.finditer(text, pos)` within the time limit per match (RegexTimeout after it)."""
    try:
        yield from pattern.finditer(text, pos, concurrent=True, timeout=LIMITS.regex_value_timeout_s)
    except TimeoutError:
        raise RegexTimeout() from None
