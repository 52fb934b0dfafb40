"""The events the content context publishes."""

from __future__ import annotations

# --- posts (h-posts) ----------------------------------------------------------------------
import datetime as dt
import uuid
from typing import Annotated, ClassVar

from pydantic import Field

from markettina.kernel.events import Event

PostActor = Annotated[
    int | None, Field(description="The acting person's user id; null when an API key acted.")
]


class PostCreated(Event):
    """A post was written, as a draft (its content is version 1)."""

    event_type: ClassVar[str] = "post.created"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    campaign_id: uuid.UUID | None
    hashtags: list[str]
    ai_generated: bool
    created_by: PostActor


class PostUpdated(Event):
    """A post's content changed: an edit, or an earlier version restored (a new version)."""

    event_type: ClassVar[str] = "post.updated"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    changed: list[str] = Field(description="The fields the change set, sorted.")
    content_version: int = Field(description="The content version the change wrote.")
    restored_from: int | None = Field(
        default=None, description="The version restored, when the change was a restore."
    )
    status: str = Field(description="The post's status after the change.")
    updated_by: PostActor


class PostScheduled(Event):
    """A post was scheduled (or rescheduled): it will be published at ``scheduled_at``."""

    event_type: ClassVar[str] = "post.scheduled"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    scheduled_at: dt.datetime
    timezone: str = Field(description="The IANA time zone it was scheduled in.")
    social_account_ids: list[uuid.UUID]
    platforms: list[str]
    rescheduled: bool = Field(description="True when the post was already scheduled.")
    scheduled_by: PostActor


class PostApprovalRequested(Event):
    """A post was asked to be scheduled but its account requires approval first: it waits
    in ``pending_approval`` (the approval workflow picks it up from this event)."""

    event_type: ClassVar[str] = "post.approval_requested"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    content_version: int = Field(description="The content version awaiting approval.")
    scheduled_at: dt.datetime
    timezone: str
    social_account_ids: list[uuid.UUID]
    requested_by: PostActor


class PostCancelled(Event):
    """A post was cancelled: it will not be published."""

    event_type: ClassVar[str] = "post.cancelled"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    previous_status: str
    cancelled_by: PostActor


class PostPublished(Event):
    """A post was published on its social accounts (recorded by the publisher)."""

    event_type: ClassVar[str] = "post.published"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    published_at: dt.datetime
    platforms: list[str]
    platform_post_ids: dict[str, str] = Field(
        description="The id each platform gave the post, by platform."
    )


class PostFailed(Event):
    """Publishing a post failed (recorded by the publisher); it can be scheduled again."""

    event_type: ClassVar[str] = "post.failed"
    aggregate_type: ClassVar[str] = "post"

    post_id: int
    error_message: str
    platforms: list[str]
