"""Request and response models of the media library."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from markettina.kernel.web.inputs import Omittable, PositiveInt32, RequestModel
from markettina.kernel.web.outputs import ResponseModel

MAX_TAGS = 20


def _tag(value: str) -> str:
    value = value.strip().lower()
    if not value:
        raise ValueError("a tag cannot be blank")
    return value


Tag = Annotated[str, StringConstraints(max_length=50), AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]
AltText = Annotated[str, StringConstraints(max_length=1000)]
Description = Annotated[str, StringConstraints(max_length=5000)]
MediaKind = Literal["image", "video", "document"]
Variant = Literal["original", "thumbnail"]


class MediaDetails(RequestModel):
    """The text fields of an upload (multipart fields beside the file)."""

    alt_text: AltText | None = None
    description: Description | None = None
    tags: Tags = Field(default_factory=list)


class MediaUpdate(RequestModel):
    """Only the fields sent change (`alt_text: null` removes the alt text); `tags`
    replaces the user tags (system tags stay)."""

    alt_text: AltText | None = None
    description: Description | None = None
    tags: Omittable[Tags] = None
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version", "tags"})


class DownloadLinkRequest(RequestModel):
    variant: Variant = "original"
    expires_in_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600, strict=True)] | None = Field(
        default=None, description="The link's lifetime (default MEDIA_LINK_SECONDS)."
    )


class MediaTagOut(ResponseModel):
    tag: str
    type: Literal["user", "ai", "system"]


class MediaOut(ResponseModel):
    id: uuid.UUID
    filename: str
    original_filename: str | None
    mime_type: str
    kind: MediaKind
    file_size_bytes: int
    storage_provider: str
    width: int | None
    height: int | None
    duration_seconds: float | None
    duration_status: Literal["measured", "ffprobe_absent", "ffprobe_failed"] | None = Field(
        description="Videos: `measured`, or why the duration is unknown (`ffprobe_absent`: "
        "the server has no ffprobe; `ffprobe_failed`: it could not read the file)."
    )
    has_thumbnail: bool
    alt_text: str | None
    description: str | None
    is_ai_generated: bool
    usage_count: int
    last_used_at: dt.datetime | None
    tags: list[MediaTagOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class DownloadLinkOut(ResponseModel):
    url: str
    expires_at: dt.datetime


class MediaStorageUseOut(ResponseModel):
    used_bytes: int
    asset_count: int
    quota_bytes: int
    max_upload_bytes: int


class PostMediaOut(ResponseModel):
    media_asset_id: uuid.UUID
    position: int


class PostMediaSet(RequestModel):
    """The assets a post shows, in order: the list replaces what it showed before."""

    media_asset_ids: list[uuid.UUID] = Field(max_length=20)


class PostMediaList(ResponseModel):
    post_id: int
    media_asset_ids: list[uuid.UUID]
