"""Request and response models of A/B variants, their traffic split, counters and
statistics."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from markettina.kernel.web.inputs import Int32, Omittable, RequestModel
from markettina.kernel.web.outputs import ResponseModel

ParentType = Literal["post", "email_campaign"]
ParentId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="The post's id (a number) or the e-mail campaign's id (a UUID)."),
]
VariantName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
VariantContent = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Percent = Annotated[Int32, Field(ge=1, le=100, description="A whole percentage.")]
Count = Annotated[Int32, Field(ge=0, le=1_000_000)]
Metric = Literal["conversions", "clicks"]
Level = Literal["0.1", "0.05", "0.01", "0.001"]


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_utc)]


class VariantCreate(RequestModel):
    """A new variant is inactive and gets no traffic until a split includes it."""

    parent_content_type: ParentType
    parent_content_id: ParentId
    variant_name: VariantName
    variant_content: VariantContent


class VariantUpdate(RequestModel):
    variant_name: Omittable[VariantName] = None
    variant_content: Omittable[VariantContent] = None


class SplitShare(RequestModel):
    variant_id: uuid.UUID
    traffic_percent: Percent


class TrafficSplit(RequestModel):
    """The whole split of one parent at once: the variants listed become its active ones,
    with these percentages (summing to 100); every other variant of it becomes inactive."""

    parent_content_type: ParentType
    parent_content_id: ParentId
    split: Annotated[list[SplitShare], Field(min_length=1, max_length=20)]


class VariantCounts(RequestModel):
    """Added atomically to the variant's counters (at least one of them above 0)."""

    impressions: Count = 0
    clicks: Count = 0
    conversions: Count = 0


class WinnerRequest(RequestModel):
    metric: Metric = "conversions"
    level: Level = Field(default="0.05", description="The significance level (two-sided).")


class VariantOut(ResponseModel):
    id: uuid.UUID
    parent_content_type: str
    parent_content_id: str
    variant_name: str
    variant_content: str
    traffic_percent: float
    impressions: int
    clicks: int
    conversions: int
    engagement_score: float | None
    is_winner: bool
    is_active: bool
    created_at: Instant
    updated_at: Instant


class ArmOut(ResponseModel):
    variant_id: uuid.UUID
    name: str
    n: int = Field(description="Impressions.")
    successes: int = Field(description="Conversions (or clicks, by the metric).")
    rate: float


class ComparisonOut(ResponseModel):
    against: uuid.UUID
    pooled_rate: float
    standard_error: float
    z: float | None
    p_value: float | None
    sample_ok: bool
    significant: bool
    reason: str


class AnalysisOut(ResponseModel):
    """A two-proportion z-test of the candidate against every other arm (docs/api.md)."""

    metric: str
    level: float
    comparison_level: float = Field(description="The level each comparison is held to.")
    arms: list[ArmOut]
    candidate: uuid.UUID | None
    comparisons: list[ComparisonOut]
    decision: Literal["significant", "not_significant", "insufficient_sample"]
    reason: str


class WinnerOut(ResponseModel):
    variant: VariantOut
    analysis: AnalysisOut
