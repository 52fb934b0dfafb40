"""Starting a purchase: a Stripe Checkout session for one package, optionally with a promo
code (refused with its reason before Stripe is asked). Nothing is written here: the
payment, the tokens and the invoice come with Stripe's ``checkout.session.completed``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import FieldError, ValidationFailed

from .accounts import plan_of
from .packages import active_package
from .payment_gateway import CheckoutLine, CheckoutRequest, CheckoutSession, PaymentGateway
from .promo_codes import PromoDecision, evaluate_promo


@dataclass(frozen=True)
class CheckoutUrls:
    success: str
    cancel: str


# Stripe's smallest charge per currency, in its smallest unit (the default for the rest)
MINIMUM_CHARGE = {"eur": 50, "usd": 50, "chf": 50, "gbp": 30, "jpy": 50}
DEFAULT_MINIMUM_CHARGE = 50


class AmountBelowMinimum(ValidationFailed):
    """A discount that leaves less to pay than a card can be charged: refused before
    Stripe is asked (which would refuse the session)."""

    code = "amount_below_minimum"

    def __init__(self, *, amount_cents: int, minimum_cents: int, currency: str) -> None:
        message = (
            f"with this code {amount_cents} {currency.upper()} cents would be left to pay; "
            f"a card payment is at least {minimum_cents}"
        )
        super().__init__(
            message, errors=[FieldError("body.promo_code", message, "amount_below_minimum")]
        )
        self.extensions = {"amount_cents": amount_cents, "minimum_cents": minimum_cents}


class PromoCodeNotApplicable(ValidationFailed):
    code = "promo_code_not_applicable"

    def __init__(self, decision: PromoDecision) -> None:
        message = decision.message or "this promo code does not apply"
        super().__init__(
            message, errors=[FieldError("body.promo_code", message, f"promo_{decision.reason}")]
        )
        self.extensions = {"reason": decision.reason}


async def start_checkout(
    session: AsyncSession,
    *,
    gateway: PaymentGateway,
    account_id: uuid.UUID,
    user_id: int | None,
    package_id: uuid.UUID,
    promo_code: str | None,
    urls: CheckoutUrls,
    customer_email: str | None = None,
) -> CheckoutSession:
    """Stripe charges the package's own Stripe price, or (with a discount, or without a
    Stripe price) the amount to pay as inline price data; the session's metadata carries
    the account, the package, the buyer and the code back to the webhook."""
    package = await active_package(session, package_id)
    decision = None
    if promo_code:
        decision = await evaluate_promo(
            session, account_id=account_id, code=promo_code, package_id=package.id,
            amount_cents=package.price_cents, plan=await plan_of(session, account_id),
        )  # fmt: skip
        if not decision.applies:
            raise PromoCodeNotApplicable(decision)
    discount = decision.discount_cents if decision else 0
    to_pay = package.price_cents - discount
    minimum = MINIMUM_CHARGE.get(package.currency.lower(), DEFAULT_MINIMUM_CHARGE)
    if discount and to_pay < minimum:
        raise AmountBelowMinimum(
            amount_cents=to_pay, minimum_cents=minimum, currency=package.currency
        )
    if discount == 0 and package.stripe_price_id:
        line = CheckoutLine(quantity=1, price_id=package.stripe_price_id)
    else:
        line = CheckoutLine(
            quantity=1, unit_amount_cents=to_pay,
            currency=package.currency, name=f"{package.name} ({package.tokens} tokens)",
        )  # fmt: skip
    metadata = {"account_id": str(account_id), "package_id": str(package.id)}
    if user_id is not None:
        metadata["user_id"] = str(user_id)
    if decision is not None:
        metadata["promo_code"] = decision.code
    return await gateway.create_checkout_session(
        CheckoutRequest(
            line=line,
            success_url=urls.success,
            cancel_url=urls.cancel,
            client_reference_id=str(account_id),
            metadata=metadata,
            customer_email=customer_email,
            idempotency_key=f"checkout:{uuid.uuid4()}",
        )
    )
