"""Posts: drafts, their content versions, scheduling and the list's filters."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field

from markettina.kernel.web.inputs import Flag, Omittable, PositiveInt32, RequestModel, Timestamp
from markettina.kernel.web.outputs import ResponseModel

from ..post_drafts import MAX_CONTENT, MAX_HASHTAG, MAX_HASHTAGS
from ..post_targets import MAX_TARGETS

PostStatus = Literal[
    "draft", "pending_approval", "scheduled", "publishing", "published", "failed", "cancelled"
]
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT)]
Hashtag = Annotated[str, Field(min_length=1, max_length=MAX_HASHTAG + 1)]
Hashtags = Annotated[
    list[Hashtag],
    Field(
        max_length=MAX_HASHTAGS * 2,
        description=f"Words, with or without `#` (stored without; at most {MAX_HASHTAGS}, "
        "repeats dropped).",
    ),
]
Summary = Annotated[str, Field(max_length=500)]
TimeZone = Annotated[
    str, Field(min_length=1, max_length=64, description="An IANA time zone, e.g. `Europe/Rome`.")
]


class PostCreate(RequestModel):
    content: Content
    hashtags: Hashtags = Field(default_factory=list)
    campaign_id: uuid.UUID | None = None
    ai_generated: Flag = False
    change_summary: Summary | None = Field(default=None, description="A note kept with version 1.")


class PostUpdate(RequestModel):
    """Only the fields sent change (`campaign_id: null` detaches the post from its
    campaign); a change writes the next content version."""

    content: Omittable[Content] = None
    hashtags: Omittable[Hashtags] = None
    campaign_id: uuid.UUID | None = None
    change_summary: Summary | None = Field(
        default=None, description="A note kept with the version this change writes."
    )
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version", "change_summary"})


class PostSchedule(RequestModel):
    scheduled_at: Timestamp = Field(description="When to publish: a future instant.")
    timezone: TimeZone
    social_account_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=MAX_TARGETS,
        description="The account's social accounts to publish to.",
    )  # fmt: skip
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match); optional."
    )


class PostRestore(RequestModel):
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The post's version you read (or If-Match)."
    )


class PostOut(ResponseModel):
    id: int
    campaign_id: uuid.UUID | None
    content: str
    hashtags: list[str]
    media_urls: list[str]
    platforms: list[str] = Field(description="The platforms of the post's social accounts.")
    status: PostStatus
    scheduled_at: dt.datetime | None
    timezone: str | None
    published_at: dt.datetime | None
    ai_generated: bool
    platform_post_ids: dict[str, Any]
    error_message: str | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class ScheduledPostOut(PostOut):
    social_account_ids: list[uuid.UUID] = Field(
        description="The social accounts the post is published to."
    )


class PostVersionOut(ResponseModel):
    version_number: int
    content_snapshot: dict[str, Any] = Field(description="content, hashtags and campaign_id.")
    changed_fields: list[str]
    change_summary: str | None
    created_by: int | None
    created_at: dt.datetime


class FieldChange(ResponseModel):
    field: str
    before: Any
    after: Any


class PostVersionDiff(ResponseModel):
    from_version: int
    to_version: int
    changes: list[FieldChange] = Field(description="The fields that differ, in snapshot order.")
