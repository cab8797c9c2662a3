"""Fuzzing (hypothesis): random SQL, random files, bit flips of corpus files, random search text,
filters and blob file-name patterns. The property everywhere: only a `UserError` escapes, nothing
hangs past its time limit, and the database still answers `SELECT 1` afterwards.

Runs a modest number of examples by default; `FUZZ_SCALE=50` multiplies every test's examples for a
long run (see the README's "Longer fuzz run").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop_app.cli import main as cli_main
from desktop_app.core.blobs.export import export_column
from desktop_app.core.browse.filters import parse_filter, where_clause
from desktop_app.core.browse.paging import TablePager
from desktop_app.core.database import Database
from desktop_app.core.errors import DatabaseOpenError, UserError
from desktop_app.core.export.csv_file import export_query_csv
from desktop_app.core.functions.registry import FunctionRegistry
from desktop_app.core.schema.catalog import Catalog, read_catalog
from desktop_app.core.search import SearchIndex, SearchOptions, collect
from desktop_app.core.snapshot.snapshot import Snapshot, open_snapshot
from desktop_app.core.sqlite.quoting import quote_identifier
from desktop_app.core.sqlite.statements import (
    locate_error,
    split_statements,
    statement_at,
    statement_kind,
)
from tests.conftest import CORPUS
from tests.fixtures import AWKWARD_TABLES, build_edge_case_database
from tests.hostile import AWKWARD_NAMES, build_hostile

T = TypeVar("T")

#: Multiplies every fuzz test's examples (FUZZ_SCALE=50 for the long run).
FUZZ_SCALE = max(1.0, float(os.environ.get("FUZZ_SCALE", "1") or 1))
#: Seconds a fuzzed statement may run; the check allows this much again for the interrupt to land.
TIME_LIMIT_S = 1.0


def fuzz(examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings for a fuzz test: `examples` scaled by FUZZ_SCALE, no deadline."""
    return settings(
        max_examples=max(1, int(examples * FUZZ_SCALE)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# ----- the database service, on one event loop for the whole module ---------------------------------


def _bounded_values(conn: sqlite3.Connection) -> None:
    # Random SQL may ask for randomblob(1e9); the fuzzer checks behaviour, not the machine's memory.
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 20_000_000)


@dataclass
class Service:
    """A `Database` over the edge-case database, driven from synchronous hypothesis tests."""

    loop: asyncio.AbstractEventLoop
    snapshot: Snapshot
    database: Database
    catalog: Catalog
    folder: Path

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run `awaitable` on the service's loop."""
        return self.loop.run_until_complete(awaitable)

    def still_answers(self) -> None:
        """The property after every example: a simple query still works."""
        result = self.run(self.database.execute("SELECT 1", use_cache=False))
        assert result.rows == [(1,)]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("fuzz")
    path = build_edge_case_database(folder / "edge.db")
    loop = asyncio.new_event_loop()
    snapshot = open_snapshot(path)
    database = Database(snapshot, hooks=[FunctionRegistry(None).hook, _bounded_values])
    catalog = loop.run_until_complete(database.run_sync(read_catalog))
    yield Service(loop, snapshot, database, catalog, folder)
    loop.run_until_complete(database.close())
    snapshot.close()
    loop.close()


# ----- random SQL ------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """The whitespace-separated words of `text`."""
    return text.split()


KEYWORDS = words("""SELECT FROM WHERE WITH RECURSIVE UNION ALL INTERSECT EXCEPT VALUES PRAGMA ATTACH DETACH
DATABASE
VACUUM INTO CREATE TEMP TABLE VIEW INDEX TRIGGER VIRTUAL USING DROP INSERT OR REPLACE UPDATE SET DELETE
ALTER RENAME ADD COLUMN BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE EXPLAIN QUERY PLAN ANALYZE REINDEX ORDER
BY GROUP HAVING LIMIT OFFSET JOIN LEFT CROSS NATURAL ON AS CASE WHEN THEN ELSE END NOT NULL IS IN LIKE
GLOB REGEXP MATCH ESCAPE BETWEEN AND DISTINCT CAST COLLATE NOCASE OVER PARTITION WINDOW ROWS RANGE
RETURNING DEFAULT EXISTS FILTER MATERIALIZED GENERATED ALWAYS STRICT WITHOUT ROWID""")
FUNCTIONS = words("""abs( lower( upper( length( substr( instr( hex( quote( typeof( coalesce( ifnull( nullif(
printf( replace( trim( round( count( sum( avg( min( max( group_concat( json( json_extract( json_each(
regexp( median( percentile( sha256( normalize( blob_type( unixepoch_to_iso( iso_to_unixepoch( stdev(
load_extension( readfile( writefile( fts3_tokenizer( sqlite_version( zeroblob( randomblob(
row_number( lag( ntile( pragma_table_info( pragma_function_list( highlight( bm25(""")
PUNCTUATION = words("""( ) ( ) , , ; ; . * + - / % || = == != <> < <= > >= << >> & | ~ -> ->> /* */ -- \n ? ?1
?99999 :name @x $y ' " ` [ ]""")
PRAGMAS = words("""query_only trusted_schema writable_schema journal_mode user_version table_info
foreign_keys cache_size temp_store mmap_size wal_checkpoint integrity_check schema_version""")


def _quoted(name: str, style: int) -> str:
    if style == 0:
        return '"' + name.replace('"', '""') + '"'
    if style == 1:
        return f"[{name}]"
    if style == 2:
        return f"`{name}`"
    return name


identifiers = st.builds(
    _quoted,
    st.sampled_from([*AWKWARD_TABLES, *AWKWARD_NAMES[:20], "t", "parent", "child", "mixed", "compound",
                     "sqlite_schema", "main", "temp", "docs", "broken_view", "generated", "x", "id"]),
    st.integers(0, 3),
)  # fmt: skip
literals = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.text(max_size=6),  # unterminated or stray text
    st.binary(max_size=8).map(lambda b: f"X'{b.hex()}'"),
    st.sampled_from(["NULL", "X'zz'", "X'0'", "1e999", "-0", "0x7fffffffffffffff", "'it''s'", "''"]),
)
tokens = st.one_of(
    st.sampled_from(KEYWORDS),
    st.sampled_from(FUNCTIONS),
    st.sampled_from(PUNCTUATION),
    st.sampled_from(PRAGMAS),
    identifiers,
    literals,
)
token_soup = st.lists(tokens, max_size=40).map(" ".join)
templates = st.one_of(
    st.builds("SELECT {} FROM {} WHERE {} {} {}".format, tokens, identifiers, tokens, tokens, tokens),
    st.builds(
        "SELECT {}({}, {}) FROM {}".format,
        st.sampled_from(FUNCTIONS).map(lambda f: f[:-1]),
        tokens,
        literals,
        identifiers,
    ),
    st.builds("PRAGMA {} = {}".format, st.sampled_from(PRAGMAS), literals),
    st.builds("PRAGMA {}({})".format, st.sampled_from(PRAGMAS), identifiers),
    st.builds("ATTACH {} AS {}".format, literals, identifiers),
    st.builds("VACUUM INTO {}".format, literals),
    st.builds(
        "WITH RECURSIVE c(x) AS (SELECT {} UNION ALL SELECT x + 1 FROM c) SELECT {} FROM c LIMIT {}".format,
        literals,
        tokens,
        literals,
    ),
    st.builds("{}; {}".format, token_soup, token_soup),
)
random_sql = st.one_of(token_soup, templates, st.text(max_size=200))


@fuzz(150)
@given(sql=random_sql)
def test_random_sql_only_raises_user_errors_and_respects_the_time_limit(service: Service, sql: str) -> None:
    started = time.monotonic()
    try:
        service.run(service.database.execute(sql, max_rows=200, time_limit_s=TIME_LIMIT_S, use_cache=False))
    except UserError as exc:
        assert exc.message.strip()
    # Generous for shared machines: a statement the limit missed runs for minutes or forever.
    assert time.monotonic() - started < TIME_LIMIT_S * 2 + 20, f"{sql!r} ran past its time limit"
    service.still_answers()


@fuzz(60)
@given(sql=random_sql)
def test_random_sql_into_csv_export_only_raises_user_errors(service: Service, sql: str) -> None:
    target = service.folder / "fuzz.csv"
    target.unlink(missing_ok=True)
    try:
        service.run(service.database.run_sync(export_query_csv, sql, (), target, time_limit_s=TIME_LIMIT_S))
    except UserError:
        assert not target.exists()  # a failed export leaves no file that looks complete
    assert not list(service.folder.glob(".*.part"))
    service.still_answers()


@fuzz(150)
@given(sql=st.one_of(random_sql, st.text(max_size=400)), data=st.data())
def test_statement_splitting_never_fails_and_covers_the_text(sql: str, data: st.DataObject) -> None:
    statements = split_statements(sql)
    end = 0
    for statement in statements:
        assert statement.start >= end and sql[statement.start : statement.end] == statement.text
        assert statement.text.strip(" \t\n\f\r\v")  # the splitter's whitespace (\x1f is not)
        end = statement.end
        statement_kind(statement)
        message = data.draw(
            st.one_of(
                st.builds('near "{}": syntax error'.format, st.text(max_size=8)),
                st.builds("no such table: {}".format, st.text(max_size=8)),
                st.just("incomplete input"),
                st.text(max_size=30),
            )
        )
        offset = locate_error(statement, message)
        assert offset is None or statement.start <= offset <= statement.end
    found = statement_at(sql, data.draw(st.integers(-5, len(sql) + 5)))
    assert found is None or found in statements


def test_lone_surrogates_and_huge_integers_are_user_errors(service: Service) -> None:
    for sql, params in (("SELECT '\ud800'", ()), ("SELECT ?", ("\udfff",)), ("SELECT ?", (2**64,))):
        with pytest.raises(UserError):
            service.run(service.database.execute(sql, params, use_cache=False))
    service.still_answers()


# ----- random files, bit flips and truncations of corpus files --------------------------------------


async def _open_and_read_everything(path: Path) -> None:
    """What opening a file in the app does, then a query of every table; only UserErrors may escape."""
    snapshot = await asyncio.to_thread(open_snapshot, path)
    database = Database(snapshot)
    try:
        catalog = await database.run_sync(read_catalog, time_limit_s=5)
        for table in catalog.tables[:40]:
            try:
                await database.execute(f"SELECT * FROM {table.quoted}", max_rows=50, time_limit_s=5)
            except UserError:
                pass
        assert (await database.execute("SELECT 1", use_cache=False)).rows == [(1,)]
    finally:
        await database.close()
        snapshot.close()


def _check_file(path: Path) -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_open_and_read_everything(path))
    except DatabaseOpenError as exc:
        assert exc.message.startswith("“") and path.name in exc.message
    except UserError as exc:
        assert exc.message.strip()
    finally:
        loop.close()
    code = cli_main(["info", str(path)])
    assert code in (0, 1)


HEADER = b"SQLite format 3\x00"
page_sizes = st.sampled_from([b"\x02\x00", b"\x04\x00", b"\x10\x00", b"\x00\x01", b"\x00\x00", b"\xff\xff"])
random_database_bytes = st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda ps, rest: HEADER + ps + rest, page_sizes, st.binary(min_size=0, max_size=8192)),
)


@fuzz(40)
@given(content=random_database_bytes)
def test_random_bytes_as_a_database_open_or_are_refused_clearly(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "random.db"
    path.write_bytes(content)
    _check_file(path)
    assert "Traceback" not in capsys.readouterr().err


#: Small corpus files (bit flips are cheap to try on them); WAL pairs are copied together.
FLIP_TARGETS = (
    "sqlite-test/dbfuzz2-seed1.db",
    "duckdb-sqlite/norowid.db",
    "duckdb-sqlite/borked.db",
    "duckdb-sqlite/fts.db",
    "plaso/wal_database.db",
    "plaso/History",
    "geopackage/gdal_sample.gpkg",
    "chinook/Chinook_Sqlite.sqlite",
)


def _corpus_copy(relative: str, folder: Path) -> Path:
    """Copy a corpus file (and its -wal, if any) into `folder`; the corpus itself is never opened here."""
    source = CORPUS / relative
    if not source.exists():
        pytest.skip(f"corpus file {relative} not found")
    target = folder / source.name
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    return target


@fuzz(60)
@given(
    relative=st.sampled_from(FLIP_TARGETS),
    flips=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 99), st.integers(100, 8191), st.integers(0, 2**20)), st.integers(0, 7)
        ),
        min_size=1,
        max_size=12,
    ),
    truncate=st.one_of(st.none(), st.integers(0, 2**20)),
    in_wal=st.booleans(),
)  # fmt: skip
def test_bit_flipped_corpus_files_open_or_are_refused_clearly(
    relative: str,
    flips: list[tuple[int, int]],
    truncate: int | None,
    in_wal: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _corpus_copy(relative, Path(tempfile.mkdtemp(dir=tmp_path)))
    wal = path.with_name(path.name + "-wal")
    target = wal if in_wal and wal.exists() else path
    data = bytearray(target.read_bytes())
    for offset, bit in flips:
        if offset < len(data):
            data[offset] ^= 1 << bit
    if truncate is not None:
        del data[truncate:]
    target.write_bytes(bytes(data))
    _check_file(path)
    assert "Traceback" not in capsys.readouterr().err


# ----- random search text and options ----------------------------------------------------------------

search_text = st.one_of(
    st.text(min_size=0, max_size=12),
    st.sampled_from(
        ["%", "_", "*", "?", "[", "]", "\\", "'", '"', "\x00", "é", "😀", "-minus", "NEAR", "a..b"]
    ),
    st.from_regex(r"[a-z(|)*+?.\\\[\]{}^$0-9]{1,10}", fullmatch=True),
)


@fuzz(120)
@given(
    text=search_text,
    case_sensitive=st.booleans(),
    whole_word=st.booleans(),
    regex=st.booleans(),
    blobs=st.booleans(),
    numbers=st.booleans(),
    views=st.booleans(),
    tables=st.lists(st.sampled_from([*AWKWARD_TABLES, "parent", "docs", "nope", "broken_view"]), max_size=3),
    use_fts=st.booleans(),
    with_index=st.booleans(),
)
def test_random_search_only_raises_user_errors(
    service: Service,
    text: str,
    case_sensitive: bool,
    whole_word: bool,
    regex: bool,
    blobs: bool,
    numbers: bool,
    views: bool,
    tables: list[str],
    use_fts: bool,
    with_index: bool,
) -> None:
    options = SearchOptions(
        text,
        case_sensitive=case_sensitive,
        whole_word=whole_word,
        regex=regex,
        include_blobs=blobs,
        include_numbers=numbers,
        include_views=views,
        tables=tuple(tables),
        use_fts=use_fts,
        limit=300,
    )
    index = _search_index(service) if with_index else None
    try:
        service.run(service.database.run_sync(collect, options, index=index, time_limit_s=10))
    except UserError as exc:
        assert exc.message.strip()
    service.still_answers()


_INDEXES: dict[int, SearchIndex] = {}


def _search_index(service: Service) -> SearchIndex:
    key = id(service)
    if key not in _INDEXES:
        _INDEXES[key] = service.run(
            service.database.run_sync(
                lambda conn: SearchIndex.build(conn, generation=service.database.generation)
            )
        )
    return _INDEXES[key]


# Found by fuzzing: Python's re ran a nested-quantifier pattern for ever holding the GIL. RE2 matches in
# linear time, so the pattern simply finishes (pytest-timeout is the bound here, not a timed assertion).
def test_nested_quantifier_on_a_long_value_finishes_in_search_and_in_sql(tmp_path: Path) -> None:
    snapshot = open_snapshot(build_hostile(tmp_path, "values"))  # holds a 70,000-character value of "x"
    conn = snapshot.connect([FunctionRegistry().hook])
    try:
        # `(x+x+)+y` matches exactly the values holding "xxy" (as blobs: some text is not UTF-8).
        expected = conn.execute("SELECT count(*) FROM mixed WHERE instr(CAST(v AS BLOB), 'xxy')").fetchone()
        found = conn.execute("SELECT count(*) FROM mixed WHERE CAST(v AS BLOB) REGEXP '(x+x+)+y'")
        assert found.fetchone() == expected
        assert collect(conn, SearchOptions("(x+x+)+y", regex=True, tables=("mixed",))).hits == []
        assert len(collect(conn, SearchOptions("(x+x+)+", regex=True, tables=("mixed",))).hits) > 0
    finally:
        conn.close()
        snapshot.close()


# ----- random filter expressions (the Browse filter row) ---------------------------------------------

filter_text = st.one_of(
    st.text(max_size=20),
    st.builds(
        "{}{}".format,
        st.sampled_from(["=", "<>", "!=", "<", "<=", ">", ">=", "==", "!", ""]),
        st.one_of(st.text(max_size=8), st.integers().map(str), st.floats().map(repr)),
    ),
    st.builds("{}..{}".format, st.text(max_size=5), st.text(max_size=5)),
    st.sampled_from(["NULL", "not null", "EMPTY", "!EMPTY", "''", '""', "'", "*", "%", "_", "..", "=", "!"]),
)


@fuzz(150)
@given(text=filter_text, column=st.sampled_from([*AWKWARD_TABLES, 'col "quoted"', "value", "id"]))
def test_any_filter_is_a_user_error_or_sql_that_runs(text: str, column: str) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE TABLE t ({quote_identifier(column)}, other)")
        conn.execute("INSERT INTO t VALUES (1, 2), ('a..b', NULL), (NULL, x'00')")
        try:
            condition = parse_filter(quote_identifier(column), text)
            combined = where_clause({column: text, "other": text})
        except UserError:
            return
        for clause in (condition, combined):
            if clause is not None:
                conn.execute(f"SELECT count(*) FROM t WHERE {clause.sql}", clause.params).fetchone()
    finally:
        conn.close()


def test_filter_number_beyond_64_bits_is_compared_as_a_real() -> None:
    condition = parse_filter("n", "=99999999999999999999")
    assert condition is not None and condition.params == (1e20,)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (n)")
    conn.execute("INSERT INTO t VALUES (1e20), (5)")
    assert conn.execute(f"SELECT count(*) FROM t WHERE {condition.sql}", condition.params).fetchone() == (1,)
    conn.close()


@fuzz(60)
@given(
    table=st.sampled_from([*AWKWARD_TABLES, "compound", "mixed", "generated", "strict_table", "broken_view"]),
    text=filter_text,
    sort_descending=st.booleans(),
)
def test_browse_with_any_filter_only_raises_user_errors(
    service: Service, table: str, text: str, sort_descending: bool
) -> None:
    from desktop_app.core.browse.paging import SortKey

    entry = service.catalog.table(table)
    assert entry is not None
    try:
        columns = [c.name for c in entry.columns]
        pager = TablePager(
            entry,
            sort=[SortKey(columns[-1], sort_descending)] if columns else [],
            filters={name: text for name in columns[:2]},
        )
        service.run(service.database.run_sync(pager.count, time_limit_s=5))
        service.run(service.database.run_sync(pager.fetch, 0, 20, time_limit_s=5))
    except UserError as exc:
        assert exc.message.strip()
    service.still_answers()


# ----- random file-name patterns for blob export ------------------------------------------------------

pattern_pieces = st.one_of(
    st.sampled_from(["{pk}", "{rowid}", "{n}", "{ext}", "{n:05d}", "{payload}", "{a}", "{b}", "{nope}", "{",
                     "}", "{{", "}}", "/", "\\", "..", ".", "\x00", "CON", "~", "$HOME", "%s", "{n!r}",
                     "{a:>300}", "{n:999999d}", "{0}", "{}", "{a.__class__}", "{a[0]}"]),
    st.text(max_size=6),
)  # fmt: skip


@fuzz(80)
@given(pattern=st.lists(pattern_pieces, min_size=1, max_size=6).map("".join))
def test_any_blob_name_pattern_writes_only_inside_the_folder(service: Service, pattern: str) -> None:
    root = Path(tempfile.mkdtemp(dir=service.folder))
    folder = root / "out"
    try:
        result = service.run(
            service.database.run_sync(export_column, "compound", "payload", folder, pattern=pattern)
        )
    except UserError as exc:
        assert exc.message.strip()
    else:
        names = {p.name for p in folder.iterdir()}
        assert names == set(result.file_names)
        assert all("/" not in name and "\\" not in name and name not in (".", "..") for name in names)
    assert [p.name for p in root.iterdir()] in ([], ["out"])  # nothing written beside the folder
    assert not [p for p in folder.rglob("*") if p.is_dir()] if folder.exists() else True
    shutil.rmtree(root)
    service.still_answers()
