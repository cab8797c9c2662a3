"""JSON text as a lazy tree with SQLite paths, and "path = value" filters that SQLite agrees with."""

from __future__ import annotations

import sqlite3

import pytest

from desktop_app.core.values.json_tree import (
    NotJson,
    child_path,
    json_text_expression,
    looks_like_json,
    parse_json,
    path_filter,
)

DOC = '{"a": {"b": [10, 20, {"c": true}]}, "a b": null, "q\\"k": 1, "n": 2.5, "s": "x", "o": {}, "f": false}'


def test_tree_nodes_carry_paths_keys_values_and_types() -> None:
    root = parse_json(DOC)
    assert (root.path, root.type, root.child_count) == ("$", "object", 7)
    by_key = {node.key: node for node in root.children}
    assert by_key["a b"].path == '$."a b"' and by_key["a b"].type == "null"
    assert by_key['q"k'].path is None  # SQLite cannot address a key holding a double quote
    b = by_key["a"].children[0]
    assert (b.path, b.type, b.preview()) == ("$.a.b", "array", "[3 items]")
    third = b.children[2]
    assert (third.path, third.key, third.children[0].path, third.children[0].type) == (
        "$.a.b[2]",
        2,
        "$.a.b[2].c",
        "true",
    )
    assert [by_key[k].type for k in ("n", "s", "o", "f")] == ["real", "text", "object", "false"]


def test_children_are_built_only_when_asked() -> None:
    root = parse_json('{"big": [' + ",".join(str(i) for i in range(1000)) + "]}")
    assert root._children is None
    big = root.children[0]
    assert big.child_count == 1000 and big._children is None
    assert big.children[999].path == "$.big[999]"


def test_not_json_is_refused_clearly() -> None:
    with pytest.raises(NotJson):
        parse_json("{nope")
    assert looks_like_json("  [1]") and not looks_like_json('"text"')
    assert child_path("$", "with space") == '$."with space"' and child_path("$", 0) == "$[0]"


@pytest.mark.parametrize(
    ("path", "value", "expected_ids"),
    [
        ("$.a.b[1]", 20, [1]),
        ("$.a.b[2].c", True, [1]),
        ('$."a b"', None, [1]),  # a JSON null, not the missing member of row 2
        ("$.s", "x", [1, 2]),
        ("$.o", {}, [1]),
        ("$.a.b", [10, 20, {"c": True}], [1]),
        ("$.f", False, [1]),
        ("$.n", 2.5, [1]),
    ],
)
def test_path_filters_select_the_rows_sqlite_finds(path: str, value: object, expected_ids: list[int]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE "odd table" (id INTEGER PRIMARY KEY, "my doc" TEXT)')
    conn.executemany('INSERT INTO "odd table" VALUES (?, ?)', [(1, DOC), (2, '{"s": "x"}'), (3, "not json")])
    sql, params = path_filter("my doc", path, value)
    where = f'json_valid("my doc") AND {sql}'
    ids = [r[0] for r in conn.execute(f'SELECT id FROM "odd table" WHERE {where} ORDER BY id', params)]
    assert ids == expected_ids
    text = conn.execute(f'SELECT {json_text_expression("my doc")} FROM "odd table" WHERE id = 2').fetchone()[
        0
    ]
    assert parse_json(text).children[0].value == "x"
    conn.close()
