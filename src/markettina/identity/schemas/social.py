"""Request and response models of social accounts (tokens never appear in any of them)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from markettina.kernel.web.inputs import RequestModel

from ..social_accounts import ConnectedAccount
from .keys import Instant

PlatformName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$", max_length=32),
    Field(examples=["linkedin"]),
]
HealthStatus = Literal["healthy", "degraded", "unhealthy", "expired", "revoked"]


def _redirect_uri(value: str) -> str:
    """RFC 6749 §3.1.2: absolute, no fragment. Kept verbatim: platforms compare it exactly."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    if parts.fragment or value.endswith("#"):
        raise ValueError("must not have a fragment")
    return value


RedirectUri = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    AfterValidator(_redirect_uri),
    Field(examples=["https://app.example.com/social/callback"]),
]


class ConnectStart(RequestModel):
    platform: PlatformName
    redirect_uri: RedirectUri = Field(
        description="Where the platform sends the person back, with `code` and `state`; "
        "it must be registered with the platform."
    )


class ConnectStarted(BaseModel):
    authorization_url: str = Field(
        description="Send the person here. The `state` in it is valid for 10 minutes."
    )


class ConnectCallback(RequestModel):
    state: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    code: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class HealthOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: HealthStatus
    status_message: str | None
    consecutive_failures: int
    last_check_at: Instant | None
    next_check_at: Instant | None


class SocialAccountOut(BaseModel):
    id: uuid.UUID
    platform: str
    platform_user_id: str
    display_name: str | None
    handle: str | None
    profile_image_url: str | None
    is_primary: bool
    is_active: bool
    token_expires_at: Instant | None
    token_scope: list[str]
    sync_status: str
    last_sync_at: Instant | None
    followers_count: int
    following_count: int
    posts_count: int
    user_id: int | None = Field(description="The member who connected it.")
    created_at: Instant
    updated_at: Instant
    version: int
    health: HealthOut | None = None

    @classmethod
    def of(cls, connected: ConnectedAccount) -> SocialAccountOut:
        # field by field: the model's own ``health`` relationship is lazy="raise"
        account = connected.account
        values = {name: getattr(account, name) for name in cls.model_fields if name != "health"}
        health = connected.health
        return cls(**values, health=HealthOut.model_validate(health) if health else None)
