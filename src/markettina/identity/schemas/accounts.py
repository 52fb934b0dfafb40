"""Request and response models of accounts, sub-accounts, members and invitations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from markettina.kernel.web.inputs import (
    INT32_MAX,
    Email,
    JsonObject,
    Omittable,
    PositiveInt32,
    RequestModel,
)
from markettina.kernel.web.outputs import ResponseModel

Role = Literal["owner", "admin", "editor", "viewer"]

MAX_VERSION = INT32_MAX  # the version column is an integer

AccountName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)]


# --- accounts --------------------------------------------------------------------------------


class AccountOut(ResponseModel):
    id: uuid.UUID
    name: str
    slug: str
    plan_tier: str
    parent_account_id: uuid.UUID | None
    settings: dict[str, Any]
    created_at: dt.datetime
    version: int


class AccountUpdate(RequestModel):
    name: Omittable[AccountName] = None
    settings: Omittable[JsonObject] = Field(
        default=None, description="Replaces the whole settings object (at most 16 KB of JSON)."
    )
    version: Omittable[PositiveInt32] = Field(
        default=None, description="The version you read (or send it as `If-Match`)."
    )


class SubAccountCreate(RequestModel):
    name: AccountName
    slug: Slug | None = Field(default=None, description="Made from the name when left out.")


# --- members ---------------------------------------------------------------------------------


class MemberOut(ResponseModel):
    user_id: int
    email: str
    full_name: str | None
    role: Role
    accepted_at: dt.datetime | None


class MemberRoleUpdate(RequestModel):
    role: Role


class MembershipOut(ResponseModel):
    """The caller's own membership, as an accepted invitation made it."""

    account_id: uuid.UUID
    user_id: int
    role: Role
    accepted_at: dt.datetime | None


# --- invitations -----------------------------------------------------------------------------


class InvitationCreate(RequestModel):
    email: Email
    role: Role


class InvitationOut(ResponseModel):
    id: uuid.UUID
    email: str
    role: Role
    invited_by: int | None
    expires_at: dt.datetime
    created_at: dt.datetime


class InvitationAccept(RequestModel):
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
