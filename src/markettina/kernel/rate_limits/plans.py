"""Each plan's default limits, per route group and account. An api_rate_limits row may
override any of them for one account and group (a NULL limit there means this default).
docs/api.md shows the same table."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanLimits:
    per_minute: int
    per_hour: int
    per_day: int


PLAN_LIMITS: dict[str, PlanLimits] = {
    "free": PlanLimits(per_minute=60, per_hour=1_000, per_day=10_000),
    "starter": PlanLimits(per_minute=120, per_hour=3_000, per_day=30_000),
    "pro": PlanLimits(per_minute=300, per_hour=10_000, per_day=100_000),
    "agency": PlanLimits(per_minute=600, per_hour=20_000, per_day=200_000),
    "enterprise": PlanLimits(per_minute=1_200, per_hour=50_000, per_day=500_000),
}

# what rate_limit_take() reads: plan tier -> [per minute, per hour, per day]
PLAN_LIMITS_JSON = json.dumps(
    {plan: [p.per_minute, p.per_hour, p.per_day] for plan, p in PLAN_LIMITS.items()}
)
