"""Existing FTS3/4/5 tables as declared: module, content table, tokenizer, unindexed columns."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

FTS_MODULES = frozenset({"fts3", "fts4", "fts5"})
#: Shadow tables an FTS table keeps its index in (they are never searched themselves).
SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config", "_segments", "_segdir", "_stat")
_IDENT = r"""(?:"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s(.]+)"""
_HEADER = re.compile(
    rf"CREATE\s+VIRTUAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_IDENT}\s*\.\s*)?{_IDENT}\s+USING\s+"
    r"([A-Za-z0-9_]+)\s*",
    re.IGNORECASE,
)
_OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", re.DOTALL)


@dataclass(frozen=True)
class FtsInfo:
    """How an FTS table is set up, as far as searching it needs to know."""

    module: str
    #: None: the table keeps its own copy of the text; "": contentless; else the external content table.
    content: str | None
    #: The content table's column the FTS rowid refers to (FTS5 `content_rowid`, else the rowid).
    content_rowid: str
    #: Words of the `tokenize` option, lower-cased, e.g. ("porter", "unicode61").
    tokenizer: tuple[str, ...]
    #: Columns declared UNINDEXED (FTS5) or `notindexed=` (FTS4): MATCH never looks at them.
    unindexed: frozenset[str]

    @property
    def external(self) -> bool:
        """True when the text lives in another table (`content=...`)."""
        return bool(self.content)

    @property
    def contentless(self) -> bool:
        """True for `content=''`: the table stores no text at all."""
        return self.content == ""


def virtual_module(sql: str | None) -> tuple[str | None, str]:
    """The module name of a `CREATE VIRTUAL TABLE` statement (lower-cased) and its argument text."""
    found = _HEADER.match((sql or "").strip())
    if found is None:
        return None, ""
    rest = (sql or "").strip()[found.end() :]
    arguments = rest[1 : rest.rindex(")")] if rest.startswith("(") and ")" in rest else ""
    return found.group(1).lower(), arguments


def parse_fts(sql: str | None) -> FtsInfo | None:
    """The FTS set-up declared by `sql`, or None when it is not an FTS3/4/5 table."""
    module, args = virtual_module(sql)
    if module not in FTS_MODULES:
        return None
    content: str | None = None
    content_rowid = "rowid"
    tokenizer: tuple[str, ...] = ()
    unindexed: set[str] = set()
    for arg in split_arguments(args):
        option = _OPTION.fullmatch(arg)
        lowered = arg.lower()
        if option is not None:
            key, value = option.group(1).lower(), unquote(option.group(2).strip())
            if key == "content":
                content = value
            elif key == "content_rowid":
                content_rowid = value
            elif key == "tokenize":
                tokenizer = _tokenizer_words(value if module == "fts5" else option.group(2).strip())
            elif key == "notindexed":
                unindexed.add(value)
        elif module != "fts5" and lowered.startswith("tokenize ") and len(arg.split()) > 1:
            tokenizer = _tokenizer_words(arg.split(None, 1)[1])
        elif module == "fts5" and lowered.endswith(" unindexed"):
            unindexed.add(unquote(arg[: -len(" unindexed")].strip()))
    if not tokenizer:
        tokenizer = ("unicode61",) if module == "fts5" else ("simple",)
    return FtsInfo(module, content, content_rowid, tokenizer, frozenset(unindexed))


def split_arguments(args: str) -> list[str]:
    """Split a virtual table's argument text on top-level commas (quotes and parentheses respected)."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    closing = {"'": "'", '"': '"', "`": "`", "[": "]"}
    for char in args:
        if quote is not None:
            current.append(char)
            if char == closing[quote]:
                quote = None  # a doubled quote closes and reopens: same result
            continue
        if char in closing:
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def unquote(value: str) -> str:
    """Remove SQL quotes around `value` ('x', "x", `x`, [x]), undoubling inner quotes."""
    if len(value) >= 2 and value[0] in "'\"`" and value[-1] == value[0]:
        return value[1:-1].replace(value[0] * 2, value[0])
    if len(value) >= 2 and value[0] == "[" and value[-1] == "]":
        return value[1:-1]
    return value


def _tokenizer_words(value: str) -> tuple[str, ...]:
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    return tuple(word.lower() for word in words) or ("unknown",)
