"""The media storage port: where the bytes of the media library live (local disk or an
S3-compatible bucket), and the one store the entry point binds at start. The adapters
live in ``markettina.adapters.storage``.

Keys are ``<account_id>/<asset_id>/<variant>``: the library never builds a path or a URL
of a store itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from markettina.kernel.errors import ServiceUnavailable


class StoredObjectMissing(Exception):
    """The store holds nothing under the key."""


@dataclass(frozen=True)
class DownloadRequest:
    """What a signed download link must give: one stored object, under a file name."""

    key: str
    filename: str
    content_type: str
    expires_at: dt.datetime


class MediaStorage(Protocol):
    #: what ``media_assets.storage_provider`` records ("local", "s3")
    provider: str

    async def put(self, key: str, source: Path, *, content_type: str) -> None:
        """Store the file at ``source`` under ``key`` (replacing anything there)."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes in chunks; StoredObjectMissing if there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object (nothing there is not an error)."""
        ...

    async def signed_url(self, request: DownloadRequest) -> str | None:
        """A URL the store itself serves until ``expires_at`` (an S3 presigned URL), or
        None when it serves none (local disk): the API's own signed link is used then."""
        ...


_bound: MediaStorage | None = None


def bind_media_storage(storage: MediaStorage | None) -> None:
    """Called once by the entry point (app.py), at start."""
    global _bound
    _bound = storage


def bound_media_storage() -> MediaStorage:
    if _bound is None:
        raise ServiceUnavailable(
            "media storage is not configured on this server", code="media_storage_not_configured"
        )
    return _bound


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in RFC 6266's UTF-8 form (and an ASCII fallback)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
