"""Request and response models of accounts, sub-accounts, members and invitations."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Role = Literal["owner", "admin", "editor", "viewer"]

SETTINGS_MAX_BYTES = 16_384
MAX_VERSION = 2**31 - 1  # the version column is an integer

AccountName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


def _small_settings(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > SETTINGS_MAX_BYTES:
        raise ValueError(f"settings must stay under {SETTINGS_MAX_BYTES} bytes of JSON")
    return value


AccountSettings = Annotated[dict[str, Any], AfterValidator(_small_settings)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- accounts --------------------------------------------------------------------------------


class AccountOut(_Output):
    id: uuid.UUID
    name: str
    slug: str
    plan_tier: str
    parent_account_id: uuid.UUID | None
    settings: dict[str, Any]
    created_at: dt.datetime
    version: int


class AccountUpdate(_Input):
    name: AccountName | None = None
    settings: AccountSettings | None = Field(
        default=None, description="Replaces the whole settings object."
    )
    version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="The version you read (or send it as `If-Match`).",
    )


class SubAccountCreate(_Input):
    name: AccountName
    slug: Slug | None = Field(default=None, description="Made from the name when left out.")


# --- members ---------------------------------------------------------------------------------


class MemberOut(_Output):
    user_id: int
    email: str
    full_name: str | None
    role: Role
    accepted_at: dt.datetime | None


class MemberRoleUpdate(_Input):
    role: Role


class MembershipOut(_Output):
    """The caller's own membership, as an accepted invitation made it."""

    account_id: uuid.UUID
    user_id: int
    role: Role
    accepted_at: dt.datetime | None


# --- invitations -----------------------------------------------------------------------------


class InvitationCreate(_Input):
    email: EmailStr
    role: Role


class InvitationOut(_Output):
    id: uuid.UUID
    email: str
    role: Role
    invited_by: int | None
    expires_at: dt.datetime
    created_at: dt.datetime


class InvitationAccept(_Input):
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
