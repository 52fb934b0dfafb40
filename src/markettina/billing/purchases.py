"""A paid Stripe checkout becomes, in one transaction: the payment, the purchase entry
(plus the package's and a promo's bonus entries), the promo redemption, the referral
completed on a first purchase, and the invoice (numbered last, see invoice_numbers)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.errors import MarkettinaError
from markettina.kernel.events import record
from markettina.kernel.logs import get_logger

from .accounts import account_exists, plan_of
from .invoices import Buyer, issue_purchase_invoice
from .ledger import credit_tokens
from .models import Payment, TokenPackage
from .payment_events import PaymentCompleted
from .promo_codes import evaluate_promo, redeem_promo
from .referrals import complete_referral_on_first_purchase

log = get_logger(__name__)

PAID = ("paid", "no_payment_required")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def complete_checkout(
    session: AsyncSession, *, checkout: dict[str, Any], vat_rate: Decimal
) -> Payment | None:
    """Record a paid checkout once (by its session id); None when there is nothing to do:
    not paid yet (an async method: its ``async_payment_succeeded`` comes later), done
    already, or not one of ours."""
    metadata = checkout.get("metadata") or {}
    account_id = _uuid(metadata.get("account_id"))
    package_id = _uuid(metadata.get("package_id"))
    if account_id is None or package_id is None or checkout.get("payment_status") not in PAID:
        return None
    if not await account_exists(session, account_id):
        log.warning("stripe_checkout_for_unknown_account", account_id=str(account_id))
        return None
    async with tenant_scope(session, account_id):
        return await _complete(
            session, account_id=account_id, package_id=package_id, checkout=checkout,
            metadata=metadata, vat_rate=vat_rate,
        )  # fmt: skip


async def _complete(
    session: AsyncSession, *, account_id: uuid.UUID, package_id: uuid.UUID,
    checkout: dict[str, Any], metadata: dict[str, Any], vat_rate: Decimal,
) -> Payment | None:  # fmt: skip
    """The checkout's payment and all that comes with it, as the buyer's account."""
    session_id = str(checkout["id"])
    done = await session.scalar(
        select(Payment.id).where(
            Payment.account_id == account_id, Payment.stripe_checkout_session_id == session_id
        )
    )
    package = await session.get(TokenPackage, package_id)
    if done is not None or package is None:
        return None

    user_id = int(metadata["user_id"]) if str(metadata.get("user_id", "")).isdigit() else None
    code = metadata.get("promo_code") or None
    payment = Payment(
        account_id=account_id, user_id=user_id,
        stripe_payment_intent_id=checkout.get("payment_intent"),
        stripe_checkout_session_id=session_id, amount_cents=int(checkout["amount_total"]),
        currency=str(checkout.get("currency") or package.currency).upper(), status="succeeded",
        token_package_id=package.id, tokens_purchased=package.tokens, promo_code=code,
    )  # fmt: skip
    session.add(payment)
    await session.flush()

    key = f"stripe:{session_id}"
    reference = {"reference_type": "payment", "reference_id": str(payment.id)}
    purchase = await credit_tokens(
        session, account_id=account_id, kind="purchase", amount=package.tokens,
        description=f"Purchase of {package.name}", idempotency_key=f"{key}:purchase", **reference,
    )  # fmt: skip
    bonus = package.bonus_tokens
    if bonus:
        await credit_tokens(
            session, account_id=account_id, kind="bonus", amount=bonus,
            description=f"Bonus of {package.name}", idempotency_key=f"{key}:package_bonus",
            **reference,
        )  # fmt: skip
    if code:
        promo_bonus = await _redeem(
            session, account_id=account_id, code=code, user_id=user_id, package=package,
            purchase_id=purchase, list_price=package.price_cents, paid=payment.amount_cents,
        )  # fmt: skip
        if promo_bonus:
            await credit_tokens(
                session, account_id=account_id, kind="bonus", amount=promo_bonus,
                description=f"Promo code {code}", idempotency_key=f"{key}:promo_bonus",
                **reference,
            )  # fmt: skip
            bonus += promo_bonus
    payment.bonus_tokens = bonus
    await complete_referral_on_first_purchase(session, referred_account_id=account_id)

    details = checkout.get("customer_details") or {}
    invoice = await issue_purchase_invoice(
        session, account_id=account_id,
        description=f"{package.name}: {package.tokens} tokens"
        + (f" + {package.bonus_tokens} bonus" if package.bonus_tokens else ""),
        list_price_cents=package.price_cents, paid_cents=payment.amount_cents,
        currency=payment.currency, vat_rate=vat_rate,
        discount_label=f"Promo code {code}" if code else None,
        paid_at=dt.datetime.now(dt.UTC), payment_intent_id=payment.stripe_payment_intent_id,
        resource_id=str(payment.id), buyer=Buyer(details.get("name"), details.get("email")),
    )  # fmt: skip
    await session.flush()
    await record(
        session,
        PaymentCompleted(
            payment_id=payment.id, amount_cents=payment.amount_cents, currency=payment.currency,
            token_package_id=package.id, tokens=package.tokens, bonus_tokens=bonus,
            promo_code=code, invoice_id=invoice.id, invoice_number=invoice.invoice_number,
        ),
        account_id=account_id,
        aggregate_id=payment.id,
    )  # fmt: skip
    return payment


async def _redeem(
    session: AsyncSession, *, account_id: uuid.UUID, code: str, user_id: int | None,
    package: TokenPackage, purchase_id: uuid.UUID, list_price: int, paid: int,
) -> int:  # fmt: skip
    """Count the code's use; its bonus tokens if it has any. The buyer has paid already: a
    code that stopped applying meanwhile (used up by a concurrent buyer) is not counted
    and gives no bonus, and the purchase goes on at the price paid."""
    plan = await plan_of(session, account_id)
    decision = await evaluate_promo(
        session, account_id=account_id, code=code, package_id=package.id,
        amount_cents=list_price, plan=plan,
    )  # fmt: skip
    if not decision.applies:
        log.warning("promo_code_lapsed_before_payment", code=code, reason=decision.reason)
        return 0
    try:
        async with session.begin_nested():
            await redeem_promo(
                session, account_id=account_id, code=code, user_id=user_id,
                transaction_id=purchase_id,
                discount_amount=decision.bonus_tokens or max(list_price - paid, 0),
                package_id=package.id, amount_cents=list_price, plan=plan,
            )  # fmt: skip
    except MarkettinaError as refused:
        log.warning("promo_code_lapsed_before_payment", code=code, reason=refused.code)
        return 0
    return decision.bonus_tokens
