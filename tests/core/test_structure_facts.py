"""The database's own facts (header, pragmas) and what created it (application_id, schema fingerprints)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.schema.catalog import read_catalog
from desktop_app.core.snapshot.snapshot import open_snapshot
from desktop_app.core.structure.facts import DatabaseFacts, parse_header_fields, read_facts
from desktop_app.core.structure.fingerprints import (
    APPLICATION_IDS,
    FINGERPRINTS,
    GENERIC_FINGERPRINTS,
    AppFingerprint,
    application_id_name,
    recognise,
)


def facts_of(path: Path) -> DatabaseFacts:
    snapshot = open_snapshot(path)
    try:
        with closing(snapshot.connect()) as conn:
            source = snapshot.fingerprint.database
            assert source is not None
            return read_facts(conn, source.header, read_catalog(conn))
    finally:
        snapshot.close()


def make_db(path: Path, script: str, *pragmas: str) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        for pragma in pragmas:
            conn.execute(pragma)
        conn.executescript(script)
        conn.commit()
    return path


def test_facts_of_a_generated_database_match_its_pragmas_and_header(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "facts.db",
        "CREATE TABLE t (x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) "
        "INSERT INTO t SELECT zeroblob(3000) FROM n; DELETE FROM t WHERE rowid > 10;",
        "PRAGMA page_size = 1024",
        "PRAGMA auto_vacuum = INCREMENTAL",
        "PRAGMA user_version = 42",
        "PRAGMA application_id = 1196444487",  # 0x47504B47 'GPKG'
    )
    with closing(sqlite3.connect(path)) as conn:
        expected_free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        expected_pages = conn.execute("PRAGMA page_count").fetchone()[0]
    facts = facts_of(path)
    assert (facts.page_size, facts.page_count, facts.freelist_pages) == (1024, expected_pages, expected_free)
    assert expected_free > 0
    assert (facts.user_version, facts.application_id) == (42, 0x47504B47)
    assert facts.application_id_name == "GeoPackage ('GPKG')" == facts.application
    assert (facts.auto_vacuum, facts.encoding, facts.journal, facts.schema_format) == (
        "incremental",
        "UTF-8",
        "rollback",
        4,
    )
    assert facts.sqlite_version == sqlite3.sqlite_version
    assert facts.as_dict()["size_bytes"] == 1024 * expected_pages


def test_header_fields_read_wal_mode_and_the_writer_version() -> None:
    header = bytearray(b"SQLite format 3\x00" + bytes(84))
    header[16:18] = (4096).to_bytes(2, "big")
    header[18] = header[19] = 2
    header[44:48] = (1).to_bytes(4, "big")
    header[96:100] = (3008010).to_bytes(4, "big")
    fields = parse_header_fields(bytes(header))
    assert fields is not None
    assert (fields.journal, fields.schema_format, fields.sqlite_version) == ("wal", 1, "3.8.10")
    assert parse_header_fields(b"not a header") is None


def test_a_wal_database_says_wal_and_utf16_is_named(tmp_path: Path) -> None:
    path = make_db(tmp_path / "wal.db", "CREATE TABLE t (x);", "PRAGMA encoding = 'UTF-16le'")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    facts = facts_of(path)
    assert (facts.journal, facts.encoding) == ("wal", "UTF-16le")


@pytest.mark.parametrize(
    ("app_id", "name"),
    [
        (0x47504B47, "GeoPackage ('GPKG')"),
        (0x47503130, "GeoPackage 1.0 ('GP10')"),
        (0x47503131, "GeoPackage 1.1 ('GP11')"),
        (0x4D504258, "MBTiles tileset ('MPBX')"),
        (0x0F055112, "Fossil checkout"),
        (0x0F055113, "Fossil global configuration"),
        (0x0F055111, "Fossil repository"),
    ],
)
def test_registered_application_ids_are_named(app_id: int, name: str) -> None:
    signed = app_id - (1 << 32) if app_id >= 1 << 31 else app_id
    assert application_id_name(app_id) == application_id_name(signed) == name


def test_an_unregistered_application_id_has_no_name() -> None:
    assert application_id_name(0) is None and application_id_name(0x12345678) is None
    assert all(key == key & 0xFFFFFFFF for key in APPLICATION_IDS)


@pytest.mark.parametrize("fingerprint", FINGERPRINTS + GENERIC_FINGERPRINTS, ids=lambda f: f.name)
def test_each_fingerprint_recognises_a_generated_database_with_its_tables(
    tmp_path: Path, fingerprint: AppFingerprint
) -> None:
    script = "".join(
        f'CREATE TABLE "{name.upper()}" (id INTEGER PRIMARY KEY);' for name in fingerprint.tables
    )
    path = make_db(tmp_path / "app.db", script)
    facts = facts_of(path)
    assert fingerprint.name in facts.schema_fingerprints
    assert facts.application == facts.schema_fingerprints[0]
    # One table short: not recognised.
    if len(fingerprint.tables) > 1:
        missing = sorted(fingerprint.tables)[0]
        assert fingerprint.name not in recognise(fingerprint.tables - {missing})


def test_the_generic_schema_migrations_fingerprint_gives_way_to_rails() -> None:
    assert recognise(["schema_migrations"]) == [GENERIC_FINGERPRINTS[0].name]
    assert recognise(["schema_migrations", "ar_internal_metadata", "users"]) == [
        "Ruby on Rails application (Active Record)"
    ]


def test_a_plain_schema_is_not_recognised(tmp_path: Path) -> None:
    facts = facts_of(make_db(tmp_path / "plain.db", "CREATE TABLE customers (id); CREATE TABLE data (x);"))
    assert facts.schema_fingerprints == [] and facts.application is None


@pytest.mark.parametrize(
    ("file", "application", "fingerprint"),
    [
        ("plaso/places.sqlite", "Firefox history and bookmarks (places.sqlite)", None),
        ("plaso/History", "Chrome / Chromium history (History)", None),
        ("geopackage/gdal_sample.gpkg", "GeoPackage 1.0 ('GP10')", "GeoPackage"),
        ("mbtiles/plain_1.mbtiles", "MBTiles tileset", None),  # its 'tiles' is a view
        ("world/world.db", GENERIC_FINGERPRINTS[0].name, None),  # ActiveRecord before Rails 5
        ("chinook/Chinook_Sqlite.sqlite", None, None),
    ],
)
def test_corpus_files_are_recognised(
    corpus: Path, file: str, application: str | None, fingerprint: str | None
) -> None:
    facts = facts_of(corpus / file)
    assert facts.application == application
    if fingerprint is not None:
        assert fingerprint in facts.schema_fingerprints


def test_world_db_header_facts(corpus: Path) -> None:
    facts = facts_of(corpus / "world" / "world.db")
    assert (facts.schema_format, facts.page_size, facts.journal) == (1, 1024, "rollback")


def test_info_json_gains_the_header_facts_and_keeps_its_keys(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(corpus / "geopackage" / "gdal_sample.gpkg"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("page_size", "page_count", "journal", "encoding", "user_version", "application_id", "tables"):
        assert key in report
    assert report["application_id"] == 0x47503130
    assert report["application_id_name"] == report["application"] == "GeoPackage 1.0 ('GP10')"
    assert "GeoPackage" in report["schema_fingerprints"]
    assert (report["schema_format"], report["auto_vacuum"], report["freelist_pages"]) == (2, "none", 0)
    assert report["sqlite_version"] == ""  # GDAL left offset 96 zero


def test_info_text_names_the_application(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(corpus / "plaso" / "places.sqlite")]) == 0
    out = capsys.readouterr().out
    assert "created by: Firefox history and bookmarks (places.sqlite)" in out
