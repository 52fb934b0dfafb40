"""The events the content context publishes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

from pydantic import Field

from markettina.kernel.events import Event

# --- campaigns ------------------------------------------------------------------------------
# campaign.created (and .updated, .deleted) are written by the change-capture trigger on
# campaigns (kernel/events/change_capture.py); the status machine's moves are declared here.


class _CampaignStatusChanged(Event):
    aggregate_type: ClassVar[str] = "campaign"

    campaign_id: uuid.UUID
    name: str
    previous_status: str = Field(description="The status the campaign left.")
    changed_by: int | None = Field(description="The user who moved it (null: an API key).")


class CampaignActivated(_CampaignStatusChanged):
    """A campaign started running (from planning) or resumed (from paused)."""

    event_type: ClassVar[str] = "campaign.activated"

    start_date: dt.date | None
    end_date: dt.date | None


class CampaignPaused(_CampaignStatusChanged):
    """A running campaign was paused."""

    event_type: ClassVar[str] = "campaign.paused"


class CampaignCompleted(_CampaignStatusChanged):
    """A campaign ended (from active or paused): its spent tokens are final but for refunds."""

    event_type: ClassVar[str] = "campaign.completed"

    spent_tokens: int
    budget_tokens: int | None


class CampaignArchived(_CampaignStatusChanged):
    """A completed campaign was archived."""

    event_type: ClassVar[str] = "campaign.archived"


# --- media library -------------------------------------------------------------------------
# --- A/B variants (h-templates) ----------------------------------------------------------------


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


class VariantWinnerDeclared(Event):
    """An A/B test ended: a variant was shown to beat every other arm of its post or
    e-mail campaign (two-proportion z-test; the statistics are in the payload). The
    winner now takes all the traffic; the other variants are inactive."""

    event_type: ClassVar[str] = "variant.winner_declared"
    aggregate_type: ClassVar[str] = "content_variant"

    variant_id: uuid.UUID
    parent_content_type: str
    parent_content_id: str
    metric: str
    level: float
    impressions: int
    successes: int
    rate: float
    p_values: list[float]


# --- leads (lead.created is the change-capture event of the leads table) ---------------------


class _LeadEvent(Event):
    aggregate_type: ClassVar[str] = "lead"

    lead_id: int = Field(description="The lead's id.")


class LeadStatusChanged(_LeadEvent):
    """A lead moved along the pipeline (through the API or a CSV import)."""

    event_type: ClassVar[str] = "lead.status_changed"

    from_status: str = Field(description="The status it left.")
    to_status: str = Field(description="The status it reached.")
    changed_by: int | None = Field(
        description="The user who changed it (an import's: its uploader)."
    )


class LeadScoreChanged(_LeadEvent):
    """A lead's score changed (the lead changed, it engaged, or the weights changed)."""

    event_type: ClassVar[str] = "lead.score_changed"

    from_score: int = Field(description="The score before, 0-100.")
    to_score: int = Field(description="The score now, 0-100.")


class LeadConverted(_LeadEvent):
    """A lead was won (its status became WON)."""

    event_type: ClassVar[str] = "lead.converted"

    changed_by: int | None = Field(description="The user who marked it won.")


# --- posts (h-posts) ----------------------------------------------------------------------


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
