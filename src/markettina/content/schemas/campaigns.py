"""Request and response models of campaigns: the campaign, its changes and its summary."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from markettina.kernel.web.inputs import (
    CalendarDay,
    Int32,
    Omittable,
    PositiveInt32,
    RequestModel,
)
from markettina.kernel.web.outputs import ResponseModel

CampaignStatus = Literal["planning", "active", "paused", "completed", "archived"]
PostStatus = Literal[
    "draft", "pending_approval", "scheduled", "publishing", "published", "failed", "cancelled"
]
POST_STATUSES: tuple[PostStatus, ...] = (
    "draft", "pending_approval", "scheduled", "publishing", "published", "failed", "cancelled",
)  # fmt: skip
MAX_TAGS = 20


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[
    list[Tag],
    Field(max_length=MAX_TAGS, examples=[["spring", "launch"]]),
    AfterValidator(_distinct),
]
Target = Annotated[Int32, Field(ge=0)]
Budget = Annotated[Int32, Field(ge=0, description="Tokens the campaign may spend; null: no limit.")]


class CampaignCreate(RequestModel):
    """A new campaign starts in ``planning``."""

    name: Name
    description: Description | None = None
    start_date: CalendarDay | None = None
    end_date: CalendarDay | None = Field(default=None, description="On or after start_date.")
    target_reach: Target | None = None
    target_engagement: Target | None = None
    target_conversions: Target | None = None
    target_leads: Target | None = None
    budget_tokens: Budget | None = None
    tags: Tags = Field(default_factory=list)


class CampaignUpdate(RequestModel):
    """Only the fields sent change (null clears an optional one). ``status`` moves the
    campaign along planning → active ⇄ paused → completed → archived."""

    name: Omittable[Name] = None
    description: Description | None = None
    start_date: CalendarDay | None = None
    end_date: CalendarDay | None = None
    target_reach: Target | None = None
    target_engagement: Target | None = None
    target_conversions: Target | None = None
    target_leads: Target | None = None
    budget_tokens: Budget | None = Field(
        default=None, description="Not below the tokens already spent; null: no limit."
    )
    tags: Omittable[Tags] = None
    status: Omittable[CampaignStatus] = None
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class CampaignOut(ResponseModel):
    id: uuid.UUID
    name: str
    description: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    status: CampaignStatus
    target_reach: int | None
    target_engagement: int | None
    target_conversions: int | None
    target_leads: int | None
    budget_tokens: int | None
    spent_tokens: int = Field(description="Tokens charged to the campaign, refunds deducted.")
    tags: list[str]
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int = Field(description="Send it back as If-Match (or body.version) to change it.")


# --- the summary ------------------------------------------------------------------------------


class TokensSummary(BaseModel):
    budget: int | None = Field(description="The budget in tokens; null: no limit.")
    spent: int
    remaining: int | None = Field(description="budget - spent; null without a budget.")


class GoalProgress(BaseModel):
    goal: Literal["reach", "engagement", "conversions", "leads"]
    target: int | None
    actual: int | None = Field(
        description="Measured from the read models; null when they have not been refreshed "
        "since the campaign began, or when no read model measures this goal."
    )
    progress: float | None = Field(description="actual / target (1.0 is the target met).")
    source: str | None = Field(description="The read model the actual comes from, if any.")


class ActualsFreshness(BaseModel):
    state: Literal["refreshed", "not_yet_refreshed"] = Field(
        description="not_yet_refreshed: the read model has not been refreshed since the "
        "campaign was created (the actuals are null until it is)."
    )
    refreshed_at: dt.datetime | None = Field(
        description="When the read model's last refresh started: its data is that fresh "
        "(null: never refreshed)."
    )


class CampaignSummary(BaseModel):
    campaign_id: uuid.UUID
    status: CampaignStatus
    posts_by_status: dict[PostStatus, int] = Field(
        description="The campaign's posts (not deleted) in each status, every status listed."
    )
    tokens: TokensSummary
    goals: list[GoalProgress]
    actuals: ActualsFreshness
