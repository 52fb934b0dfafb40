"""The events the content context publishes."""

from __future__ import annotations

# --- media library -------------------------------------------------------------------------
import uuid
from typing import ClassVar

from markettina.kernel.events import Event


class MediaAssetUploaded(Event):
    """A file was added to the media library (its type read from its bytes)."""

    event_type: ClassVar[str] = "media.uploaded"
    aggregate_type: ClassVar[str] = "media_asset"

    media_asset_id: uuid.UUID
    filename: str
    mime_type: str
    file_size_bytes: int
    storage_provider: str


class MediaAssetDeleted(Event):
    """A media asset was deleted (its stored bytes removed)."""

    event_type: ClassVar[str] = "media.deleted"
    aggregate_type: ClassVar[str] = "media_asset"

    media_asset_id: uuid.UUID
    filename: str
