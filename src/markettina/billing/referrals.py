"""Referrals: each account's code, sign-up with a code (a pending referral), completion on
the referred account's first purchase (both bonuses) and expiry after 30 days.

Bonuses are ordinary ledger entries of each wallet. The referrer's wallet is another
tenant's row, so its entry is written after switching the transaction's tenant to the
referrer and back (as identity does for a sub-account's wallet): the one ledger path, with
row-level security and the trigger applying as for any entry, and no SECURITY DEFINER
function that could credit any wallet.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.events import record

from .errors import InvalidReferralCode
from .events import ReferralCompleted
from .ledger import credit_tokens
from .models import ReferralCode, ReferralProgram, TokenTransaction

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
CODE_LENGTH = 8
REFERRAL_TTL = dt.timedelta(days=30)
REFERRER_BONUS = 100  # tokens to the account whose code was used
REFERRED_BONUS = 50  # tokens to the account that signed up with it

_NEW_CODE = text(
    "INSERT INTO referral_codes (account_id, code) VALUES (:account_id, :code)"
    " ON CONFLICT DO NOTHING"
)
_CODE_OWNER = text("SELECT billing_referral_code_owner(:code)")


@dataclass(frozen=True)
class ReferralOverview:
    code: str
    referrals: list[ReferralProgram]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def referral_code_of(session: AsyncSession, account_id: uuid.UUID) -> str:
    """The account's code (the acting tenant's), made the first time it is asked for."""
    for _ in range(5):  # a new code colliding with another account's is rare; try again
        existing = await session.scalar(
            select(ReferralCode.code).where(ReferralCode.account_id == account_id)
        )
        if existing is not None:
            return existing
        await session.execute(_NEW_CODE, {"account_id": account_id, "code": new_code()})
    raise RuntimeError("no free referral code after five tries")


async def overview(session: AsyncSession, *, account_id: uuid.UUID) -> ReferralOverview:
    code = await referral_code_of(session, account_id)
    referrals = (
        await session.execute(
            select(ReferralProgram)
            .where(ReferralProgram.referrer_account_id == account_id)
            .order_by(ReferralProgram.created_at.desc(), ReferralProgram.id.desc())
            .limit(200)
        )
    ).scalars()
    return ReferralOverview(code=code, referrals=list(referrals))


async def register_referral(
    session: AsyncSession,
    *,
    code: str,
    referred_account_id: uuid.UUID,
    referred_user_id: int | None,
) -> None:
    """A pending referral of the new account by the code's owner, expiring in 30 days.
    An unknown code, or the account's own, is refused (422 naming ``referral_code``)."""
    referrer = await session.scalar(_CODE_OWNER, {"code": code})
    if referrer is None:
        raise InvalidReferralCode("there is no such referral code")
    if referrer == referred_account_id:
        raise InvalidReferralCode("an account cannot refer itself")
    already = await session.scalar(
        select(ReferralProgram.id).where(ReferralProgram.referred_account_id == referred_account_id)
    )
    if already is not None:
        raise InvalidReferralCode("this account has already been referred")
    session.add(
        ReferralProgram(
            referrer_account_id=referrer,
            referral_code=code.strip().upper(),
            referred_account_id=referred_account_id,
            referred_user_id=referred_user_id,
            referrer_bonus_tokens=REFERRER_BONUS,
            referred_bonus_tokens=REFERRED_BONUS,
            expires_at=_now() + REFERRAL_TTL,
        )
    )
    await session.flush()


async def complete_referral_on_first_purchase(
    session: AsyncSession, *, referred_account_id: uuid.UUID
) -> bool:
    """In the transaction of the referred account's purchase: a pending, unexpired referral
    of it is completed and both bonuses credited, if this is its first purchase. True when
    it completed now; False otherwise (none, expired, done already, not the first)."""
    referral = (
        await session.execute(
            select(ReferralProgram)
            .where(
                ReferralProgram.referred_account_id == referred_account_id,
                ReferralProgram.status == "pending",
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if referral is None:
        return False
    now = _now()
    if referral.expires_at <= now:
        referral.status = "expired"
        await session.flush()
        return False
    async with tenant_scope(session, referred_account_id):
        purchases = await session.scalar(
            select(func.count())
            .select_from(TokenTransaction)
            .where(
                TokenTransaction.account_id == referred_account_id,
                TokenTransaction.type == "purchase",
            )
        )
        if (purchases or 0) > 1:
            return False
        await _bonus(session, referral, referred_account_id, referral.referred_bonus_tokens,
                     "referred")  # fmt: skip
    async with tenant_scope(session, referral.referrer_account_id):
        await _bonus(session, referral, referral.referrer_account_id,
                     referral.referrer_bonus_tokens, "referrer")  # fmt: skip
    referral.status = "completed"
    referral.completed_at = now
    await session.flush()
    async with tenant_scope(session, referred_account_id):
        await record(
            session,
            ReferralCompleted(
                referral_id=referral.id,
                referrer_account_id=referral.referrer_account_id,
                referred_account_id=referred_account_id,
                referrer_bonus_tokens=referral.referrer_bonus_tokens,
                referred_bonus_tokens=referral.referred_bonus_tokens,
            ),
            account_id=referred_account_id,
            aggregate_id=referral.id,
        )
    return True


async def expire_referrals(session: AsyncSession, *, now: dt.datetime | None = None) -> int:
    """Pending referrals past their 30 days become expired; returns how many."""
    result = await session.execute(
        update(ReferralProgram)
        .where(ReferralProgram.status == "pending", ReferralProgram.expires_at <= (now or _now()))
        .values(status="expired")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _bonus(
    session: AsyncSession, referral: ReferralProgram, account_id: uuid.UUID, tokens: int,
    side: str,
) -> None:  # fmt: skip
    if tokens <= 0:
        return
    await credit_tokens(
        session,
        account_id=account_id,
        kind="bonus",
        amount=tokens,
        reference_type="referral",
        reference_id=str(referral.id),
        description=f"Referral bonus ({side})",
        idempotency_key=f"referral:{referral.id}:{side}",
    )
