"""GeoPackage and SpatiaLite geometry blobs decoded to WKT, with the geometry type and bounds.

Formats: GeoPackage binary (`GP`, version, flags, srs_id, optional envelope, then WKB, ISO or with EWKB
flags), SpatiaLite's own blob (0x00, byte order, srid, MBR, 0x7C, class, body, 0xFE; uncompressed
classes) and plain WKB. No library fits this small job well (shapely needs GEOS): a reader of the
seven WKB types with Z and M is short enough to keep here.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

_TYPES = {
    1: "POINT",
    2: "LINESTRING",
    3: "POLYGON",
    4: "MULTIPOINT",
    5: "MULTILINESTRING",
    6: "MULTIPOLYGON",
    7: "GEOMETRYCOLLECTION",
}
#: Deepest nesting of collections read (a hostile blob must not exhaust the stack).
_MAX_DEPTH = 32
#: Longest WKT a grid cell shows whole; a longer geometry shows its type and number of points.
SHORT_WKT_CHARS = 48


class NotGeometry(ValueError):
    """The blob is not a geometry this module reads."""


@dataclass(frozen=True)
class Geometry:
    """A decoded geometry: its WKT, type (e.g. "POLYGON Z"), SRID when stored, and bounds."""

    wkt: str
    geometry_type: str
    srid: int | None
    #: (min x, min y, max x, max y) of the coordinates, or None when empty.
    bounds: tuple[float, float, float, float] | None
    container: str  #: "geopackage", "spatialite" or "wkb"
    points: int = 0  #: coordinates read (empty points not counted)


def short_text(geometry: Geometry) -> str:
    """One grid cell's worth: the WKT when short (`POINT (1 2)`), else `POLYGON … (5 points)`."""
    if len(geometry.wkt) <= SHORT_WKT_CHARS:
        return geometry.wkt
    return f"{geometry.geometry_type} … ({geometry.points:,} point{'' if geometry.points == 1 else 's'})"


def geometry_summary(geometry: Geometry) -> str:
    """Type, container, SRID and bounds of a decoded geometry, one per line."""
    lines = [
        f"{geometry.geometry_type} · {geometry.container}"
        + (f" · SRID {geometry.srid}" if geometry.srid is not None else "")
    ]
    if geometry.bounds is not None:
        min_x, min_y, max_x, max_y = geometry.bounds
        lines.append(f"bounds: x {min_x:g} … {max_x:g}, y {min_y:g} … {max_y:g}")
    else:
        lines.append("bounds: (empty)")
    return "\n".join(lines)


def decode_geometry(blob: bytes) -> Geometry | None:
    """The geometry in `blob`, or None when it is not one (raises nothing on arbitrary bytes)."""
    try:
        if blob[:2] == b"GP" and len(blob) >= 8:
            return _geopackage(blob)
        if len(blob) >= 44 and blob[0] == 0 and blob[38] == 0x7C and blob[-1] == 0xFE:
            return _spatialite(blob)
        if blob[:1] in (b"\x00", b"\x01") and len(blob) >= 5:
            reader = _Reader(blob, 0)
            kind, wkt = reader.wkb(0)
            if reader.pos != len(blob):
                return None
            return Geometry(wkt, kind, reader.srid, reader.bounds(), "wkb", len(reader.xs))
    except (NotGeometry, struct.error, IndexError, RecursionError):
        return None
    return None


def _geopackage(blob: bytes) -> Geometry:
    flags = blob[3]
    order = "<" if flags & 1 else ">"
    envelope = (flags >> 1) & 7
    if envelope > 4:
        raise NotGeometry("bad envelope code")
    (srid,) = struct.unpack_from(order + "i", blob, 4)
    start = 8 + (0, 32, 48, 48, 64)[envelope]
    reader = _Reader(blob, start)
    kind, wkt = reader.wkb(0)
    return Geometry(wkt, kind, srid, reader.bounds(), "geopackage", len(reader.xs))


def _spatialite(blob: bytes) -> Geometry:
    order = "<" if blob[1] == 1 else ">"
    (srid,) = struct.unpack_from(order + "i", blob, 2)
    reader = _Reader(blob, 39)
    reader.order = order
    kind, wkt = reader.body(reader.uint(), 0, spatialite=True)
    if blob[reader.pos] != 0xFE:
        raise NotGeometry("no end marker")
    return Geometry(wkt, kind, srid, reader.bounds(), "spatialite", len(reader.xs))


class _Reader:
    """Reads WKB (and SpatiaLite bodies) from `pos`, collecting the coordinates' bounds."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos
        self.order = "<"
        self.srid: int | None = None
        self.xs: list[float] = []
        self.ys: list[float] = []

    def uint(self) -> int:
        (value,) = struct.unpack_from(self.order + "I", self.data, self.pos)
        self.pos += 4
        return int(value)

    def bounds(self) -> tuple[float, float, float, float] | None:
        if not self.xs:
            return None
        return min(self.xs), min(self.ys), max(self.xs), max(self.ys)

    def wkb(self, depth: int) -> tuple[str, str]:
        """One WKB geometry (byte order, type, body): its type name and WKT."""
        order = self.data[self.pos]
        if order not in (0, 1):
            raise NotGeometry("bad byte order")
        self.order = "<" if order == 1 else ">"
        self.pos += 1
        code = self.uint()
        if code & 0x20000000:  # EWKB: an SRID follows the type
            (self.srid,) = struct.unpack_from(self.order + "i", self.data, self.pos)
            self.pos += 4
        return self.body(code, depth)

    def body(self, code: int, depth: int, *, spatialite: bool = False) -> tuple[str, str]:
        if depth > _MAX_DEPTH:
            raise NotGeometry("nested too deep")
        has_z = bool(code & 0x80000000) or (code & 0xFFFF) // 1000 in (1, 3)
        has_m = bool(code & 0x40000000) or (code & 0xFFFF) // 1000 in (2, 3)
        base = (code & 0xFFFF) % 1000
        if base not in _TYPES:
            raise NotGeometry(f"unknown geometry type {code}")
        name = _TYPES[base]
        dims = 2 + has_z + has_m
        kind = name + (" ZM" if has_z and has_m else " Z" if has_z else " M" if has_m else "")
        if base == 1:
            point = self._coords(1, dims)[0]
            text = "EMPTY" if all(math.isnan(c) for c in point) else f"({_point_text(point)})"
        elif base == 2:
            text = self._ring(dims)
        elif base == 3:
            rings = [self._ring(dims) for _ in range(self.uint())]
            text = f"({', '.join(rings)})" if rings else "EMPTY"
        else:
            parts = [self._member(depth, spatialite) for _ in range(self.uint())]
            if base == 7:
                text = f"({', '.join(wkt for wkt in parts)})" if parts else "EMPTY"
            else:
                inner = [wkt.split(" ", 1)[1].lstrip("ZM ") if " " in wkt else wkt for wkt in parts]
                text = f"({', '.join(inner)})" if parts else "EMPTY"
        return kind, f"{kind} {text}"

    def _member(self, depth: int, spatialite: bool) -> str:
        if spatialite:  # each member: 0x69, its class, its body
            if self.data[self.pos] != 0x69:
                raise NotGeometry("no entity marker")
            self.pos += 1
            return self.body(self.uint(), depth + 1, spatialite=True)[1]
        order = self.order
        wkt = self.wkb(depth + 1)[1]
        self.order = order
        return wkt

    def _ring(self, dims: int) -> str:
        points = self._coords(self.uint(), dims)
        return f"({', '.join(_point_text(p) for p in points)})" if points else "EMPTY"

    def _coords(self, count: int, dims: int) -> list[tuple[float, ...]]:
        if count * dims * 8 > len(self.data) - self.pos:
            raise NotGeometry("truncated")
        values = struct.unpack_from(f"{self.order}{count * dims}d", self.data, self.pos)
        self.pos += count * dims * 8
        points = [tuple(values[i : i + dims]) for i in range(0, len(values), dims)]
        for point in points:
            if not math.isnan(point[0]):
                self.xs.append(point[0])
                self.ys.append(point[1])
        return points


def _point_text(point: tuple[float, ...]) -> str:
    return " ".join(_number(c) for c in point)


def _number(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
