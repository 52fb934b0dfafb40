"""The acting account's rate limits: its plan's defaults, and per route group it has used,
the effective limits and what the current windows have counted."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from markettina.identity.public import Actor, Transaction, require
from markettina.kernel import rate_limits

router = APIRouter(tags=["rate limits"])

AccountRead = Annotated[Actor, require("account:read")]


class PlanLimitsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    per_minute: int
    per_hour: int
    per_day: int


class WindowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    limit: int
    used: int = Field(description="Requests counted in the current window.")
    resets_at: dt.datetime | None = Field(
        description="When the current window ends; null when nothing was counted in it."
    )


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    group: str = Field(description="The route group: the first path segment after /v1.")
    custom: bool = Field(description="Limits set for this account, not only the plan's.")
    minute: WindowOut
    hour: WindowOut
    day: WindowOut


class RateLimitsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    plan_tier: str
    defaults: PlanLimitsOut = Field(description="Per route group, unless the group says else.")
    groups: list[GroupOut]


@router.get(
    "/account/rate-limits",
    response_model=RateLimitsOut,
    summary="The account's rate limits per route group, and the current counts",
)
async def get_rate_limits(actor: AccountRead, session: Transaction) -> RateLimitsOut:
    usage = await rate_limits.account_usage(session, actor.account_id)
    return RateLimitsOut.model_validate(usage)
