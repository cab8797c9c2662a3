"""Databases with every case the search must meet, built by code (shared by the test_search* modules)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

LONG_NOTE = "x" * 500 + " target " + "y" * 500


def build_search_database(path: Path) -> Path:
    """Create the search test database at `path` and return it."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(
            """
            CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, note TEXT, age INTEGER, score REAL,
                                 photo BLOB);
            CREATE TABLE pairs (a TEXT, b INTEGER, label TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
            CREATE TABLE shadowed (rowid TEXT, _rowid_ TEXT, oid TEXT, body TEXT);
            CREATE TABLE typed (n INTEGER, r REAL, t TEXT, anything ANY) STRICT;
            CREATE VIEW people_view AS SELECT name, note FROM people;
            CREATE VIRTUAL TABLE mail USING fts5(sender, subject);
            CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, body TEXT, views INTEGER);
            CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id');
            CREATE VIRTUAL TABLE old_fts USING fts4(content, tokenize=porter);
            CREATE VIRTUAL TABLE blind USING fts5(x, content='');
            CREATE VIRTUAL TABLE tri USING fts5(t, tokenize='trigram');
            """
        )
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    1,
                    "Ann Smith",
                    'likes "quotes" and NEAR-by -minus: ^caret *star',
                    42,
                    3.5,
                    b"PNG\x00secret blob",
                ),
                (2, "Émile Zola", "ÉCOLE normale", 7, 1e20, None),
                (3, "bob", "Bobby tables; bob's", 12345, 2.0, b"\xff"),
                (4, None, None, "forty", None, None),
                (5, "long", LONG_NOTE, 0, 0.0, None),
                (6, "Ann Other", "needle at the end", 1, 1.5, None),
            ],
        )
        conn.execute("INSERT INTO people (id, name) VALUES (7, CAST(X'C3286E6565646C65' AS TEXT))")
        conn.execute('CREATE TABLE "it\'s ""odd""" ("col ]x" TEXT, "select" TEXT)')
        conn.execute('INSERT INTO "it\'s ""odd""" VALUES (\'hello world\', \'select me\')')
        conn.executemany(
            "INSERT INTO pairs VALUES (?, ?, ?)", [("k/1", 1, "first pair"), ("k/1", 2, "second pair")]
        )
        conn.execute("INSERT INTO shadowed VALUES ('a', 'b', 'c', 'unaddressable body')")
        conn.execute("INSERT INTO typed VALUES (5, 2.5, 'strict text', 'any text')")
        conn.executemany(
            "INSERT INTO mail VALUES (?, ?)",
            [
                ("alice@example.com", 'Quarterly report "draft" NEAR deadline'),
                ("bob@example.com", "lunch - tomorrow: maybe^ *"),
            ],
        )
        conn.executemany(
            "INSERT INTO articles VALUES (?, ?, ?, ?)",
            [(1, "Sailing", "The boat sails at dawn", 10), (2, "Cooking", "A boatload of pasta", 20)],
        )
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        conn.execute("INSERT INTO old_fts VALUES ('running quickly with the porter stemmer')")
        conn.execute("INSERT INTO blind VALUES ('hidden words')")
        conn.execute("INSERT INTO tri VALUES ('trigram tokenizer table')")
        conn.commit()
        # A virtual table whose module this SQLite does not have (as if made by another program).
        conn.execute("PRAGMA writable_schema=ON")
        conn.execute(
            "INSERT INTO sqlite_schema VALUES "
            "('table', 'ghost', 'ghost', 0, 'CREATE VIRTUAL TABLE ghost USING nosuchmodule(a, b)')"
        )
        conn.commit()
    finally:
        conn.close()
    return path


def build_big_table_database(path: Path, rows: int) -> Path:
    """A database with one wide-ish text table of `rows` rows and a few small tables after it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE a_big (id INTEGER PRIMARY KEY, t TEXT, u TEXT)")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO a_big SELECT i, 'row ' || i || ' some filler text here', hex(randomblob(16)) FROM n",
            (rows,),
        )
        for name in ("b_small", "c_small", "d_small"):
            conn.execute(f"CREATE TABLE {name} (t TEXT)")
            conn.execute(f"INSERT INTO {name} VALUES ('small needle')")
        conn.commit()
    finally:
        conn.close()
    return path
