"""GeoPackage, SpatiaLite and WKB geometry blobs decoded to WKT with their type and bounds."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from desktop_app.core.values.geometry import SHORT_WKT_CHARS, decode_geometry, short_text
from tests.conftest import folder_state


def _wkb_point(x: float, y: float, order: str = "<") -> bytes:
    return (b"\x01" if order == "<" else b"\x00") + struct.pack(f"{order}Idd", 1, x, y)


def test_corpus_geopackage_geometries_decode_with_bounds_matching_the_spatial_index(corpus: Path) -> None:
    folder = corpus / "geopackage"
    before = folder_state(folder)
    conn = sqlite3.connect(f"file:{folder / 'gdal_sample.gpkg'}?mode=ro&immutable=1", uri=True)
    try:
        polygon = decode_geometry(conn.execute("SELECT geom FROM polygon2d WHERE fid = 1").fetchone()[0])
        assert polygon is not None
        assert polygon.wkt == "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (1 1, 1 9, 9 9, 9 1, 1 1))"
        assert (polygon.geometry_type, polygon.srid, polygon.container) == ("POLYGON", 32631, "geopackage")
        point = decode_geometry(conn.execute("SELECT geom FROM point3d WHERE fid = 1").fetchone()[0])
        assert point is not None and (point.wkt, point.geometry_type) == ("POINT Z (1 2 3)", "POINT Z")
        collection = decode_geometry(
            conn.execute("SELECT geom FROM geomcollection2d WHERE fid = 1").fetchone()[0]
        )
        assert collection is not None and collection.wkt.startswith(
            "GEOMETRYCOLLECTION (POINT (0 1), LINESTRING (2 3, 4 5), POLYGON ((0 0"
        )
        # Bounds equal the R*Tree spatial index GDAL wrote beside a table (integer corners: exact in float32).
        tables = [
            r[0]
            for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (f"rtree_{r[0]}_geom",)).fetchone()
        ]
        checked = 0
        for table in tables:
            index = dict(
                (r[0], r[1:])
                for r in conn.execute(f'SELECT id, minx, miny, maxx, maxy FROM "rtree_{table}_geom"')
            )
            for fid, blob in conn.execute(f'SELECT fid, geom FROM "{table}" WHERE geom IS NOT NULL'):
                decoded = decode_geometry(blob)
                assert decoded is not None, (table, fid)
                if fid in index:
                    assert decoded.bounds == tuple(float(v) for v in index[fid]), (table, fid)
                    checked += 1
        assert len(tables) >= 8 and checked >= 8
    finally:
        conn.close()
    assert folder_state(folder) == before


def test_spatialite_blob_decodes_with_srid_and_members() -> None:
    line = struct.pack("<I", 2) + struct.pack("<4d", 1.5, 2.0, 3.0, 4.0)
    mbr = struct.pack("<4d", 1.5, 2.0, 3.0, 4.0)
    blob = b"\x00\x01" + struct.pack("<i", 4326) + mbr + b"\x7c" + struct.pack("<I", 2) + line + b"\xfe"
    geometry = decode_geometry(blob)
    assert geometry is not None
    assert (geometry.wkt, geometry.srid, geometry.bounds) == (
        "LINESTRING (1.5 2, 3 4)",
        4326,
        (1.5, 2.0, 3.0, 4.0),
    )
    multi = (
        b"\x00\x01"
        + struct.pack("<i", 0)
        + struct.pack("<4d", 0, 0, 5, 6)
        + b"\x7c"
        + struct.pack("<II", 4, 2)
        + b"\x69"
        + struct.pack("<Idd", 1, 0, 0)
        + b"\x69"
        + struct.pack("<Idd", 1, 5, 6)
        + b"\xfe"
    )
    decoded = decode_geometry(multi)
    assert decoded is not None and decoded.wkt == "MULTIPOINT ((0 0), (5 6))"


def test_plain_and_extended_wkb_big_endian_and_m() -> None:
    assert decode_geometry(_wkb_point(1, 2, ">")).wkt == "POINT (1 2)"  # type: ignore[union-attr]
    ewkb = b"\x01" + struct.pack("<Iidd", 0x20000001, 3857, 7.25, -1)
    decoded = decode_geometry(ewkb)
    assert decoded is not None and (decoded.wkt, decoded.srid) == ("POINT (7.25 -1)", 3857)
    point_m = b"\x01" + struct.pack("<Iddd", 2001, 1, 2, 9)
    assert decode_geometry(point_m).wkt == "POINT M (1 2 9)"  # type: ignore[union-attr]
    empty = b"\x01" + struct.pack("<Idd", 1, float("nan"), float("nan"))
    decoded = decode_geometry(empty)
    assert decoded is not None and decoded.wkt == "POINT EMPTY" and decoded.bounds is None


def test_arbitrary_or_truncated_bytes_are_not_geometry() -> None:
    for blob in (
        b"",
        b"GP",
        b"\x89PNG\r\n",
        _wkb_point(1, 2)[:-3],
        b"\x01" + struct.pack("<I", 99) + b"\0" * 16,
    ):
        assert decode_geometry(blob) is None
    huge_count = b"\x01" + struct.pack("<II", 2, 0xFFFFFFF)
    assert decode_geometry(huge_count) is None
    nested = b"".join(b"\x01" + struct.pack("<II", 7, 1) for _ in range(100)) + _wkb_point(0, 0)
    assert decode_geometry(nested) is None  # too deep, refused without recursion errors


def test_short_text_is_the_wkt_when_it_fits_else_type_and_points() -> None:
    point = decode_geometry(_wkb_point(1.5, -2))
    assert point is not None and (short_text(point), point.points) == ("POINT (1.5 -2)", 1)
    ring = ", ".join(f"{i} {i}" for i in range(20))
    line = decode_geometry(
        b"\x01" + struct.pack("<II", 2, 20) + struct.pack("<40d", *[i for i in range(20) for _ in (0, 1)])
    )
    assert line is not None and len(line.wkt) > SHORT_WKT_CHARS and line.wkt == f"LINESTRING ({ring})"
    assert short_text(line) == "LINESTRING … (20 points)"
