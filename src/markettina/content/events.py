"""The events the content context publishes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

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
