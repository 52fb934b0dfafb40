"""Sign-in lockout: wrong passwords lock a person's sign-in from the address that sent them,
and, past a much higher cap, from everywhere.

Anyone who knows an e-mail address can send wrong passwords for it, so a lock on the
person alone would let a stranger lock its owner out. Failures are counted per (person,
client address) and once more across all addresses (the ``'*'`` row), each in a window
as long as the lock: ``per_client`` failures from one address lock that address out for
the lock's length, while the person signs in from elsewhere; ``all_clients`` failures
from all addresses together (guessing spread over many addresses) lock everyone out.
Locked attempts are refused before the password is checked, and not counted. A success
forgets its own address's failures, not the others' (an attacker elsewhere keeps
counting); a password reset forgets them all.

The client address is the one the per-address rate limits count (``request.client``, as
uvicorn's forwarded-header handling sets it behind a proxy).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.unit_of_work import side_transaction
from markettina.kernel.errors import RateLimited
from markettina.kernel.logs import get_logger
from markettina.settings import Settings

from .models import LoginFailures

log = get_logger(__name__)

ALL_CLIENTS = "*"  # the row counting a person's failures from every address
UNKNOWN_CLIENT = "unknown"  # a request whose address is not known (as the rate limits say)

# one more failure per row, in its window (a window that ended starts again); a row whose
# count reaches its limit locks for the window's length from now
_COUNT = text(
    "INSERT INTO login_failures AS f (user_id, client_address, failures, window_ends_at, "
    "                                 locked_until) "
    "SELECT :user_id, c.address, 1, now() + :window, "
    "       CASE WHEN c.max_failures <= 1 THEN now() + :window END "
    "FROM (VALUES (CAST(:address AS text), CAST(:per_client AS integer)), "
    "             ('*', CAST(:all_clients AS integer))) AS c (address, max_failures) "
    "ON CONFLICT (user_id, client_address) DO UPDATE SET "
    "  failures = CASE WHEN f.window_ends_at <= now() THEN 1 ELSE f.failures + 1 END, "
    "  window_ends_at = CASE WHEN f.window_ends_at <= now() THEN now() + :window "
    "                   ELSE f.window_ends_at END, "
    "  locked_until = CASE "
    "    WHEN (CASE WHEN f.window_ends_at <= now() THEN 1 ELSE f.failures + 1 END) "
    "         >= (CASE WHEN f.client_address = '*' THEN CAST(:all_clients AS integer) "
    "             ELSE CAST(:per_client AS integer) END) "
    "    THEN now() + :window ELSE f.locked_until END"
)


@dataclass(frozen=True)
class LockoutPolicy:
    per_client: int  # failures from one address that lock it out
    all_clients: int  # failures from all addresses together that lock everyone out
    window: dt.timedelta  # how long failures count, and how long a lock lasts

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            per_client=settings.login_max_failures,
            all_clients=settings.login_max_failures_all_clients,
            window=dt.timedelta(minutes=settings.login_lockout_minutes),
        )


class LoginLocked(RateLimited):
    """Too many failed sign-ins: refused, even with the right password, until the lock ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {retry_after} seconds", code="login_locked"
        )
        self.headers = {"Retry-After": str(retry_after)}  # type: ignore[misc]


def client_key(ip: str | None) -> str:
    return ip or UNKNOWN_CLIENT


def lock_of(user_id: Any, client: str) -> Any:
    """The end of the lock on ``user_id`` signing in from ``client`` (its own, or everyone's),
    NULL when there is none: a scalar subquery, so the look-up of the person carries it."""
    return (
        select(func.max(LoginFailures.locked_until))
        .where(
            LoginFailures.user_id == user_id,
            LoginFailures.client_address.in_((client, ALL_CLIENTS)),
            LoginFailures.locked_until > func.now(),
        )
        .scalar_subquery()
    )


def refuse_if_locked(locked_until: dt.datetime | None) -> None:
    now = dt.datetime.now(dt.UTC)
    if locked_until is not None and locked_until > now:
        raise LoginLocked(retry_after=max(1, math.ceil((locked_until - now).total_seconds())))


async def count_failure(
    session: AsyncSession, *, user_id: int, client: str, policy: LockoutPolicy
) -> None:
    """One more failure from ``client`` and from all clients, committed beside the caller's
    transaction (the request that failed rolls back; its failure must stay counted)."""
    async with side_transaction(session) as side:
        await side.execute(
            _COUNT,
            {
                "user_id": user_id, "address": client, "window": policy.window,
                "per_client": policy.per_client, "all_clients": policy.all_clients,
            },
        )  # fmt: skip
    log.info("login_failed", user_id=user_id, client=client)


async def forget_failures(session: AsyncSession, *, user_id: int, client: str | None) -> None:
    """In the caller's transaction: ``client``'s failures (after its success), or every
    count and lock of the person (``None``: the password was reset)."""
    statement = delete(LoginFailures).where(LoginFailures.user_id == user_id)
    if client is not None:
        statement = statement.where(LoginFailures.client_address == client)
    await session.execute(statement)
