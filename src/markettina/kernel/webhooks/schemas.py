"""Request and response models of webhook endpoints and their delivery log."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from ..events import catalog, event_matches
from ..web.inputs import INT32_MAX, Flag, Int32, Omittable, PositiveInt32, RequestModel
from .payloads import PING_EVENT_TYPE

MAX_VERSION = INT32_MAX
MAX_PATTERNS = 50
MAX_SECRET_GRACE_SECONDS = 7 * 24 * 3600
_PATTERN = re.compile(r"^(\*|[a-z*][a-z0-9_*]*(\.[a-z0-9_*]+)*)$")

DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed", "abandoned"]


def _webhook_url(value: str) -> str:
    """An absolute http(s) URL with a host, no credentials and no fragment, normalised
    (an international host name in its ASCII form)."""
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if not url.host:
        raise ValueError("must name a host")
    if url.userinfo:
        raise ValueError("must not carry a user name or password")
    if url.fragment:
        raise ValueError("must not have a #fragment")
    return str(url)


def _event_pattern(value: str) -> str:
    if not _PATTERN.match(value):
        raise ValueError("an event type such as lead.created, with * wildcards (lead.*, *)")
    known = [*catalog(), PING_EVENT_TYPE]
    if not any(event_matches(value, event_type) for event_type in known):
        raise ValueError(f"matches no event type (see docs/events.md): {value}")
    return value


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    AfterValidator(_webhook_url),
    Field(examples=["https://example.com/hooks/markettina"]),
]
EventPattern = Annotated[
    str, StringConstraints(min_length=1, max_length=200), AfterValidator(_event_pattern)
]
EventPatterns = Annotated[
    list[EventPattern],
    Field(min_length=1, max_length=MAX_PATTERNS, examples=[["lead.*", "campaign.created"]]),
    AfterValidator(_distinct),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
RetryCount = Annotated[Int32, Field(ge=0, le=10, description="Retries after the first attempt.")]
RetryDelay = Annotated[
    Int32,
    Field(ge=1, le=86_400, description="Seconds before the first retry; doubled each time."),
]
GraceSeconds = Annotated[Int32, Field(ge=0, le=MAX_SECRET_GRACE_SECONDS)]


class WebhookCreate(RequestModel):
    name: Name
    url: WebhookUrl
    events: EventPatterns
    description: Description | None = None
    retry_count: RetryCount = 3
    retry_delay_seconds: RetryDelay = 60


class WebhookUpdate(RequestModel):
    """Only the fields sent change (`description: null` removes the description)."""

    name: Omittable[Name] = None
    url: Omittable[WebhookUrl] = None
    events: Omittable[EventPatterns] = None
    description: Description | None = None
    retry_count: Omittable[RetryCount] = None
    retry_delay_seconds: Omittable[RetryDelay] = None
    is_active: Omittable[Flag] = Field(
        default=None, description="true re-enables an endpoint that was disabled."
    )
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or If-Match)."
    )

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class SecretRotation(RequestModel):
    expires_in_seconds: GraceSeconds = Field(
        default=0,
        description="How long the old secret keeps signing deliveries, next to the new one "
        "(0, the default: it stops at once; at most 7 days).",
    )


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


Instant = Annotated[dt.datetime, AfterValidator(_utc)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class WebhookOut(_Out):
    """An endpoint; its signing secret is shown only when it is made (creation, rotation)."""

    id: uuid.UUID
    name: str
    description: str | None
    url: str
    events: list[str]
    is_active: bool
    retry_count: int
    retry_delay_seconds: int
    total_deliveries: int
    successful_deliveries: int
    failed_deliveries: int
    last_delivery_at: Instant | None
    consecutive_failures: int
    disabled_at: Instant | None
    disabled_reason: str | None
    previous_secret_expires_at: Instant | None = Field(
        description="While the secret replaced by the last rotation still signs deliveries "
        "(a second v1 signature): when it stops. Null otherwise."
    )
    created_at: Instant
    updated_at: Instant
    version: int

    @field_validator("previous_secret_expires_at")
    @classmethod
    def _only_while_valid(cls, value: dt.datetime | None) -> dt.datetime | None:
        return value if value is not None and value > dt.datetime.now(dt.UTC) else None


class WebhookCreated(WebhookOut):
    """The only responses that carry the signing secret (creation, rotation): store it now."""

    secret: str


class DeliveryOut(_Out):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID | None
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    response_time_ms: int | None
    last_error: str | None
    next_retry_at: Instant | None
    created_at: Instant
    sent_at: Instant | None


class AttemptOut(_Out):
    number: int
    outcome: Literal["delivering", "succeeded", "failed", "interrupted"]
    response_code: int | None
    response_time_ms: int | None
    error: str | None
    started_at: Instant
    finished_at: Instant | None


class DeliveryDetail(DeliveryOut):
    """A delivery with what was sent, the last answer's first 4 KB, and every attempt."""

    payload: dict[str, Any]
    response_body: str | None
    attempt_log: list[AttemptOut]
