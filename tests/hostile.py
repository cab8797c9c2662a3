"""Hostile databases, built by code in a temporary folder (nothing binary is committed).

Each entry of `HOSTILE` makes one database that a careless browser would crash on, hang on, or
misrepresent: awkward identifiers, bad text, odd encodings and page sizes, schemas SQLite itself
cannot fully read, very wide and very large rows, and files that are not databases at all.

    paths = build_all(tmp_path)                 # name → path of the main file
    path = build_hostile(tmp_path, "utf16le")   # one of them

Notes on what SQLite does with some values, so tests expect the right thing:
- NaN cannot be stored: binding float("nan") stores NULL (SQLite has no NaN). ±Inf are stored as REAL.
- A NUL inside TEXT is kept (length counts it) but C string functions stop at it.
- `user_version` is a signed 32-bit integer: the limits are -2**31 and 2**31 - 1.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

#: Names every identifier-handling path must survive (tables, columns, indexes, views, triggers).
AWKWARD_NAMES: tuple[str, ...] = (
    "it's",
    'q"t',
    "table]name",
    "[x]",
    "`x`",
    "",
    "   ",
    "select",
    "from",
    "where",
    "order",
    "group by",
    "x" * 300,
    "😀",
    "e\u0301te\u0301",  # combining accents (not NFC-normalised)
    "שלום עולם",  # right-to-left
    "\u202eevil\u202c",  # a right-to-left override inside the name
    "a.b",
    "a/b",
    "../up",
    "NULL",
    "rowid",
    "Order Details",
    "tab\there",
    "new\nline",
    "%_*?",
    "'; DROP TABLE x; --",
)

#: Values that are hard to store, show, search and export; NaN goes in as NULL (SQLite has no NaN).
AWKWARD_VALUES: tuple[object, ...] = (
    None,
    0,
    -0.0,
    1.5,
    float("inf"),
    float("-inf"),
    float("nan"),
    2**63 - 1,
    -(2**63),
    "",
    " ",
    "plain text",
    "nul\x00inside",
    "\x00",
    "😀 emoji and e\u0301",
    "שלום",
    '=HYPERLINK("http://example.invalid")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1",
    "line\r\nbreaks\rand\nmore",
    "a,b;c\td\"e'f",
    b"",
    b"\x00\xff\xfe",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    b"%PDF-1.4 not really",
    "x" * 70_000,
)


def quote(name: str) -> str:
    """Quote an identifier for the builder's own SQL (the code under test has its own quoting)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class HostileSpec:
    """How to build one hostile database, and what a reader should expect of it."""

    name: str
    about: str
    build: Callable[[Path], None]
    #: False for files that must be refused with a clear message (not a database, malformed schema).
    opens: bool = True
    #: Slow or memory-hungry (the 100 MB row): only with `--run-slow` or HOSTILE_SLOW=1.
    slow: bool = False
    #: File name to use; awkward on purpose for some (URI characters, quotes, emoji).
    file_name: str = ""


HOSTILE: dict[str, HostileSpec] = {}


def hostile(
    name: str, about: str, *, opens: bool = True, slow: bool = False, file_name: str = ""
) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    """Register a builder under `name`."""

    def register(build: Callable[[Path], None]) -> Callable[[Path], None]:
        HOSTILE[name] = HostileSpec(name, about, build, opens, slow, file_name or f"{name}.db")
        return build

    return register


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _finish(conn: sqlite3.Connection) -> None:
    conn.commit()
    conn.close()


@hostile(
    "identifiers",
    "every awkward identifier as table, column, index, view and trigger names",
    file_name="weird #1 ?x=y %20 it's [😀].db",
)
def _identifiers(path: Path) -> None:
    conn = _connect(path)
    conn.execute("BEGIN")
    for n, name in enumerate(AWKWARD_NAMES):
        columns = [c for c in AWKWARD_NAMES if c.lower() != "rowid"][:8]
        # Column names must differ case-insensitively; the table's own name is a column too.
        column_defs = ", ".join(f"{quote(f'{c}#{i}')} TEXT" for i, c in enumerate(columns))
        conn.execute(
            f"CREATE TABLE {quote(name)} (id INTEGER PRIMARY KEY, {quote(name)} BLOB, {column_defs})"
        )
        placeholders = ", ".join("?" * (len(columns) + 2))
        conn.executemany(
            f"INSERT INTO {quote(name)} VALUES ({placeholders})",
            [
                (i, f"blob {i}".encode() if i % 2 else f"{name} {i}", *(f"{c} {i}" for c in columns))
                for i in range(1, 4)
            ],
        )
        conn.execute(f"CREATE INDEX {quote(f'idx {name} {n}')} ON {quote(name)} ({quote(name)})")
        conn.execute(f"CREATE VIEW {quote(f'view {name} {n}')} AS SELECT * FROM {quote(name)}")
        conn.execute(
            f"CREATE TRIGGER {quote(f'trg {name} {n}')} AFTER UPDATE ON {quote(name)} BEGIN SELECT 1; END"
        )
    # A column literally named rowid, _rowid_ and oid: the table's rowid is unreachable by name.
    conn.execute('CREATE TABLE shadowed ("rowid" TEXT, "_rowid_" TEXT, "oid" TEXT, data BLOB)')
    conn.execute("INSERT INTO shadowed VALUES ('r', 'u', 'o', x'0102')")
    conn.execute('CREATE TABLE "Case" (a)')
    conn.execute('INSERT INTO "Case" VALUES (1)')
    _finish(conn)


@hostile("invalid_utf8_names", "table, column and view names that are not valid UTF-8 (via writable_schema)")
def _invalid_utf8_names(path: Path) -> None:
    conn = _connect(path)
    conn.execute("CREATE TABLE placeholder (col TEXT, data BLOB)")
    conn.execute("INSERT INTO placeholder VALUES ('value', x'00ff')")
    conn.execute("CREATE TABLE fine (x)")
    conn.execute("INSERT INTO fine VALUES (1)")
    conn.execute("CREATE VIEW bad_alias AS SELECT 1 AS placeholder")
    conn.execute("CREATE VIEW bad_missing AS SELECT * FROM fine")
    conn.execute("PRAGMA writable_schema=ON")
    bad = "CAST(X'C328' AS TEXT)"  # "Ã(" cut short: invalid UTF-8
    conn.execute(
        f"UPDATE sqlite_master SET name = 'bad' || {bad}, tbl_name = 'bad' || {bad}, "
        f"sql = 'CREATE TABLE \"bad' || {bad} || '\" (\"col' || {bad} || '\" TEXT, data BLOB)' "
        "WHERE name = 'placeholder'"
    )
    # A view whose column name, and one whose error message, are not valid UTF-8 either.
    conn.execute(
        f"UPDATE sqlite_master SET sql = 'CREATE VIEW bad_alias AS SELECT 1 AS \"a' || {bad} || '\"' "
        "WHERE name = 'bad_alias'"
    )
    conn.execute(
        f"UPDATE sqlite_master SET sql = 'CREATE VIEW bad_missing AS SELECT * FROM \"gone' || {bad} || '\"' "
        "WHERE name = 'bad_missing'"
    )
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute(f"PRAGMA schema_version={version + 1}")
    conn.execute("PRAGMA writable_schema=OFF")
    conn.close()


@hostile("values", "invalid UTF-8, NUL in text, ±Inf, NaN (stored as NULL), 64-bit limits, mixed types")
def _values(path: Path) -> None:
    conn = _connect(path)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE mixed (id INTEGER PRIMARY KEY, v)")
    conn.executemany("INSERT INTO mixed (v) VALUES (?)", [(v,) for v in AWKWARD_VALUES])
    for raw in ("C328", "FF", "80", "EDA080", "F4908080", "C0AF", "41FF42"):
        conn.execute(f"INSERT INTO mixed (v) VALUES (CAST(X'{raw}' AS TEXT))")
    conn.execute("CREATE TABLE typed (i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC)")
    # Declared types are only affinities: every column receives every kind of value.
    for value in AWKWARD_VALUES:
        conn.execute("INSERT INTO typed VALUES (?, ?, ?, ?, ?)", (value,) * 5)
    conn.execute("CREATE TABLE limits (id INTEGER PRIMARY KEY, v INTEGER)")
    conn.executemany(
        "INSERT INTO limits VALUES (?, ?)",
        [(2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)), (0, 0), (-1, 2**53 + 1)],
    )
    conn.execute("CREATE TABLE nul_keys (k TEXT PRIMARY KEY, v) WITHOUT ROWID")
    conn.executemany(
        "INSERT INTO nul_keys VALUES (?, ?)",
        [("a\x00b", 1), ("a\x00c", 2), ("", 3), ("a/b", 4), ("é", 5)],
    )
    _finish(conn)


def _utf16(encoding: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        conn = _connect(path)
        conn.execute(f"PRAGMA encoding='{encoding}'")
        conn.execute(f"CREATE TABLE {quote('😀 ' + encoding)} (id INTEGER PRIMARY KEY, {quote('é')} TEXT, b)")
        conn.executemany(
            f"INSERT INTO {quote('😀 ' + encoding)} VALUES (?, ?, ?)",
            [
                (1, "Grüße 😀", b"\x00\x01"),
                (2, "שלום", "text in blob column"),
                (3, "nul\x00inside", None),
                (4, "", 4.5),
            ],
        )
        conn.execute("CREATE TABLE fts_src (body TEXT)")
        conn.execute("INSERT INTO fts_src VALUES ('ünïcödé words here')")
        conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body, content='fts_src')")
        conn.execute("INSERT INTO docs(docs) VALUES ('rebuild')")
        conn.close()

    return build


hostile("utf16le", "a UTF-16le database with emoji names and text")(_utf16("UTF-16le"))
hostile("utf16be", "a UTF-16be database with emoji names and text")(_utf16("UTF-16be"))


@hostile("schema_features", "STRICT, generated columns, WITHOUT ROWID compound keys, AUTOINCREMENT, stat1")
def _schema_features(path: Path) -> None:
    conn = _connect(path)
    conn.executescript(
        """
        BEGIN;
        CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL, t TEXT, b BLOB, a ANY)
            STRICT;
        INSERT INTO strict_t VALUES (1, 9223372036854775807, 1e308, 'x', x'00', 'any'),
                                    (2, -9223372036854775808, -1e308, '', x'', 3.5);
        CREATE TABLE gen (
            a INTEGER, b TEXT,
            v INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
            s TEXT GENERATED ALWAYS AS (b || '!') STORED,
            blob_v BLOB GENERATED ALWAYS AS (CAST(b AS BLOB)) VIRTUAL
        );
        INSERT INTO gen (a, b) VALUES (1, 'one'), (NULL, NULL), (3, 'thr"ee');
        CREATE TABLE compound (
            "k 1" TEXT, "k'2" INTEGER, k3 BLOB, payload BLOB,
            PRIMARY KEY ("k'2" DESC, "k 1", k3)
        ) WITHOUT ROWID;
        INSERT INTO compound VALUES ('a/b', 1, x'00', x'89504e470d0a1a0a'),
                                    ('a/b', 2, x'', NULL),
                                    ('', -1, x'ff', 'text payload');
        CREATE TABLE strict_norowid (a TEXT, b INT, c BLOB, PRIMARY KEY (a, b)) STRICT, WITHOUT ROWID;
        INSERT INTO strict_norowid VALUES ('x', 1, x'01');
        CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, v);
        INSERT INTO auto (v) VALUES (1), (2);
        CREATE TABLE aliased (my_id INTEGER PRIMARY KEY, v);
        INSERT INTO aliased VALUES (-5, 'neg'), (9223372036854775807, 'max');
        CREATE TABLE no_pk (v);
        INSERT INTO no_pk VALUES (1), (1), (NULL);
        CREATE INDEX expr_idx ON gen (lower(b));
        CREATE INDEX partial_idx ON gen (a) WHERE a > 1;
        CREATE UNIQUE INDEX uniq ON aliased (v);
        CREATE VIEW dup_columns AS SELECT 1 AS a, 2 AS a, 3 AS "", NULL AS "a:1";
        COMMIT;
        ANALYZE;
        """
    )
    conn.close()


@hostile("broken_objects", "a view over a dropped table, a view that fails at run time, a missing module")
def _broken_objects(path: Path) -> None:
    conn = _connect(path)
    conn.executescript(
        """
        CREATE TABLE fine (id INTEGER PRIMARY KEY, t TEXT);
        INSERT INTO fine VALUES (1, 'still readable');
        CREATE TABLE doomed (x);
        CREATE VIEW over_dropped AS SELECT x FROM doomed;
        CREATE VIEW over_dropped_star AS SELECT * FROM doomed;
        DROP TABLE doomed;
        CREATE VIEW runtime_error AS SELECT json_extract('{not json', '$') AS j;
        CREATE VIEW missing_function AS SELECT no_such_function(1) AS f;
        CREATE VIEW view_on_view AS SELECT * FROM over_dropped;
        """
    )
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute(
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
        "VALUES ('table', 'ghost', 'ghost', 0, 'CREATE VIRTUAL TABLE ghost USING nosuchmodule(x, y)')"
    )
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute(f"PRAGMA schema_version={version + 1}")
    conn.execute("PRAGMA writable_schema=OFF")
    conn.close()


@hostile(
    "json_schema", "JSON functions in a view and a generated column; the view meets a row that is not JSON"
)
def _json_schema(path: Path) -> None:
    # SQLite 3.40's JSON functions are not SQLITE_INNOCUOUS, so with trusted_schema=OFF reading these
    # objects fails with "unsafe use of json_extract()"; newer SQLite marks them innocuous.
    conn = _connect(path)
    conn.executescript(
        """
        CREATE TABLE docs (
            id INTEGER PRIMARY KEY, data TEXT,
            name TEXT GENERATED ALWAYS AS (json_extract(data, '$.name')) VIRTUAL
        );
        INSERT INTO docs (data) VALUES ('{"name": "a"}'), ('[1, 2]');
        CREATE TABLE plain (id INTEGER PRIMARY KEY, data TEXT);
        INSERT INTO plain (data) VALUES ('{"name": "b"}'), ('not json');
        CREATE VIEW plain_names AS SELECT json_extract(data, '$.name') AS name FROM plain;
        """
    )
    conn.close()


@hostile("fts", "FTS5 with external content (one intact, one whose content table is gone), FTS4, rtree")
def _fts(path: Path) -> None:
    conn = _connect(path)
    conn.executescript(
        """
        CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
        INSERT INTO articles VALUES (1, 'Hello', 'first "quoted" body with NEAR and -minus'),
                                    (2, 'Ünïcode', 'second body 😀'),
                                    (3, NULL, NULL);
        CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id');
        INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');
        CREATE TABLE orphan_src (id INTEGER PRIMARY KEY, body TEXT);
        INSERT INTO orphan_src VALUES (1, 'soon gone');
        CREATE VIRTUAL TABLE orphan_fts USING fts5(body, content='orphan_src', content_rowid='id');
        INSERT INTO orphan_fts(orphan_fts) VALUES ('rebuild');
        DROP TABLE orphan_src;
        CREATE VIRTUAL TABLE contentless USING fts5(body, content='');
        INSERT INTO contentless (rowid, body) VALUES (1, 'only the index knows');
        CREATE VIRTUAL TABLE old_fts USING fts4(body, tokenize=unicode61);
        INSERT INTO old_fts VALUES ('fts four text');
        CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy);
        INSERT INTO boxes VALUES (1, 0, 1, 0, 1);
        """
    )
    conn.close()


@hostile("wide", "a table of 2,000 columns (SQLite's default maximum) and a view of it")
def _wide(path: Path) -> None:
    conn = _connect(path)
    columns = [f"c{i}" for i in range(2000)]
    conn.execute(f"CREATE TABLE wide ({', '.join(columns)})")
    placeholders = ", ".join("?" * len(columns))
    conn.executemany(
        f"INSERT INTO wide VALUES ({placeholders})",
        [[f"r{r}c{i}" if i % 3 else i for i in range(len(columns))] for r in range(3)],
    )
    conn.execute("CREATE VIEW wide_view AS SELECT * FROM wide")
    conn.close()


def _big_row(size: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        conn = _connect(path)
        conn.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, data BLOB, note TEXT)")
        # zeroblob writes the bytes without Python ever holding them.
        conn.execute("INSERT INTO big VALUES (1, zeroblob(?), 'zeros')", (size,))
        conn.execute("INSERT INTO big VALUES (2, randomblob(1000), ?)", ("t" * (size // 4),))
        conn.execute("CREATE TABLE big_norowid (k TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID")
        conn.execute("INSERT INTO big_norowid VALUES ('k', zeroblob(?))", (min(size, 3 << 20),))
        conn.close()

    return build


hostile("big_row", "a 4 MB blob and a 1 MB text (several read chunks)")(_big_row(4 << 20))
hostile("huge_row", "a row of 100 MB", slow=True)(_big_row(100 << 20))


@hostile("empty_schema", "a database with no tables at all")
def _empty_schema(path: Path) -> None:
    conn = _connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")
    conn.close()


@hostile("empty_tables", "tables, a WITHOUT ROWID table, a view and an FTS table with no rows")
def _empty_tables(path: Path) -> None:
    conn = _connect(path)
    conn.executescript(
        """
        CREATE TABLE "nothing" (id INTEGER PRIMARY KEY, b BLOB);  -- NOTHING is a keyword (DO NOTHING)
        CREATE TABLE nothing_norowid (k TEXT PRIMARY KEY, b BLOB) WITHOUT ROWID;
        CREATE VIEW nothing_view AS SELECT * FROM "nothing";
        CREATE VIRTUAL TABLE nothing_fts USING fts5(t);
        """
    )
    conn.close()


def _user_version(value: int, application_id: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        conn = _connect(path)
        conn.execute(f"PRAGMA user_version={value}")
        conn.execute(f"PRAGMA application_id={application_id}")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.close()

    return build


hostile("user_version_max", "user_version and application_id at 2**31 - 1")(
    _user_version(2**31 - 1, 2**31 - 1)
)
hostile("user_version_min", "user_version and application_id at -2**31")(_user_version(-(2**31), -(2**31)))


def _page_size(size: int, auto_vacuum: str = "NONE") -> Callable[[Path], None]:
    def build(path: Path) -> None:
        conn = _connect(path)
        conn.execute(f"PRAGMA page_size={size}")
        conn.execute(f"PRAGMA auto_vacuum={auto_vacuum}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, blob BLOB, text TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?, randomblob(?), ?)",
            [(i, i * 700, "x" * (i * 300)) for i in range(1, 30)],
        )
        conn.execute("DELETE FROM t WHERE id % 3 = 0")  # free pages (moved away under auto_vacuum)
        conn.execute("CREATE INDEX t_text ON t (text)")
        conn.close()
        with closing(sqlite3.connect(path)) as check:
            assert check.execute("PRAGMA page_size").fetchone()[0] == size

    return build


hostile("page_65536", "65536-byte pages")(_page_size(65536))
hostile("page_512", "512-byte pages (long values spill into overflow chains)")(_page_size(512))
hostile("auto_vacuum_full", "auto_vacuum=FULL (pointer-map pages)")(_page_size(4096, "FULL"))
hostile("auto_vacuum_incremental", "auto_vacuum=INCREMENTAL")(_page_size(1024, "INCREMENTAL"))


@hostile("fk_chain", "a 150-table foreign-key chain, a self reference and a cycle")
def _fk_chain(path: Path) -> None:
    conn = _connect(path)
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE t0 (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t0 VALUES (1)")
    for i in range(1, 150):
        conn.execute(
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES t{i - 1}(id) "
            "ON DELETE CASCADE)"
        )
        conn.execute(f"INSERT INTO t{i} VALUES (1, 1)")
    conn.execute("CREATE TABLE tree (id INTEGER PRIMARY KEY, parent REFERENCES tree(id))")
    conn.execute("INSERT INTO tree VALUES (1, NULL), (2, 1), (3, 99)")  # 99: a dangling reference
    conn.execute("CREATE TABLE cyc_a (id INTEGER PRIMARY KEY, b REFERENCES cyc_b(id))")
    conn.execute("CREATE TABLE cyc_b (id INTEGER PRIMARY KEY, a REFERENCES cyc_a(id))")
    conn.execute(
        'CREATE TABLE multi (x, y, FOREIGN KEY (x, y) REFERENCES "compound target"(a, b), '
        "FOREIGN KEY (y) REFERENCES missing_table(z))"
    )
    conn.execute('CREATE TABLE "compound target" (a, b, PRIMARY KEY (a, b))')
    _finish(conn)


#: Files the dangerous schema's views and triggers try to load or write, beside the database: the folder
#: must hold nothing but the database afterwards.
DANGEROUS_TARGETS = ("evil", "hostile-written", "hostile-trigger")


@hostile("dangerous_schema", "views and triggers calling load_extension, readfile, writefile, edit, ours")
def _dangerous_schema(path: Path) -> None:
    evil, written, trigger = (str(path.parent / name).replace("'", "''") for name in DANGEROUS_TARGETS)
    conn = _connect(path)
    conn.executescript(
        f"""
        CREATE TABLE victim (id INTEGER PRIMARY KEY, v TEXT);
        INSERT INTO victim VALUES (1, 'x');
        CREATE VIEW calls_load_extension AS SELECT load_extension('{evil}') AS x;
        CREATE VIEW calls_readfile AS SELECT readfile('/etc/passwd') AS x;
        CREATE VIEW calls_writefile AS SELECT writefile('{written}', 'pwned') AS x;
        CREATE VIEW calls_edit AS SELECT edit('text', 'vi') AS x;
        CREATE VIEW calls_fts3_tokenizer AS SELECT fts3_tokenizer('simple') AS x;
        CREATE VIEW calls_ours AS SELECT sha256(v) AS x, regexp('x', v) AS y FROM victim;
        CREATE VIEW calls_hostile_marker AS SELECT hostile_marker(v) AS x FROM victim;
        CREATE TRIGGER on_insert AFTER INSERT ON victim BEGIN
            SELECT writefile('{trigger}', 'pwned');
            SELECT load_extension('{evil}');
        END;
        """
    )
    conn.close()


@hostile("wal_pending", "WAL mode with un-checkpointed frames in -wal and no -shm beside it")
def _wal_pending(path: Path) -> None:
    staging = path.with_name(path.name + ".staging")
    conn = sqlite3.connect(staging, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE base (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO base VALUES (1, 'checkpointed')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("INSERT INTO base VALUES (2, 'only in the wal')")
    conn.execute("CREATE TABLE wal_only (x)")
    conn.execute("INSERT INTO wal_only VALUES ('new table')")
    # Copy while the writer is still open, so the frames are not checkpointed into the copy.
    shutil.copyfile(staging, path)
    shutil.copyfile(f"{staging}-wal", f"{path}-wal")
    conn.close()
    for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
        leftover.unlink(missing_ok=True)


@hostile("many_objects", "250 tables, 250 indexes and 125 triggers")
def _many_objects(path: Path) -> None:
    conn = _connect(path)
    conn.execute("BEGIN")
    for i in range(250):
        conn.execute(f"CREATE TABLE obj_{i} (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute(f"CREATE INDEX obj_{i}_v ON obj_{i} (v)")
        if i % 2:
            conn.execute(f"CREATE TRIGGER obj_{i}_t AFTER INSERT ON obj_{i} BEGIN SELECT 1; END")
    conn.execute("INSERT INTO obj_0 VALUES (1, 'needle')")
    _finish(conn)


# ----- files that are not (readable) databases: refused with a clear message -------------------------


@hostile("not_a_database", "a text file with a .db name", opens=False)
def _not_a_database(path: Path) -> None:
    path.write_text("this is not a database\n" * 100, encoding="utf-8")


@hostile("header_only", "the SQLite magic followed by garbage", opens=False)
def _header_only(path: Path) -> None:
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)


@hostile("zero_bytes", "an empty file", opens=False)
def _zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


@hostile("truncated", "a real database cut in the middle of its pages", opens=False)
def _truncated(path: Path) -> None:
    _many_objects(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3 + 123])


@hostile("malformed_schema", "a schema row whose SQL does not parse", opens=False)
def _malformed_schema(path: Path) -> None:
    conn = _connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE t (x' WHERE name = 't'")
    conn.execute("PRAGMA writable_schema=OFF")
    conn.close()


@hostile("malformed_schema_not_utf8", "an unparseable schema row that is not valid UTF-8 either", opens=False)
def _malformed_schema_not_utf8(path: Path) -> None:
    conn = _connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA writable_schema=ON")
    # SQLite's complaint quotes the bad bytes, which Python's sqlite3 cannot even decode.
    conn.execute(
        "UPDATE sqlite_master SET sql = 'CREATE TABLE t (x ' || CAST(X'C328' AS TEXT) WHERE name = 't'"
    )
    conn.execute("PRAGMA writable_schema=OFF")
    conn.close()


@hostile("directory", "a folder named like a database", opens=False)
def _directory(path: Path) -> None:
    path.mkdir()


def slow_wanted() -> bool:
    """True when slow hostile databases are asked for (HOSTILE_SLOW=1)."""
    return os.environ.get("HOSTILE_SLOW", "") not in ("", "0")


def build_hostile(folder: Path, name: str) -> Path:
    """Build the hostile database `name` in its own subfolder of `folder`; return the main file's path."""
    spec = HOSTILE[name]
    home = folder / name
    home.mkdir(parents=True, exist_ok=True)
    path = home / spec.file_name
    if not path.exists():
        spec.build(path)
    return path


def build_all(folder: Path, *, include_slow: bool | None = None) -> dict[str, Path]:
    """Build every hostile database (slow ones only when asked) and return name → path."""
    slow = slow_wanted() if include_slow is None else include_slow
    return {name: build_hostile(folder, name) for name, spec in HOSTILE.items() if slow or not spec.slow}


def openable_names(*, include_slow: bool | None = None) -> list[str]:
    """Names of the hostile databases that open (the rest must be refused clearly)."""
    slow = slow_wanted() if include_slow is None else include_slow
    return [name for name, spec in HOSTILE.items() if spec.opens and (slow or not spec.slow)]


def refused_names() -> list[str]:
    """Names of the hostile files that must be refused with a clear message."""
    return [name for name, spec in HOSTILE.items() if not spec.opens]
