"""The payment port: what billing asks of a payment provider (Stripe), and the one gateway
the entry point binds at start. The adapter lives in ``markettina.adapters.payments``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from markettina.kernel.errors import MarkettinaError, ServiceUnavailable


@dataclass(frozen=True)
class CheckoutLine:
    """One line of a checkout: a provider price id, or an amount and a name."""

    quantity: int
    price_id: str | None = None
    unit_amount_cents: int | None = None
    currency: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class CheckoutRequest:
    line: CheckoutLine
    success_url: str
    cancel_url: str
    client_reference_id: str
    metadata: dict[str, str] = field(default_factory=dict)
    customer_email: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


@dataclass(frozen=True)
class GatewayEvent:
    """A verified provider event: its id, its type and the object it is about."""

    id: str
    type: str
    object: dict[str, Any]
    payload: dict[str, Any]


class InvalidWebhookSignature(MarkettinaError):
    status, code, title = 400, "invalid_signature", "Invalid webhook signature"


class PaymentGateway(Protocol):
    async def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]: ...

    def verify_event(self, payload: bytes, signature: str) -> GatewayEvent:
        """The event if ``signature`` signs ``payload`` (recently); else InvalidWebhookSignature."""
        ...


_bound: PaymentGateway | None = None


def bind_payment_gateway(gateway: PaymentGateway | None) -> None:
    """Called once by the entry point (app.py), at start; None when payments are unset."""
    global _bound
    _bound = gateway


def bound_payment_gateway() -> PaymentGateway:
    if _bound is None:
        raise ServiceUnavailable(
            "payments are not configured on this server", code="payments_not_configured"
        )
    return _bound
