"""Files for the media library's tests, made here (never downloaded), and an app whose
media store is a folder of the test's own."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from PIL import Image

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import suite_settings


def media_app(urls: DatabaseURLs, media_dir: Path, **settings: Any) -> FastAPI:
    configured = suite_settings().model_copy(update={"media_dir": media_dir, **settings})
    return create_app(urls=urls, settings=configured)


def png(width: int = 64, height: int = 32, *, noise: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    if noise:
        image = Image.frombytes("RGB", (width, height), _noise(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(width: int = 40, height: int = 80) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (20, 20), color) for color in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _noise(size: int) -> bytes:
    state, out = 12345, bytearray()
    while len(out) < size:  # a small LCG: incompressible enough, and the same every run
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out += state.to_bytes(4, "little")
    return bytes(out[:size])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb:
    a few bytes that would decode to gigabytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def mp4() -> bytes:
    """The start of an MP4 file (an ftyp box) and some bytes: enough to be sniffed."""
    ftyp = b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00\x00\x00\x08free" + b"\x00" * 512


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


FAKE_FFPROBE = """#!/bin/sh
# prints what ffprobe -print_format json -show_format -show_streams prints
echo '{"streams": [{"index": 0, "codec_type": "video", "width": 1920, "height": 1080}],'
echo ' "format": {"filename": "x.mp4", "duration": "12.345678", "format_name": "mov,mp4"}}'
"""


def fake_ffprobe(folder: Path, script: str = FAKE_FFPROBE) -> Path:
    path = folder / "ffprobe"
    path.write_text(script)
    path.chmod(0o755)
    return folder
