"""What an account may still send: its plan's defaults, and per route group it has used,
the effective limits and the counts of the current windows."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .plans import PLAN_LIMITS, PlanLimits

# counts of windows that have ended read as 0 (the next request starts them again)
_USAGE = text(
    "SELECT a.plan_tier, l.endpoint, l.limit_per_minute, l.limit_per_hour, l.limit_per_day, "
    "  CASE WHEN l.reset_minute_at > now() THEN l.current_minute_count ELSE 0 END, "
    "  CASE WHEN l.reset_minute_at > now() THEN l.reset_minute_at END, "
    "  CASE WHEN l.reset_hour_at > now() THEN l.current_hour_count ELSE 0 END, "
    "  CASE WHEN l.reset_hour_at > now() THEN l.reset_hour_at END, "
    "  CASE WHEN l.reset_day_at > now() THEN l.current_day_count ELSE 0 END, "
    "  CASE WHEN l.reset_day_at > now() THEN l.reset_day_at END "
    "FROM accounts a LEFT JOIN api_rate_limits l ON l.account_id = a.id "
    "WHERE a.id = :account ORDER BY l.endpoint"
)


@dataclass(frozen=True)
class WindowUsage:
    limit: int
    used: int
    resets_at: dt.datetime | None  # None: no request in the current window yet


@dataclass(frozen=True)
class GroupUsage:
    group: str
    custom: bool  # an explicit limit is set for this account and group
    minute: WindowUsage
    hour: WindowUsage
    day: WindowUsage


@dataclass(frozen=True)
class AccountUsage:
    plan_tier: str
    defaults: PlanLimits
    groups: list[GroupUsage]


async def account_usage(session: AsyncSession, account_id: uuid.UUID) -> AccountUsage:
    """Read in the caller's transaction (the tenant is the account)."""
    rows = (await session.execute(_USAGE, {"account": account_id})).all()
    plan_tier = rows[0][0]
    defaults = PLAN_LIMITS[plan_tier]
    groups = []
    for row in rows:
        if row[1] is None:
            continue
        limits = (row[2], row[3], row[4])
        minute, hour, day = (
            limit if limit is not None else default
            for limit, default in zip(
                limits, (defaults.per_minute, defaults.per_hour, defaults.per_day), strict=True
            )
        )
        groups.append(
            GroupUsage(
                group=row[1],
                custom=any(limit is not None for limit in limits),
                minute=WindowUsage(minute, row[5], row[6]),
                hour=WindowUsage(hour, row[7], row[8]),
                day=WindowUsage(day, row[9], row[10]),
            )
        )
    return AccountUsage(plan_tier=plan_tier, defaults=defaults, groups=groups)
