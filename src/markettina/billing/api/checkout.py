"""HTTP routes of buying tokens: a Stripe Checkout for a package, and Stripe's webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from markettina.identity.public import Actor, Transaction, require
from markettina.kernel.web.openapi import problems

from .. import checkout
from ..payment_gateway import InvalidWebhookSignature, bound_payment_gateway
from ..schemas.sales import CheckoutIn, CheckoutOut, WebhookAck
from ..stripe_webhooks import receive_stripe_event

router = APIRouter(prefix="/billing", tags=["billing"])

BillingManage = Annotated[Actor, require("billing:manage")]


@router.post(
    "/checkout",
    response_model=CheckoutOut,
    summary="Start paying for a package (optionally with a promo code): the Stripe Checkout URL",
    responses=problems(503),
)
async def start_checkout(
    body: CheckoutIn, actor: BillingManage, session: Transaction, request: Request
) -> CheckoutOut:
    """422 `promo_code_not_applicable` (with `reason`) when the code does not apply. The
    tokens arrive when Stripe reports the payment (the webhook), not with this answer."""
    settings = request.app.state.settings
    started = await checkout.start_checkout(
        session, gateway=bound_payment_gateway(), account_id=actor.account_id,
        user_id=actor.user_id, package_id=body.package_id, promo_code=body.promo_code,
        urls=checkout.CheckoutUrls(settings.checkout_success_url, settings.checkout_cancel_url),
    )  # fmt: skip
    return CheckoutOut(url=started.url, session_id=started.id)


@router.post(
    "/stripe/webhook",
    response_model=WebhookAck,
    summary="Stripe's events (the Stripe-Signature header is the credential)",
    responses=problems(400, 503),
)
async def stripe_webhook(
    request: Request,
    session: Transaction,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookAck:
    """400 `invalid_signature` unless signed with the endpoint's secret in the last five
    minutes. Every delivery of one event after the first changes nothing."""
    if not stripe_signature:  # refused before anything else, configured or not
        raise InvalidWebhookSignature("the Stripe-Signature header is missing")
    outcome = await receive_stripe_event(
        session, gateway=bound_payment_gateway(), payload=await request.body(),
        signature=stripe_signature, vat_rate=request.app.state.settings.vat_rate,
    )  # fmt: skip
    return WebhookAck(outcome=outcome)
