"""Small valid PNG images drawn in pure Python (zlib + struct), for the demo database's gallery."""

from __future__ import annotations

import functools
import math
import struct
import zlib
from collections.abc import Callable
from typing import NamedTuple

Painter = Callable[[float, float], tuple[int, ...]]


def png_bytes(width: int, height: int, pixel: Painter, channels: int = 3) -> bytes:
    """Return a valid PNG of `width`×`height` whose pixel at (u, v) in [0, 1) is `pixel(u, v)`."""
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter type "none" for the scanline
        for x in range(width):
            raw.extend(pixel((x + 0.5) / width, (y + 0.5) / height)[:channels])

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, ...]:
    t = min(1.0, max(0.0, t))
    return tuple(round(p + (q - p) * t) for p, q in zip(a, b, strict=True))


_PALETTES = {
    "sunset": ((255, 94, 58, 255), (255, 205, 86, 255)),
    "ocean": ((14, 52, 160, 255), (64, 224, 208, 255)),
    "forest": ((20, 83, 45, 255), (163, 230, 53, 255)),
    "grape": ((76, 29, 149, 255), (244, 114, 182, 255)),
}
_SHAPES: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], Painter]] = {
    "horizontal gradient": lambda a, b: lambda u, v: _mix(a, b, u),
    "diagonal gradient": lambda a, b: lambda u, v: _mix(a, b, (u + v) / 2),
    "radial glow": lambda a, b: lambda u, v: _mix(b, a, math.hypot(u - 0.5, v - 0.5) * 2),
    "circle": lambda a, b: lambda u, v: b if math.hypot(u - 0.5, v - 0.5) < 0.35 else a,
    "checkerboard": lambda a, b: lambda u, v: a if (int(u * 8) + int(v * 8)) % 2 else b,
    "stripes": lambda a, b: lambda u, v: a if int((u + v) * 6) % 2 else b,
    "rings": lambda a, b: lambda u, v: _mix(a, b, (math.sin(math.hypot(u - 0.5, v - 0.5) * 40) + 1) / 2),
    # Transparent outside the disc: shows the image viewer's background handling.
    "soft disc": lambda a, b: (
        lambda u, v: (
            *_mix(b, a, math.hypot(u - 0.5, v - 0.5) * 2)[:3],
            max(0, 255 - round(math.hypot(u - 0.5, v - 0.5) * 2 * 255)),
        )
    ),
}
_SIZES = ((16, 16), (32, 32), (48, 48), (64, 64), (96, 64), (128, 128), (160, 90), (40, 120))


class DemoImage(NamedTuple):
    """One picture of the demo gallery."""

    name: str
    width: int
    height: int
    channels: int
    data: bytes


@functools.cache
def demo_images() -> tuple[DemoImage, ...]:
    """Return the demo's picture gallery: 24 coloured PNGs of different sizes plus a greyscale one."""
    palettes = list(_PALETTES.items())
    images = []
    for index, shape in enumerate(_SHAPES):
        for offset in range(3):
            palette_name, colours = palettes[(index + offset) % len(palettes)]
            width, height = _SIZES[(index * 3 + offset) % len(_SIZES)]
            channels = 4 if shape == "soft disc" else 3
            data = png_bytes(width, height, _SHAPES[shape](*colours), channels)
            images.append(DemoImage(f"{palette_name} {shape}", width, height, channels, data))
    grey: Painter = lambda u, v: (round(255 * u * v),)  # noqa: E731
    images.append(DemoImage("greyscale ramp", 64, 32, 1, png_bytes(64, 32, grey, 1)))
    return tuple(images)
