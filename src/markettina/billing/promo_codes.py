"""Promo codes: whether a code applies to a purchase (and if not, why), what it is worth,
and its redemption, counted against the global and the per-account limits."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import Conflict, NotFound

from .models import PromoCode, PromoRedemption

# why a code does not apply, in the order they are checked
REASONS: dict[str, str] = {
    "unknown": "there is no such promo code",
    "inactive": "this promo code is no longer active",
    "not_yet_valid": "this promo code is not valid yet",
    "expired": "this promo code has expired",
    "exhausted": "this promo code has been used as many times as it may be",
    "already_used_by_account": "this account has already used this promo code",
    "below_minimum": "the purchase is below this promo code's minimum",
    "package_not_applicable": "this promo code does not apply to this package",
    "plan_not_applicable": "this promo code does not apply to this account's plan",
}


@dataclass(frozen=True)
class PromoDecision:
    code: str
    applies: bool
    reason: str | None = None  # one of REASONS when it does not apply
    message: str | None = None
    promo_code_id: uuid.UUID | None = None
    discount_type: str | None = None
    discount_cents: int = 0  # off the amount (percent, fixed_amount)
    bonus_tokens: int = 0  # on top of the package (bonus_tokens)
    amount_cents: int = 0  # the amount asked about
    final_amount_cents: int = 0  # what is left to pay


class PromoCodeRefused(Conflict):
    """A code that no longer applies at redemption (the reason is the stable code)."""

    def __init__(self, decision: PromoDecision) -> None:
        super().__init__(decision.message, code=f"promo_{decision.reason}")
        self.extensions = {"reason": decision.reason}


async def evaluate_promo(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    code: str,
    package_id: uuid.UUID | None,
    amount_cents: int,
    plan: str | None,
    now: dt.datetime | None = None,
) -> PromoDecision:
    """Whether ``code`` applies to a purchase of ``amount_cents`` (of ``package_id``, by an
    account on ``plan``), and its worth; when not, the first reason that refuses it."""
    promo = await _promo_by_code(session, code)
    return await _decide(
        session, promo, code=code, account_id=account_id, package_id=package_id,
        amount_cents=amount_cents, plan=plan, now=now or dt.datetime.now(dt.UTC),
    )  # fmt: skip


async def redeem_promo(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    code: str,
    user_id: int | None,
    transaction_id: uuid.UUID | None,
    discount_amount: int,
    package_id: uuid.UUID | None = None,
    amount_cents: int | None = None,
    plan: str | None = None,
) -> None:
    """Count one use by ``account_id`` (the acting tenant). The code's row is locked first,
    so concurrent redemptions of one code queue and each sees the uses before it: neither
    the global nor the per-account limit can be overrun. Refused with 409 ``promo_<reason>``
    when it no longer applies (``amount_cents`` given: the purchase rules are rechecked)."""
    promo = await _promo_by_code(session, code, lock=True)
    if promo is None:
        raise NotFound(REASONS["unknown"], code="promo_unknown")
    decision = await _decide(
        session, promo, code=code, account_id=account_id, package_id=package_id,
        amount_cents=amount_cents, plan=plan, now=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    if not decision.applies:
        raise PromoCodeRefused(decision)
    redemption = PromoRedemption(
        account_id=account_id,
        promo_code_id=promo.id,
        user_id=user_id,
        transaction_id=transaction_id,
        discount_amount=discount_amount,
    )
    session.add(redemption)
    try:
        await session.flush()
    except DBAPIError as exc:  # the trigger's own max_uses guard (kept as a second line)
        if "current_uses_within_max" in str(exc.orig):
            raise PromoCodeRefused(_refused(code, "exhausted", promo, 0)) from exc
        raise


def discount_of(promo: PromoCode, amount_cents: int) -> tuple[int, int]:
    """(cents off, bonus tokens) the code is worth on ``amount_cents``."""
    if promo.discount_type == "percent":
        return (amount_cents * promo.discount_value + 50) // 100, 0
    if promo.discount_type == "fixed_amount":
        return min(promo.discount_value, amount_cents), 0
    return 0, promo.discount_value


# --- the parts ------------------------------------------------------------------------------


async def _promo_by_code(
    session: AsyncSession, code: str, *, lock: bool = False
) -> PromoCode | None:
    statement = select(PromoCode).where(func.lower(PromoCode.code) == code.strip().lower())
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


async def _uses_by(session: AsyncSession, promo_id: uuid.UUID, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(PromoRedemption)
        .where(PromoRedemption.account_id == account_id, PromoRedemption.promo_code_id == promo_id)
    )
    return count or 0


def _refused(code: str, reason: str, promo: PromoCode | None, amount_cents: int) -> PromoDecision:
    return PromoDecision(
        code=code,
        applies=False,
        reason=reason,
        message=REASONS[reason],
        promo_code_id=promo.id if promo else None,
        discount_type=promo.discount_type if promo else None,
        amount_cents=amount_cents,
        final_amount_cents=amount_cents,
    )


async def _decide(
    session: AsyncSession,
    promo: PromoCode | None,
    *,
    code: str,
    account_id: uuid.UUID,
    package_id: uuid.UUID | None,
    amount_cents: int | None,
    plan: str | None,
    now: dt.datetime,
) -> PromoDecision:
    """``amount_cents`` None: only whether the code can still be used by this account."""
    reason = await _unavailable(session, promo, account_id=account_id, now=now)
    if reason is None and amount_cents is not None:
        assert promo is not None
        reason = _not_for_purchase(promo, package_id=package_id, amount_cents=amount_cents,
                                   plan=plan)  # fmt: skip
    amount = amount_cents or 0
    if reason is not None:
        return _refused(code, reason, promo, amount)
    assert promo is not None
    cents_off, bonus = discount_of(promo, amount)
    return PromoDecision(
        code=promo.code,
        applies=True,
        promo_code_id=promo.id,
        discount_type=promo.discount_type,
        discount_cents=cents_off,
        bonus_tokens=bonus,
        amount_cents=amount,
        final_amount_cents=amount - cents_off,
    )


async def _unavailable(
    session: AsyncSession, promo: PromoCode | None, *, account_id: uuid.UUID, now: dt.datetime
) -> str | None:
    if promo is None:
        return "unknown"
    if not promo.is_active:
        return "inactive"
    if promo.valid_from is not None and now < promo.valid_from:
        return "not_yet_valid"
    if promo.valid_to is not None and now > promo.valid_to:
        return "expired"
    if promo.max_uses is not None and promo.current_uses >= promo.max_uses:
        return "exhausted"
    if promo.max_uses_per_user is not None and (
        await _uses_by(session, promo.id, account_id) >= promo.max_uses_per_user
    ):
        return "already_used_by_account"
    return None


def _not_for_purchase(
    promo: PromoCode, *, package_id: uuid.UUID | None, amount_cents: int, plan: str | None
) -> str | None:
    if promo.min_purchase_cents is not None and amount_cents < promo.min_purchase_cents:
        return "below_minimum"
    if promo.applicable_packages and package_id not in promo.applicable_packages:
        return "package_not_applicable"
    if promo.applicable_plans and plan not in promo.applicable_plans:
        return "plan_not_applicable"
    return None
