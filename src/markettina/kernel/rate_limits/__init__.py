"""Rate limits per account and route group (issue 6, item 4)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..web.problems import problem_response
from .counter import (
    RateDecision,
    RateLimiter,
    RateLimitExceeded,
    Window,
    address_limiter,
    route_group,
)
from .headers import RateLimitHeaders, answer_with, count
from .plans import PLAN_LIMITS, PlanLimits
from .usage import AccountUsage, GroupUsage, WindowUsage, account_usage

__all__ = [
    "PLAN_LIMITS", "AccountUsage", "GroupUsage", "PlanLimits", "RateDecision",
    "RateLimitExceeded", "RateLimiter", "Window", "WindowUsage", "account_usage",
    "address_limiter", "answer_with", "count",
    "install", "route_group",
]  # fmt: skip


async def _on_rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    response = problem_response(
        request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail,
        headers={"Retry-After": str(exc.retry_after)},
    )  # fmt: skip
    response.raw_headers.extend(exc.decision.raw_headers())
    return response


def install(app: FastAPI) -> None:
    """The 429 answer and the headers of counted requests (the request pipeline calls
    ``RateLimiter.take``, then ``answer_with``)."""
    app.add_middleware(RateLimitHeaders)
    app.add_exception_handler(RateLimitExceeded, _on_rate_limited)
