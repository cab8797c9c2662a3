"""Existing FTS3/4/5 tables: what they index, and the MATCH query that finds (a superset of) the hits.

A full-text index matches tokens, not substrings, so it is used only where its answer is a superset of
the real hits, which Python then checks one by one:
- a whole-word search with a built-in word tokenizer (unicode61, ascii, porter, simple), unless the
  tokenizer was told other token characters (`tokenchars`, `separators`, `categories`);
- any non-regex search of 3+ characters on an FTS5 `trigram` table (case-insensitive tables only
  answer case-insensitive searches).
The user's text is always one quoted phrase, so FTS syntax in it (`"`, `*`, `NEAR`, `-`, `:`, `^`,
`AND`/`OR`/`NOT`) is literal: FTS5 doubles `"`; FTS3/4 has no escape inside a phrase, so ASCII
punctuation becomes a space (every built-in tokenizer separates on it anyway).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from desktop_app.core.search.options import SearchOptions

FTS_MODULES = frozenset({"fts3", "fts4", "fts5"})
#: Shadow tables an FTS table keeps its index in (they are never searched themselves).
SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config", "_segments", "_segdir", "_stat")
_WORD_TOKENIZERS = frozenset({"unicode61", "ascii", "porter", "simple"})
_ASCII_FOLD_ONLY = frozenset({"ascii", "simple"})
_RETOKENIZING_OPTIONS = ("tokenchars", "separators", "categories")
_IDENT = r"""(?:"(?:[^"]|"")*"|\[[^\]]*\]|`(?:[^`]|``)*`|'(?:[^']|'')*'|[^\s(.]+)"""
_HEADER = re.compile(
    rf"CREATE\s+VIRTUAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:{_IDENT}\s*\.\s*)?{_IDENT}\s+USING\s+"
    r"([A-Za-z0-9_]+)\s*",
    re.IGNORECASE,
)
_OPTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", re.DOTALL)
_ASCII_PUNCTUATION = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+")


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


def match_query(info: FtsInfo, options: SearchOptions) -> str | None:
    """The MATCH string whose rows include every hit of `options` in this FTS table, or None if none does."""
    text = options.text
    if options.regex or info.contentless:
        return None
    name = info.tokenizer[0]
    if name == "trigram":
        folds_case = not _has_option(info.tokenizer, "case_sensitive", "1")
        if info.module != "fts5" or len(text) < 3 or not (folds_case or options.case_sensitive):
            return None
        return fts5_phrase(text)
    if not options.whole_word or name not in _WORD_TOKENIZERS:
        return None
    if any(word.startswith(_RETOKENIZING_OPTIONS) for word in info.tokenizer):
        return None
    if not (text[0].isalnum() and text[-1].isalnum()):
        return None  # a tokenizer would drop the edges; the phrase would not be a superset
    base = info.tokenizer[1] if name == "porter" and len(info.tokenizer) > 1 else name
    if base in _ASCII_FOLD_ONLY and not options.case_sensitive and not text.isascii():
        return None
    return fts5_phrase(text) if info.module == "fts5" else fts3_phrase(text)


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 string: every character literal."""
    return '"' + text.replace('"', '""') + '"'


def fts3_phrase(text: str) -> str:
    """`text` as one FTS3/4 phrase (no escape exists there, so ASCII punctuation becomes a space)."""
    return '"' + " ".join(_ASCII_PUNCTUATION.sub(" ", text).split()) + '"'


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


def _has_option(words: tuple[str, ...], key: str, value: str) -> bool:
    for index, word in enumerate(words):
        if word == f"{key}={value}" or (word == key and index + 1 < len(words) and words[index + 1] == value):
            return True
    return False
