"""Receiving an upload (a media file, a file of posts to import): the multipart body
streamed to a temporary file, counted as it comes, and refused (413) the moment the file
passes the size limit; the few text fields the route takes beside it kept in memory, each
bounded, and any other part refused."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from markettina.kernel.errors import FieldError, MarkettinaError, ValidationFailed
from markettina.kernel.web.multipart import (
    MultipartReader,
    PartData,
    PartEnd,
    PartStart,
    boundary_of,
)

from .errors import UploadTooLarge

FILE_FIELD = "file"
TEXT_FIELDS = ("alt_text", "description", "tags")
MAX_TEXT_FIELD_BYTES = 8 * 1024
MAX_PARTS = 64
# a multipart body is its file plus headers, boundaries and a few small fields
ENVELOPE_BYTES = MAX_PARTS * 2 * 1024 + len(TEXT_FIELDS) * MAX_TEXT_FIELD_BYTES
SNIFF_BYTES = 8192


class NotMultipart(MarkettinaError):
    status, code, title = 415, "multipart_required", "Unsupported media type"

    def __init__(self) -> None:
        super().__init__(
            "send the file as multipart/form-data (a part named 'file')",
            errors=[
                FieldError("header.content-type", "not multipart/form-data", "multipart_required")
            ],
        )


@dataclass
class ReceivedUpload:
    path: Path
    size: int
    head: bytes
    filename: str
    declared_type: str | None
    fields: dict[str, list[str]] = field(default_factory=dict)


def refuse_oversized(content_length: str | None, *, max_bytes: int) -> None:
    """413 at once when the declared body length cannot hold a file within the limit."""
    if content_length is None:
        return
    try:
        length = int(content_length)
    except ValueError:
        return  # the server refuses a malformed length before the app sees it
    if length > max_bytes + ENVELOPE_BYTES:
        raise UploadTooLarge(limit=max_bytes)


@asynccontextmanager
async def received_upload(
    body: AsyncIterator[bytes],
    content_type: str | None,
    *,
    max_bytes: int,
    text_fields: tuple[str, ...] = TEXT_FIELDS,
) -> AsyncIterator[ReceivedUpload]:
    """The upload in a temporary folder, removed when the block ends; ``text_fields``: the
    parts besides the file the route takes (the media library's by default)."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise NotMultipart()
    with tempfile.TemporaryDirectory(prefix="markettina-upload-") as folder:
        reader = MultipartReader(boundary)
        yield await _receive(body, reader, Path(folder), max_bytes, text_fields)


async def _receive(
    body: AsyncIterator[bytes],
    reader: MultipartReader,
    folder: Path,
    max_bytes: int,
    text_fields: tuple[str, ...],
) -> ReceivedUpload:
    target = folder / "original"
    upload: ReceivedUpload | None = None
    fields: dict[str, list[str]] = {}
    current: PartStart | None = None
    sink: IO[bytes] | None = None
    text = bytearray()
    parts = 0
    try:
        async for chunk in body:
            for event in reader.feed(chunk):
                if isinstance(event, PartStart):
                    parts += 1
                    if parts > MAX_PARTS:
                        raise _invalid("body", "too many parts", "too_many_parts")
                    current, text = event, bytearray()
                    if event.name == FILE_FIELD:
                        if upload is not None:
                            raise _invalid("body.file", "send one file per upload", "duplicate")
                        sink = target.open("wb")
                        upload = ReceivedUpload(
                            path=target,
                            size=0,
                            head=b"",
                            filename=(event.filename or "upload").strip() or "upload",
                            declared_type=event.content_type,
                        )
                    elif event.name not in text_fields:
                        raise _invalid(f"body.{event.name}", "unknown field", "extra_forbidden")
                elif isinstance(event, PartData):
                    assert current is not None
                    if current.name == FILE_FIELD:
                        assert upload is not None and sink is not None
                        upload.size += len(event.data)
                        if upload.size > max_bytes:
                            raise UploadTooLarge(limit=max_bytes)
                        if len(upload.head) < SNIFF_BYTES:
                            upload.head += event.data[: SNIFF_BYTES - len(upload.head)]
                        sink.write(event.data)
                    else:
                        text += event.data
                        if len(text) > MAX_TEXT_FIELD_BYTES:
                            raise _invalid(f"body.{current.name}", "too long", "string_too_long")
                elif isinstance(event, PartEnd):
                    assert current is not None
                    if current.name == FILE_FIELD:
                        assert sink is not None
                        sink.close()
                    else:
                        fields.setdefault(current.name, []).append(_text(current.name, text))
                    current = None
        reader.close()
    finally:
        if sink is not None:
            sink.close()
    if upload is None:
        raise _invalid("body.file", "a file is required (a part named 'file')", "missing")
    upload.fields = fields
    return upload


def _text(name: str, raw: bytearray) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _invalid(f"body.{name}", "not UTF-8 text", "string_unicode") from exc


def _invalid(where: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {message}", errors=[FieldError(where, message, code)])
