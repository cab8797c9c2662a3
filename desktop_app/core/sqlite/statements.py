"""Split SQL text into statements with their positions, classify them, and place SQLite's errors.

Boundaries are decided by SQLite's own rules, not sqlparse's. `sqlparse.split` was checked on the
hard cases and is wrong for SQLite on several: it ends `--` comments at a bare CR, treats `\\'` inside
strings and `# ` as MySQL syntax (so real `;` are missed), splits inside unterminated `/*` comments and
strings, keeps everything after an unbalanced `(` together, and does not split after a trigger named
`begin`. It also returns stripped text without offsets. So a small scanner that
mirrors SQLite's tokenizer (strings, quoted identifiers, comments) finds the candidate `;`, and
`sqlite3.complete_statement` (SQLite's `sqlite3_complete`, what the sqlite3 shell uses) confirms each,
which keeps `CREATE TRIGGER ... BEGIN ...; ...; END;` whole.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass

# One alternative per SQLite token class that can hide a `;`; unterminated ones run to the end of the
# text, as in SQLite. Everything else is a word or a single character.
_TOKEN_PATTERN = r"""
      (?P<space>[ \t\n\f\r\v]+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<quoted>'[^']*(?:''[^']*)*'?|"[^"]*(?:""[^"]*)*"?|`[^`]*(?:``[^`]*)*`?|\[[^\]]*\]?)
    | (?P<word>WORD)
    | (?P<other>.)
"""
_TOKEN = re.compile(_TOKEN_PATTERN.replace("WORD", r"[\w$]+"), re.DOTALL | re.VERBOSE)
# For splitting, any run of characters that starts no other token is one match: only `;` matters.
_SPLIT_TOKEN = re.compile(_TOKEN_PATTERN.replace("WORD", r"[^;\s'\"`\[/-]+"), re.DOTALL | re.VERBOSE)


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (space, comment, quoted, word, other) and where it is."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        """Offset just past the token."""
        return self.start + len(self.text)


def tokenize(sql: str) -> Iterator[Token]:
    """Yield every token of `sql`, in order; together they cover the text exactly."""
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        assert kind is not None
        yield Token(kind, match.group(), match.start())


def _significant(tokens: Iterator[Token] | list[Token]) -> list[Token]:
    return [token for token in tokens if token.kind not in ("space", "comment")]


@dataclass(frozen=True)
class Statement:
    """One statement: `text` is `sql[start:end]`, from its first token to its `;` (included, if any)."""

    text: str
    start: int
    end: int

    @property
    def keyword(self) -> str:
        """The leading keyword in upper case (`SELECT`, `WITH`, `PRAGMA`...), or '' if it has none."""
        for token in tokenize(self.text):
            if token.kind == "word":
                return token.text.upper()
            if token.kind not in ("space", "comment"):
                return ""
        return ""


def _is_complete(text: str) -> bool:
    # sqlite3_complete stops at NUL; Python refuses it outright.
    return sqlite3.complete_statement(text.replace("\0", " "))


def split_statements(sql: str) -> list[Statement]:
    """Split `sql` into statements as SQLite runs them, dropping empty and comment-only pieces."""
    statements: list[Statement] = []
    start: int | None = None  # first significant token of the statement being read
    last_end = 0  # end of its last significant token
    for match in _SPLIT_TOKEN.finditer(sql):  # match objects, not Tokens: a pasted dump has millions
        kind = match.lastgroup
        if kind == "space" or kind == "comment":
            continue
        if kind == "other" and match.group() == ";":
            if start is None:
                continue  # an empty statement (`;;`)
            end = match.end()
            if _is_complete(sql[start:end]):
                statements.append(Statement(sql[start:end], start, end))
                start = None
            continue  # a `;` inside a trigger body
        if start is None:
            start = match.start()
        last_end = match.end()
    if start is not None:
        statements.append(Statement(sql[start:last_end], start, last_end))
    return statements


def statement_at(sql: str, cursor_pos: int) -> Statement | None:
    """The statement to run for a cursor at `cursor_pos`.

    Inside a statement (or just after its `;`) that statement; between statements the one ending on the
    cursor's line, else the next one below, else the last one; None when there is no statement.
    """
    statements = split_statements(sql)
    previous: Statement | None = None
    for statement in statements:
        if statement.start <= cursor_pos <= statement.end:
            return statement
        if statement.start > cursor_pos:
            if previous is not None and "\n" not in sql[previous.end : cursor_pos]:
                return previous
            return statement
        previous = statement
    return previous


class StatementKind(enum.Enum):
    """What running a statement would do to the database."""

    READ = "read"
    WRITE = "write"
    #: Not recognised (usually a syntax error): SQLite gives the real message.
    UNKNOWN = "unknown"


_READ_KEYWORDS = frozenset({"SELECT", "VALUES", "EXPLAIN"})
_WRITE_KEYWORDS = frozenset(
    {
        "INSERT", "REPLACE", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "ATTACH", "DETACH", "VACUUM",
        "REINDEX", "ANALYZE", "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE",
    }
)  # fmt: skip
#: Pragmas whose `(argument)` form only reads; for the others `pragma(x)` sets, like `pragma = x`.
_PRAGMAS_READING_ARGUMENT = frozenset(
    {
        "table_info", "table_xinfo", "table_list", "index_info", "index_xinfo", "index_list",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    }
)  # fmt: skip
#: Pragmas that change the database even without an argument.
_PRAGMAS_WRITING_BARE = frozenset({"optimize", "incremental_vacuum"})


def _main_verb_after_with(tokens: list[Token]) -> str:
    """The statement keyword that follows a WITH clause's common table expressions."""
    depth = 0
    for token in tokens[1:]:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif depth == 0 and token.kind == "word":
            word = token.text.upper()
            if word in ("SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"):
                return word
    return ""


def _pragma_kind(tokens: list[Token]) -> StatementKind:
    rest = tokens[1:]
    if len(rest) >= 2 and rest[1].text == ".":
        rest = rest[2:]  # schema.
    if not rest:
        return StatementKind.UNKNOWN
    name = rest[0].text.strip('"[]`').lower()
    following = rest[1].text if len(rest) > 1 else ";"
    if following == "=":
        return StatementKind.WRITE
    if following == "(":
        return StatementKind.READ if name in _PRAGMAS_READING_ARGUMENT else StatementKind.WRITE
    return StatementKind.WRITE if name in _PRAGMAS_WRITING_BARE else StatementKind.READ


def statement_kind(statement: Statement | str) -> StatementKind:
    """Classify a statement as reading, writing, or not recognised."""
    text = statement.text if isinstance(statement, Statement) else statement
    tokens = _significant(list(tokenize(text)))
    if not tokens or tokens[0].kind != "word":
        return StatementKind.UNKNOWN
    first = tokens[0].text.upper()
    if first == "WITH":
        first = _main_verb_after_with(tokens)
    if first in _READ_KEYWORDS:
        return StatementKind.READ
    if first in _WRITE_KEYWORDS:
        return StatementKind.WRITE
    if first == "PRAGMA":
        return _pragma_kind(tokens)
    return StatementKind.UNKNOWN


def is_read_only(statement: Statement | str) -> bool:
    """False when the statement would change something; unrecognised SQL is left for SQLite to judge."""
    return statement_kind(statement) is not StatementKind.WRITE


def statement_verb(statement: Statement | str) -> str:
    """What the statement does, for a message: `INSERT`, `CREATE TABLE`, `PRAGMA settings`…"""
    text = statement.text if isinstance(statement, Statement) else statement
    tokens = _significant(list(tokenize(text)))
    if not tokens:
        return ""
    first = tokens[0].text.upper()
    if first == "WITH":
        return _main_verb_after_with(tokens)
    if first == "PRAGMA":
        name = tokens[3:4] if len(tokens) > 2 and tokens[2].text == "." else tokens[1:2]  # schema.name
        return f"PRAGMA {name[0].text}" if name else "PRAGMA"
    if first in ("CREATE", "DROP", "ALTER") and len(tokens) > 1 and tokens[1].kind == "word":
        return f"{first} {tokens[1].text.upper()}"
    return first


_QUERY_PLAN_PREFIX = "EXPLAIN QUERY PLAN "
#: The first table a statement reads (quoted any of SQLite's ways, or bare).
_FIRST_SOURCE = re.compile(
    r'\bFROM\s+(?:"((?:[^"]|"")+)"|\[([^\]]+)\]|`([^`]+)`|([^\s;,()]+))', re.IGNORECASE
)


def query_plan_sql(statement: str) -> str:
    """The statement that shows how SQLite would run `statement` (`EXPLAIN QUERY PLAN …`)."""
    return _QUERY_PLAN_PREFIX + statement


def is_query_plan(sql: str) -> bool:
    """True when `sql` asks for a query plan (starts with `EXPLAIN QUERY PLAN`)."""
    return sql.upper().startswith(_QUERY_PLAN_PREFIX)


def first_table_name(sql: str) -> str | None:
    """The name after the first FROM in `sql`, unquoted (to suggest a file name), or None."""
    found = _FIRST_SOURCE.search(sql)
    return next((group for group in found.groups() if group), None) if found else None


_NEAR = re.compile(r'near "(?P<token>.*)": syntax error', re.DOTALL)
_UNRECOGNIZED = re.compile(r'unrecognized token: "(?P<token>.*)"', re.DOTALL)
_MISSING_NAME = re.compile(r"no such (?:table|column|function|collation sequence|module): (?P<token>.+)")
#: Occurrences of the failing token checked against SQLite before falling back to the first one.
_MAX_ERROR_CANDIDATES = 64
_WORD_CHAR = re.compile(r"[\w$]")


def _token_starts(text: str, needle: str, *, ignore_case: bool = False) -> list[int]:
    """Offsets in `text` where a real token (not inside a string or comment) begins with `needle`."""
    if not needle:
        return []
    wanted = re.compile(re.escape(needle), re.IGNORECASE if ignore_case else 0)
    starts = []
    for token in tokenize(text):
        if token.kind in ("space", "comment"):
            continue
        found = wanted.match(text, token.start)
        if found and not (
            _WORD_CHAR.match(needle[-1]) and _WORD_CHAR.match(text, found.end())
        ):  # half a word
            starts.append(token.start)
    return starts


def _parse_error(conn: sqlite3.Connection, sql: str) -> str:
    """SQLite's error for `sql` on `conn`, never running it (EXPLAIN only compiles); '' if none."""
    if not sql.upper().startswith("EXPLAIN"):
        sql = "EXPLAIN " + sql
    try:
        conn.execute(sql)
    except (sqlite3.Error, ValueError) as exc:
        return str(exc)
    return ""


def _deny_outside_access(action: int, *_args: object) -> int:
    # A parse reaching ATTACH or PRAGMA code is refused: nothing outside the scratch database is touched.
    return (
        sqlite3.SQLITE_DENY if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_PRAGMA) else sqlite3.SQLITE_OK
    )


def _syntax_error_start(text: str, token: str) -> int | None:
    message = f'near "{token}": syntax error'
    candidates = _token_starts(text, token)
    # SQLite stops at the first token it cannot parse, so the statement cut just after the right
    # occurrence gives the same error, and every earlier cut parses or is merely incomplete.
    with closing(sqlite3.connect(":memory:")) as scratch:
        scratch.set_authorizer(_deny_outside_access)
        for start in candidates[:_MAX_ERROR_CANDIDATES]:
            if _parse_error(scratch, text[: start + len(token)]) == message:
                return start
    return candidates[0] if candidates else None


def locate_error(statement: Statement, message: str) -> int | None:
    """Offset in the editor text where SQLite's error `message` for `statement` points, or None if unknown.

    Python 3.11 exposes no error offset, so the token is read from the message (`near "x": syntax error`,
    `unrecognized token: "x"`, `no such table: x`, `incomplete input`) and found in the statement.
    """
    text = statement.text
    relative: int | None = None
    if message.strip() == "incomplete input":
        relative = len(text.rstrip(" \t\r\n;"))
    elif match := _NEAR.search(message):
        relative = _syntax_error_start(text, match["token"])
    elif match := _UNRECOGNIZED.search(message):
        starts = _token_starts(text, match["token"])
        relative = starts[0] if starts else None
    elif match := _MISSING_NAME.search(message):
        name = match["token"].strip()
        for needle in (name, f'"{name}"', f"[{name}]", f"`{name}`", name.rpartition(".")[2]):
            starts = _token_starts(text, needle, ignore_case=True)
            if starts:
                relative = starts[0]
                break
    return None if relative is None else statement.start + relative


def to_utf16_offset(text: str, index: int) -> int:
    """Convert a Python index into `text` to a Qt (UTF-16) position; they differ after emoji."""
    return len(text[:index].encode("utf-16-le")) // 2


def from_utf16_offset(text: str, offset: int) -> int:
    """Convert a Qt (UTF-16) position in `text` to a Python index."""
    return len(text.encode("utf-16-le")[: offset * 2].decode("utf-16-le", "ignore"))


@dataclass(frozen=True)
class Parameter:
    """A bind parameter of a statement: `?`/`?NNN` (positional) or `:name`, `@name`, `$name`."""

    #: As written: `?`, `?2`, `:name`, `@name`, `$name`.
    text: str

    @property
    def named(self) -> bool:
        """True for `:name`, `@name`, `$name`."""
        return not self.text.startswith("?")


def parameters(sql: str) -> list[Parameter]:
    """The bind parameters of `sql` in order of first use, once each (a bare `?` each time it occurs)."""
    tokens = _significant(tokenize(sql))
    found: list[Parameter] = []
    for index, token in enumerate(tokens):
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        joined = after is not None and after.start == token.end and after.kind == "word"
        text = ""
        if token.text == "?":
            text = "?" + after.text if joined and after is not None and after.text.isdigit() else "?"
        elif token.text in (":", "@") and joined and after is not None:
            text = token.text + after.text
        elif token.kind == "word" and token.text.startswith("$") and len(token.text) > 1:
            text = token.text
        if text and (text == "?" or Parameter(text) not in found):
            found.append(Parameter(text))
    return found


def parse_parameter_value(text: str) -> object:
    """What a value typed in the parameters form binds: an integer or a float when it reads as one,
    NULL for the word NULL, text in single quotes without them, any other text as it is."""
    stripped = text.strip()
    if stripped.upper() == "NULL":
        return None
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == "'":
        return stripped[1:-1].replace("''", "'")
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            continue
    return text


def _numbered(found: list[Parameter]) -> list[tuple[str, int]]:
    """(form key, SQLite's index) of each parameter, numbered as SQLite does: `?NNN` is NNN, and a bare
    `?` or a name seen for the first time takes the next number after the largest so far."""
    numbered: list[tuple[str, int]] = []
    by_name: dict[str, int] = {}
    largest = 0
    for parameter in found:
        text = parameter.text
        if text in by_name:
            continue
        index = int(text[1:]) if text.startswith("?") and len(text) > 1 else largest + 1
        largest = max(largest, index)
        key = f"?{index}" if text.startswith("?") else text
        if text != "?":
            by_name[text] = index
        if all(key != k for k, _i in numbered):
            numbered.append((key, index))
    return numbered


def parameter_keys(found: list[Parameter]) -> list[str]:
    """The names the parameters form shows, once each: `:name` as written, `?` by its SQLite number (`?2`)."""
    return [key for key, _index in _numbered(found)]


def bind_values(found: list[Parameter], values: Mapping[str, str]) -> tuple[object, ...] | dict[str, object]:
    """The parameters to pass for `found`, from the form's text by key (see `parameter_keys`).

    Named parameters alone bind by name (sqlite3 takes `{"name": …}` for `:name`, `@name` and `$name`);
    with any `?` every parameter binds by SQLite's number.
    """
    numbered = _numbered(found)
    if found and all(p.named for p in found):
        return {key[1:]: parse_parameter_value(values.get(key, "")) for key, _index in numbered}
    slots: list[object] = [None] * max((index for _key, index in numbered), default=0)
    for key, index in numbered:
        slots[index - 1] = parse_parameter_value(values.get(key, ""))
    return tuple(slots)
