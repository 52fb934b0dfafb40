"""Counting an account's requests per route group: atomic statements on an autocommit
connection, so a count survives the request's rollback and the counter row is locked for
that statement only (requests of one account never queue behind each other's work).
N concurrent requests against a limit of L: exactly L are counted and let through.

Each process keeps at most one statement in flight per (account, group): the requests
that arrive meanwhile wait, and the next statement counts them all at once. A busy
account costs a statement per round trip, not one per request, and its counter row is
never a queue."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from ..db.autocommit import AutocommitPool
from ..errors import RateLimited
from .plans import PLAN_LIMITS_JSON

# (subject, group, *limits, requests) -> granted and the windows after the grant
_ACCOUNT_TAKE = "SELECT * FROM rate_limit_take(%s, %s, %s::jsonb, %s)"
_ADDRESS_TAKE = "SELECT * FROM address_rate_limit_take(%s, %s, %s, %s, %s)"
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


Subject = uuid.UUID | str  # an account, or a client address


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


def _decisions(group: str, row: tuple[Any, ...], requests: int) -> list[RateDecision]:
    """One decision per request of a batch, in arrival order: the first ``granted`` are
    counted, each seeing the count as it was after it; the rest are refused."""
    granted = row[0]
    limits = [
        (name, row[1 + 3 * i], row[2 + 3 * i], row[3 + 3 * i])
        for i, name in enumerate(_WINDOWS)
        if row[1 + 3 * i] is not None
    ]
    decisions = []
    for position in range(requests):
        allowed = position < granted
        # used_after counts the whole grant; request k of it saw k + 1 of them
        short = granted - position - 1 if allowed else 0
        windows = tuple(
            Window(name, limit, used_after - short, reset_in)
            for name, limit, used_after, reset_in in limits
        )
        decisions.append(RateDecision(group=group, allowed=allowed, windows=windows))
    return decisions


class RateLimiter:
    """The counter of one process (one per API process, beside its autocommit pool), of
    accounts' requests (the plan's limits, or the account's own) by default; see
    ``address_limiter`` for anonymous requests."""

    def __init__(
        self,
        pool: AutocommitPool,
        *,
        statement: str = _ACCOUNT_TAKE,
        limits: tuple[Any, ...] = (PLAN_LIMITS_JSON,),
    ) -> None:
        self._pool = pool
        self._statement = statement
        self._limits = limits
        self._waiting: dict[tuple[Subject, str], list[asyncio.Future[RateDecision]]] = {}
        self._counting: set[asyncio.Task[None]] = set()

    async def take(self, subject: Subject, group: str) -> RateDecision:
        """Count one request of ``subject`` (an account id, or a client address) on
        ``group``, or raise RateLimitExceeded (a refused request is not counted)."""
        key = (subject, group)
        decision: asyncio.Future[RateDecision] = asyncio.get_running_loop().create_future()
        queue = self._waiting.get(key)
        if queue is None:
            self._waiting[key] = [decision]
            task = asyncio.create_task(self._count(key))
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)
        else:
            queue.append(decision)
        result = await decision
        if not result.allowed:
            raise RateLimitExceeded(result)
        return result

    async def _count(self, key: tuple[Subject, str]) -> None:
        """Statement after statement, each for the requests that queued during the last,
        until none is waiting."""
        subject, group = key
        while batch := self._waiting[key]:
            self._waiting[key] = []
            try:
                row = await self._pool.fetch_one(
                    self._statement, (subject, group, *self._limits, len(batch))
                )
            except Exception as exc:  # the database refused: these requests fail with it
                for waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(exc)
                continue
            except BaseException:  # cancelled: the process is stopping
                for waiting in batch + self._waiting.pop(key, []):
                    waiting.cancel()
                raise
            for waiting, decision in zip(batch, _decisions(group, row, len(batch)), strict=True):
                if not waiting.done():  # a request given up on was still counted
                    waiting.set_result(decision)
        del self._waiting[key]


def address_limiter(pool: AutocommitPool, *, per_minute: int, per_hour: int) -> RateLimiter:
    """Requests of anonymous routes, counted per client address and route group."""
    return RateLimiter(pool, statement=_ADDRESS_TAKE, limits=(per_minute, per_hour))
