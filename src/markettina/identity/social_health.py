"""The upkeep of social accounts: the periodic check that refreshes tokens about to expire
and keeps one health record per account, and the re-encryption of tokens when keys rotate.

The check finds the due accounts across tenants with the owner's maintenance function
``social_accounts_due``; each account's refresh is then written as the application role
with that account as the tenant, like a request. The re-encryption runs as the owner."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from markettina.kernel.db.reencryption import (
    ReencryptionReport,
    count_encrypted,
    reencrypt_columns,
)
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.logs import get_logger
from markettina.kernel.security import SecretBox

from . import social_ports
from .models import SocialAccount
from .social_accounts import (
    CHECK_BATCH,
    CHECK_INTERVAL,
    REFRESH_AHEAD,
    ROTATION_BATCH,
    UNHEALTHY_AFTER_FAILURES,
    latest_health,
    next_check,
    record_health,
)
from .social_ports import GrantRejected, PlatformError, TokenSet

log = get_logger(__name__)

# the columns ``markettina secrets rotate`` re-encrypts
TOKEN_COLUMNS = (SocialAccount.access_token_encrypted, SocialAccount.refresh_token_encrypted)


async def count_social_tokens(*, session: AsyncSession) -> int:
    return await count_encrypted(session, TOKEN_COLUMNS)


async def rotate_social_tokens(
    *,
    session: AsyncSession,
    box: SecretBox,
    batch_size: int = ROTATION_BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ReencryptionReport:
    """Re-encrypt every stored token with the box's first key (``markettina secrets rotate``);
    afterwards the older keys can be removed. ``session`` belongs to the owner: it sees every
    account. Rows are locked batch by batch, so a concurrent refresh waits for its row."""
    return await reencrypt_columns(
        session, TOKEN_COLUMNS, box=box, batch_size=batch_size, on_batch=on_batch
    )


@dataclass
class HealthReport:
    refreshed: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class DueAccount:
    """A social account whose token expires soon (a row of ``social_accounts_due``)."""

    account_id: uuid.UUID
    id: uuid.UUID
    platform: str
    refresh_token_encrypted: str | None
    token_expires_at: dt.datetime


@dataclass(frozen=True)
class _Outcome:
    kind: str  # a HealthReport field
    message: str | None = None
    tokens: TokenSet | None = None
    refresh_token: str | None = field(default=None, repr=False)  # the one sent to the platform


async def due_social_accounts(
    owner: psycopg.AsyncConnection[Any], *, now: dt.datetime, limit: int = CHECK_BATCH
) -> list[DueAccount]:
    """The social accounts, of every tenant, whose tokens expire within REFRESH_AHEAD and
    that are not given up on: the one cross-tenant step, on an owner connection."""
    cursor = await owner.execute(
        "SELECT account_id, id, platform, refresh_token_encrypted, token_expires_at "
        "FROM social_accounts_due(%s, %s, %s)",
        (now, REFRESH_AHEAD, limit),
    )
    return [DueAccount(*row) for row in await cursor.fetchall()]


async def check_social_accounts(
    due: list[DueAccount], *, sessions: async_sessionmaker[AsyncSession], box: SecretBox,
    now: dt.datetime,
) -> HealthReport:  # fmt: skip
    """Refresh the tokens of ``due`` (``due_social_accounts``'s) and record each account's
    health. ``sessions`` are the application role's: each account is recorded in a unit of
    work of its own with that account as the tenant, after its platform was called (no
    transaction stays open meanwhile, and one account's failure never undoes another's
    refresh)."""
    report = HealthReport()
    for item in due:
        outcome = await _refresh(item, box=box, now=now)
        if outcome.kind != "skipped":
            async with unit_of_work(sessions, account_id=item.account_id) as session:
                recorded = await _record_outcome(session, item, outcome, box=box, now=now)
            outcome = outcome if recorded else _Outcome("skipped")
        setattr(report, outcome.kind, getattr(report, outcome.kind) + 1)
    return report


async def _refresh(item: DueAccount, *, box: SecretBox, now: dt.datetime) -> _Outcome:
    oauth = social_ports.platforms.get(item.platform)
    if oauth is None:
        log.warning("social_platform_not_configured", platform=item.platform)
        return _Outcome("skipped")
    if item.refresh_token_encrypted is None:
        if item.token_expires_at > now:
            return _Outcome("skipped")  # nothing to refresh with yet; it will expire
        return _Outcome("expired", "the access token expired and there is no refresh token")
    try:
        refresh_token = box.decrypt(item.refresh_token_encrypted)
    except ValueError as exc:
        return _Outcome("failed", str(exc))
    try:
        tokens = await oauth.refresh(refresh_token)
    except GrantRejected as exc:
        return _Outcome("expired", str(exc), refresh_token=refresh_token)
    except Exception as exc:  # one platform or adapter failing must not stop the sweep
        if not isinstance(exc, PlatformError):
            log.exception("social_refresh_crashed", social_account_id=str(item.id))
        return _Outcome("failed", str(exc) or type(exc).__name__, refresh_token=refresh_token)
    return _Outcome("refreshed", tokens=tokens, refresh_token=refresh_token)


async def _record_outcome(
    session: AsyncSession,
    item: DueAccount,
    outcome: _Outcome,
    *,
    box: SecretBox,
    now: dt.datetime,
) -> bool:
    """Store a refresh and the health it shows; False if the account changed meanwhile
    (disconnected, or connected again: its tokens are then newer than ours)."""
    account = (
        await session.scalars(
            select(SocialAccount)
            .where(
                SocialAccount.account_id == item.account_id,
                SocialAccount.id == item.id,
                SocialAccount.deleted_at.is_(None),
            )
            .with_for_update()
        )
    ).one_or_none()
    if account is None or not _still_holds(account, outcome.refresh_token, box):
        return False
    message = outcome.message[:500] if outcome.message else None
    if outcome.kind == "refreshed":
        assert outcome.tokens is not None
        tokens = outcome.tokens
        account.access_token_encrypted = box.encrypt(tokens.access_token)
        if tokens.refresh_token is not None:
            account.refresh_token_encrypted = box.encrypt(tokens.refresh_token)
        account.token_expires_at = tokens.expires_at
        if tokens.scopes:
            account.token_scope = list(tokens.scopes)
        await record_health(session, account, status="healthy", failures=0, message=None,
                             now=now, next_check=next_check(tokens.expires_at, now))  # fmt: skip
    elif outcome.kind == "failed":
        health = await latest_health(session, account.account_id, account.id)
        failures = (health.consecutive_failures if health else 0) + 1
        status = "unhealthy" if failures >= UNHEALTHY_AFTER_FAILURES else "degraded"
        await record_health(session, account, status=status, failures=failures,
                             message=message, now=now, next_check=now + CHECK_INTERVAL)  # fmt: skip
    else:  # expired: the platform will not refresh it; the account must be connected again
        health = await latest_health(session, account.account_id, account.id)
        failures = health.consecutive_failures if health else 0
        await record_health(session, account, status="expired", failures=failures,
                             message=message, now=now, next_check=None)  # fmt: skip
    log.info("social_account_checked", social_account_id=str(account.id), outcome=outcome.kind)
    return True


def _still_holds(account: SocialAccount, refresh_token: str | None, box: SecretBox) -> bool:
    """Compared in clear: a key rotation meanwhile changes the ciphertext, not the token."""
    if refresh_token is None:
        return True
    try:
        held = _decrypt(box, account.refresh_token_encrypted)
    except ValueError:
        return False
    return held == refresh_token


def _decrypt(box: SecretBox, ciphertext: str | None) -> str | None:
    return box.decrypt(ciphertext) if ciphertext is not None else None
