"""Counting an account's requests per route group: one atomic statement per request on an
autocommit connection, so the count survives the request's rollback and the counter row
is locked for that statement only (requests of one account never queue behind each other's
work). N concurrent requests against a limit of L: exactly L are counted and let through."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from ..db.autocommit import AutocommitPool
from ..errors import RateLimited
from .plans import PLAN_LIMITS_JSON

_TAKE = "SELECT * FROM rate_limit_take(%s, %s, %s::jsonb)"
_WINDOWS = ("minute", "hour", "day")


def route_group(path: str) -> str:
    """The group a path counts against: its first segment after the version
    (``/v1/api-keys/{id}`` -> ``api-keys``)."""
    parts = path.split("/", 3)
    if len(parts) > 2 and parts[1] == "v1" and parts[2]:
        return parts[2]
    return parts[1] if len(parts) > 1 and parts[1] else "root"


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # minute, hour or day
    limit: int
    used: int
    reset_in: int  # seconds until the window starts again

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True, slots=True)
class RateDecision:
    group: str
    allowed: bool
    windows: tuple[Window, ...]

    @property
    def tightest(self) -> Window | None:
        """The window with the least room left (of two full ones, the one open longer)."""
        if not self.windows:
            return None
        return min(self.windows, key=lambda w: (w.remaining, -w.reset_in))

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """RateLimit-Limit / -Remaining / -Reset of the tightest window (IETF draft style)."""
        window = self.tightest
        if window is None:
            return []
        return [
            (b"ratelimit-limit", str(window.limit).encode()),
            (b"ratelimit-remaining", str(window.remaining).encode()),
            (b"ratelimit-reset", str(window.reset_in).encode()),
        ]


class RateLimitExceeded(RateLimited):
    """429 with Retry-After and the RateLimit-* headers of the window that is full."""

    code = "rate_limited"
    title: ClassVar[str] = "Too many requests"

    def __init__(self, decision: RateDecision) -> None:
        window = decision.tightest
        assert window is not None
        super().__init__(
            f"the limit of {window.limit} requests per {window.name} on {decision.group} "
            f"is reached; retry in {window.reset_in} s"
        )
        self.decision = decision
        self.retry_after = window.reset_in


async def take(pool: AutocommitPool, account_id: uuid.UUID, group: str) -> RateDecision:
    """Count one request, or raise RateLimitExceeded (a refused request is not counted)."""
    row = await pool.fetch_one(_TAKE, (account_id, group, PLAN_LIMITS_JSON))
    windows = tuple(
        Window(name, row[1 + 3 * i], row[2 + 3 * i], row[3 + 3 * i])
        for i, name in enumerate(_WINDOWS)
        if row[1 + 3 * i] is not None
    )
    decision = RateDecision(group=group, allowed=row[0], windows=windows)
    if not decision.allowed:
        raise RateLimitExceeded(decision)
    return decision
