"""RateLimit-* headers on every answer to a counted request, whatever the endpoint returns
(a model, a ready Response, an error, a replay)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .counter import RateDecision, RateLimiter, Subject, route_group

_STATE_KEY = "rate_limit_headers"


def answer_with(scope: Scope, decision: RateDecision) -> None:
    """Put the decision's headers on the response to this request."""
    scope["state"][_STATE_KEY] = decision.raw_headers()


async def count(scope: Scope, limiter: RateLimiter, subject: Subject) -> RateDecision:
    """Count this request of ``subject`` on its route group (``RateLimitExceeded`` when the
    limit is full) and put the decision's headers on its response."""
    decision = await limiter.take(subject, route_group(scope["path"]))
    answer_with(scope, decision)
    return decision


class RateLimitHeaders:
    """ASGI middleware adding the headers ``answer_with`` left in the request's state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = state.get(_STATE_KEY)
                if extra:
                    message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_limits)
