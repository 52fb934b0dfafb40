"""The ``PaymentGateway`` port spoken to Stripe through the official SDK (asynchronously,
over httpx). Tests point ``api_base`` at a local fake that speaks Stripe's wire format."""

from __future__ import annotations

import json
from typing import Any

import stripe

from markettina.billing.payment_gateway import (
    CheckoutRequest,
    CheckoutSession,
    GatewayEvent,
    InvalidWebhookSignature,
)
from markettina.kernel.errors import ServiceUnavailable

# Stripe's own default: a signature older than five minutes is refused (replay window)
SIGNATURE_TOLERANCE_SECONDS = 300


class StripeGateway:
    def __init__(
        self,
        *,
        api_key: str | None,
        webhook_secret: str | None,
        api_base: str = "https://api.stripe.com",
        timeout_seconds: float = 30,
    ) -> None:
        self._webhook_secret = webhook_secret
        self._client = (
            stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base.rstrip("/")},
                http_client=stripe.HTTPXClient(timeout=timeout_seconds),
                max_network_retries=2,  # safe: every create carries an idempotency key
            )
            if api_key
            else None
        )

    def _api(self) -> stripe.StripeClient:
        if self._client is None:
            raise ServiceUnavailable(
                "the Stripe API key is not configured", code="payments_not_configured"
            )
        return self._client

    async def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        line = request.line
        item: dict[str, Any] = {"quantity": line.quantity}
        if line.price_id is not None:
            item["price"] = line.price_id
        else:
            item["price_data"] = {
                "currency": (line.currency or "EUR").lower(),
                "unit_amount": line.unit_amount_cents,
                "product_data": {"name": line.name or "Tokens"},
            }
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [item],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.client_reference_id,
            "metadata": request.metadata,
            "payment_intent_data": {"metadata": request.metadata},
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        options: dict[str, Any] = {}
        if request.idempotency_key:
            options["idempotency_key"] = request.idempotency_key
        try:
            session = await self._api().v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                options,  # type: ignore[arg-type]
            )
        except stripe.StripeError as exc:
            raise ServiceUnavailable(
                f"Stripe refused to open a checkout: {exc.user_message or exc}",
                code="payment_provider_error",
            ) from exc
        return CheckoutSession(id=str(session.id), url=str(session.url))

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        try:
            session = await self._api().v1.checkout.sessions.retrieve_async(session_id)
        except stripe.StripeError as exc:
            raise ServiceUnavailable(
                f"Stripe could not be asked about the checkout: {exc}",
                code="payment_provider_error",
            ) from exc
        return session.to_dict()

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        if self._webhook_secret is None:
            raise ServiceUnavailable(
                "the Stripe webhook secret is not configured", code="payments_not_configured"
            )
        try:
            stripe.Webhook.construct_event(
                payload, signature, self._webhook_secret, tolerance=SIGNATURE_TOLERANCE_SECONDS
            )
            body = json.loads(payload)
            event = GatewayEvent(
                id=str(body["id"]),
                type=str(body["type"]),
                object=dict(body["data"]["object"]),
                payload=body,
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhookSignature(
                "the Stripe-Signature header does not sign this payload (or is too old)"
            ) from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhookSignature("the signed payload is not a Stripe event") from exc
        return event
