"""Payment adapters for the billing context's ``PaymentGateway`` port."""

from __future__ import annotations

from markettina.billing.payment_gateway import PaymentGateway
from markettina.settings import Settings


def payment_gateway_from_settings(settings: Settings) -> PaymentGateway | None:
    """Stripe when a key or a webhook secret is configured; otherwise no gateway (checkout
    and webhooks answer 503 ``payments_not_configured``)."""
    if settings.stripe_secret_key is None and settings.stripe_webhook_secret is None:
        return None
    # the Stripe SDK loads only where payments are configured (it is slow to import)
    from .stripe_gateway import StripeGateway

    return StripeGateway(
        api_key=settings.stripe_secret_key.get_secret_value()
        if settings.stripe_secret_key
        else None,
        webhook_secret=(
            settings.stripe_webhook_secret.get_secret_value()
            if settings.stripe_webhook_secret
            else None
        ),
        api_base=settings.stripe_api_base,
    )


__all__ = ["payment_gateway_from_settings"]
