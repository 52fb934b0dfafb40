"""Feature flags over HTTP: an account's own features, and staff's management of the flags
(staff sessions only; every staff call leaves an audit row)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import (
    STAFF_ONLY,
    Actor,
    Staff,
    StaffMember,
    Transaction,
    not_plain,
    record_staff_action,
    require,
)
from markettina.kernel import feature_flags
from markettina.kernel.feature_flags import administration
from markettina.kernel.models import FeatureFlag
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.inputs import Flag, Int32, RequestModel, small_json_object

router = APIRouter()

FEATURE_NAME = r"^[a-z][a-z0-9_.-]{0,99}$"
FeatureName = Annotated[
    str, Path(pattern=FEATURE_NAME, max_length=100, description="e.g. `ai_images`")
]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Config = Annotated[
    dict[str, Any],
    Field(max_length=50, description="Free-form settings the feature reads (≤ 50 keys, 16 KB)."),
    AfterValidator(small_json_object),  # a JsonObject of at most 50 keys
]
RolloutPercent = Annotated[
    Int32, Field(ge=0, le=100, description="When enabled, the share of accounts that get it.")
]
FeaturesRead = Annotated[Actor, require("features:read")]


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FeatureOut(BaseModel):
    enabled: bool
    config: dict[str, Any]


class FeaturesOut(BaseModel):
    features: dict[str, FeatureOut] = Field(
        description="Every flag the platform knows, by name, as it applies to this account."
    )


class GlobalFlagIn(RequestModel):
    enabled: Flag
    rollout_percent: RolloutPercent = 100
    description: Description | None = None
    config: Config = Field(default_factory=dict)


class GlobalFlagOut(_Output):
    name: str = Field(validation_alias="feature_name")
    description: str | None
    enabled: bool
    rollout_percent: int
    config: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class OverrideIn(RequestModel):
    enabled: Flag
    config: Config = Field(default_factory=dict)


class OverrideOut(_Output):
    enabled: bool
    config: dict[str, Any]
    updated_at: dt.datetime


class AccountFeatureOut(BaseModel):
    name: str
    enabled: bool
    config: dict[str, Any]
    override: OverrideOut | None


class AccountFeaturesOut(BaseModel):
    account_id: uuid.UUID
    features: list[AccountFeatureOut]


@router.get(
    "/features",
    response_model=FeaturesOut,
    tags=["features"],
    summary="The acting account's features: each flag on or off, with its settings",
)
async def read_features(actor: FeaturesRead, session: Transaction) -> FeaturesOut:
    features = await feature_flags.features_for(session, actor.account_id)
    return FeaturesOut(
        features={
            name: FeatureOut(enabled=f.enabled, config=dict(f.config))
            for name, f in features.items()
        }
    )


staff_router = APIRouter(prefix="/staff", tags=["staff"])


@staff_router.get(
    "/feature-flags", response_model=Page[GlobalFlagOut], summary="The global feature flags"
)
@not_plain(STAFF_ONLY)
async def list_flags(
    member: StaffMember, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Page[GlobalFlagOut]:
    page = await administration.list_global_flags(session, limit=limit, cursor=cursor)
    await record_staff_action(session, staff=member, action="feature_flag.list")
    return Page[GlobalFlagOut](
        items=[GlobalFlagOut.model_validate(f) for f in page.items], next_cursor=page.next_cursor
    )


@staff_router.put(
    "/feature-flags/{name}",
    response_model=GlobalFlagOut,
    summary="Create or replace a global flag (201 when new)",
    responses={201: {"model": GlobalFlagOut, "description": "Created"}},
)
async def put_flag(
    name: FeatureName, body: GlobalFlagIn, member: StaffMember, session: Transaction,
    response: Response,
) -> GlobalFlagOut:  # fmt: skip
    flag, created = await administration.put_global_flag(
        session, admin_user_id=member.admin_user_id, name=name, enabled=body.enabled,
        rollout_percent=body.rollout_percent, description=body.description, config=body.config,
    )  # fmt: skip
    await _audit(member, session, "feature_flag.put", flag, created=created)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return GlobalFlagOut.model_validate(flag)


@staff_router.get(
    "/accounts/{account_id}/feature-flags",
    response_model=AccountFeaturesOut,
    summary="One account's features, with its overrides",
)
async def account_flags(
    account_id: uuid.UUID, member: StaffMember, session: Transaction
) -> AccountFeaturesOut:
    features = await administration.account_features(session, account_id=account_id)
    await record_staff_action(session, staff=member, action="feature_flag.account_view",
                              target_type="account", target_id=str(account_id))  # fmt: skip
    return AccountFeaturesOut(
        account_id=account_id,
        features=[
            AccountFeatureOut(
                name=f.name,
                enabled=f.effective.enabled,
                config=dict(f.effective.config),
                override=OverrideOut.model_validate(f.override) if f.override else None,
            )
            for f in features
        ],
    )


@staff_router.put(
    "/accounts/{account_id}/feature-flags/{name}",
    response_model=OverrideOut,
    summary="Set one account's answer for a flag (201 when new)",
    responses={201: {"model": OverrideOut, "description": "Created"}},
)
async def put_override(
    account_id: uuid.UUID, name: FeatureName, body: OverrideIn, member: StaffMember,
    session: Transaction, response: Response,
) -> OverrideOut:  # fmt: skip
    flag, created = await administration.put_override(
        session, account_id=account_id, name=name, enabled=body.enabled, config=body.config
    )
    await _audit(member, session, "feature_flag.override_put", flag, created=created)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return OverrideOut.model_validate(flag)


@staff_router.delete(
    "/accounts/{account_id}/feature-flags/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an account's override: the global flag applies again",
)
async def remove_override(
    account_id: uuid.UUID, name: FeatureName, member: StaffMember, session: Transaction
) -> None:
    await administration.remove_override(session, account_id=account_id, name=name)
    await record_staff_action(
        session, staff=member, action="feature_flag.override_remove", target_type="account",
        target_id=str(account_id), details={"feature": name},
    )  # fmt: skip


async def _audit(
    member: Staff, session: AsyncSession, action: str, flag: FeatureFlag, *, created: bool
) -> None:
    """What the flag now is, in the audit row (an override names its account)."""
    await record_staff_action(
        session, staff=member, action=action,
        target_type="feature_flag" if flag.account_id is None else "account",
        target_id=flag.feature_name if flag.account_id is None else str(flag.account_id),
        details={"feature": flag.feature_name, "created": created, "enabled": flag.enabled,
                 "rollout_percent": flag.rollout_percent, "config": flag.config},
    )  # fmt: skip


router.include_router(staff_router)
