#!/usr/bin/env python3
"""Draws the app's icons (web/icon-192.png, web/icon-512.png): two chat bubbles on the app's
blue, as maskable squares (the drawing stays inside the central 80 %). Standard library only.
    python3 scripts/make-icons.py"""
import math
import struct
import zlib
from pathlib import Path

BLUE = (47, 111, 237)
WHITE = (255, 255, 255)
PALE = (190, 210, 250)


def rounded_rect(x, y, x0, y0, x1, y1, r):
    """Whether (x, y) lies in the rectangle with corners of radius r."""
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return x0 <= x <= x1 and y0 <= y <= y1 and math.hypot(x - cx, y - cy) <= r


def colour_at(u, v):
    """The colour at (u, v) in [0, 1]^2 of the icon."""
    # The bot's bubble (pale, upper left) and the user's (white, lower right), each with a tail.
    if rounded_rect(u, v, 0.38, 0.45, 0.80, 0.72, 0.07) or (0.66 <= u <= 0.76 and 0.70 <= v <= 0.80 and u - 0.66 >= (v - 0.70) * 1.0):
        return WHITE
    if rounded_rect(u, v, 0.20, 0.24, 0.62, 0.51, 0.07) or (0.24 <= u <= 0.34 and 0.49 <= v <= 0.59 and 0.34 - u >= (v - 0.49) * 1.0):
        return PALE
    return BLUE


def png(size):
    rows = bytearray()
    samples = 3  # 3x3 supersampling smooths the edges
    for y in range(size):
        rows.append(0)
        for x in range(size):
            acc = [0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    c = colour_at((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size)
                    acc = [a + b for a, b in zip(acc, c)]
            rows.extend(round(a / samples**2) for a in acc)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    web = Path(__file__).resolve().parent.parent / "web"
    for size in (192, 512):
        (web / f"icon-{size}.png").write_bytes(png(size))
        print(f"web/icon-{size}.png")
