"""Request and response models of API keys and permission grants."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from markettina.kernel.web.inputs import PositiveInt32, RequestModel, Timestamp
from markettina.kernel.web.outputs import ResponseModel

from ..permissions import ALL_PERMISSIONS


def _known_permission(value: str) -> str:
    if value not in ALL_PERMISSIONS:
        raise ValueError(f"unknown permission {value!r}")
    return value


def _in_future(value: dt.datetime) -> dt.datetime:
    if value <= dt.datetime.now(dt.UTC):
        raise ValueError("must be in the future")
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


PermissionName = Annotated[
    str,
    StringConstraints(max_length=100),
    AfterValidator(_known_permission),
    Field(json_schema_extra={"enum": sorted(ALL_PERMISSIONS)}, examples=["content:read"]),
]
FutureInstant = Annotated[Timestamp, AfterValidator(_in_future)]
Instant = Annotated[dt.datetime, AfterValidator(_utc)]  # stored timestamps, rendered in UTC
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ResourceType = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$", max_length=63),
    Field(examples=["campaign"]),
]


# --- API keys -------------------------------------------------------------------------------


class ApiKeyCreate(RequestModel):
    name: Name
    scopes: list[PermissionName] = Field(min_length=1, max_length=len(ALL_PERMISSIONS))
    expires_at: FutureInstant | None = None


class ApiKeyOut(ResponseModel):
    """A key as listed: never the key itself nor its hash, only the prefix that names it."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    expires_at: Instant | None
    created_at: Instant
    last_used_at: Instant | None
    revoked_at: Instant | None
    created_by: int | None


class ApiKeyCreated(BaseModel):
    """The only response that carries the full key: store it now, it is not shown again."""

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    expires_at: Instant | None
    created_at: Instant
    key: str


# --- permission grants ----------------------------------------------------------------------


class GrantCreate(RequestModel):
    user_id: PositiveInt32
    permission: PermissionName
    resource_type: ResourceType
    resource_id: uuid.UUID | None = Field(
        default=None,
        description="One resource; omitted, the grant covers every resource of the type.",
    )
    expires_at: FutureInstant | None = None


class GrantOut(ResponseModel):
    id: uuid.UUID
    user_id: int
    permission: str
    resource_type: str
    resource_id: uuid.UUID | None
    granted_at: Instant
    granted_by: int | None
    expires_at: Instant | None
