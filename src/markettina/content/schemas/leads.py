"""Request and response models of leads: the lead, its status history, its score, the
scoring weights and CSV imports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from markettina.kernel.web.inputs import Email, Int32, Omittable, PositiveInt32, RequestModel
from markettina.kernel.web.outputs import ResponseModel

LeadStatus = Literal["NEW", "CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "NEGOTIATION", "WON", "LOST"]

MAX_TAGS = 50
MAX_CSV_CHARS = 32 * 1024 * 1024  # about 100,000 rows of a dozen columns
MAX_MAPPING = 40

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
Notes = Annotated[str, StringConstraints(max_length=10_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_distinct)]


def normalised_email(value: str) -> str:
    """How an e-mail is stored and compared: trimmed and lower-cased."""
    return value.strip().lower()


LeadEmail = Annotated[Email, AfterValidator(normalised_email)]


class _LeadFields(RequestModel):
    phone: Phone | None = None
    company: ShortText | None = None
    source: ShortText | None = None
    notes: Notes | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None


class LeadCreate(_LeadFields):
    name: Name
    email: LeadEmail | None = Field(
        default=None, description="Stored trimmed and lower-cased; unique among the live leads."
    )
    status: LeadStatus = Field(
        default="NEW", description="A lead may be created at any stage (e.g. a deal won offline)."
    )
    tags: Tags = Field(default_factory=list)


class LeadUpdate(_LeadFields):
    """Only the fields sent change (`null` clears an optional one). `status` moves the lead
    along the pipeline: only the allowed transitions (docs/api.md)."""

    name: Omittable[Name] = None
    email: LeadEmail | None = None
    status: Omittable[LeadStatus] = None
    tags: Omittable[Tags] = None
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class LeadOut(ResponseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None
    source: str | None
    status: LeadStatus
    score: int
    notes: str | None
    tags: list[str]
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    scored_at: dt.datetime | None
    user_id: int | None
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class StatusChangeOut(ResponseModel):
    id: uuid.UUID
    lead_id: int
    from_status: LeadStatus
    to_status: LeadStatus
    changed_by: int | None
    via: Literal["api", "import"]
    created_at: dt.datetime


class RuleOut(ResponseModel):
    rule: str
    weight: int
    fraction: float = Field(description="What the lead earned of the rule, 0 to 1.")
    points: float = Field(description="The rule's share of the score.")
    reason: str


class LeadScoreOut(ResponseModel):
    lead_id: int
    score: int
    scored_at: dt.datetime | None
    total_weight: int
    rules: list[RuleOut]
    engagement: dict[str, Any] = Field(
        description="The counters the engagement rules read (e-mail opens and clicks, forms)."
    )


Weight = Annotated[Int32, Field(ge=0, le=100)]


class ScoringWeights(RequestModel):
    """Every rule's weight, 0-100; at least one above 0."""

    source: Weight
    email_engagement: Weight
    form_submissions: Weight
    post_engagement: Weight
    recency: Weight
    completeness: Weight
    status: Weight
    version: Omittable[Annotated[Int32, Field(ge=0)]] = Field(
        default=None,
        description="The version you read (or If-Match); 0 while the defaults apply.",
    )

    @model_validator(mode="after")
    def _some_weight(self) -> ScoringWeights:
        if not any(self.weights().values()):
            raise ValueError("at least one rule must weigh more than 0")
        return self

    def weights(self) -> dict[str, int]:
        return self.model_dump(exclude={"version"})


class ScoringWeightsOut(ResponseModel):
    weights: dict[str, int]
    version: int = Field(description="0 while the account uses the defaults.")
    updated_at: dt.datetime | None
    defaults: dict[str, int]


FieldName = Literal[
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "notes",
    "tags",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ignore",
]
Header = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LeadImportCreate(RequestModel):
    csv: Annotated[str, StringConstraints(min_length=1, max_length=MAX_CSV_CHARS)] = Field(
        description="The file's text: a header row, then one lead per row (at most 100,000), "
        "comma-separated (or semicolon, tab), UTF-8."
    )
    mapping: Annotated[dict[Header, FieldName], Field(max_length=MAX_MAPPING)] = Field(
        default_factory=dict,
        description="Header -> lead field, for the headers whose name is not already a field "
        "(matched case-insensitively, spaces as underscores); `ignore` skips a column.",
    )


class LeadImportStarted(ResponseModel):
    job_id: uuid.UUID = Field(description="Follow it at /v1/jobs/{job_id}.")
    import_id: uuid.UUID
    rows: int = Field(description="Data rows in the file (the header aside).")
    columns: dict[str, str] = Field(description="Header -> the lead field it fills.")
