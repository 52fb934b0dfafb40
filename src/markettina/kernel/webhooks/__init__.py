"""Webhooks: endpoints an account registers for its events, signed deliveries with
retries and a log, and the guard that keeps them off private networks."""

from .deliveries import DeliveryDetail, get_delivery, list_deliveries, ping, redeliver
from .endpoints import (
    LISTED_PAGE,
    UrlRules,
    WebhookWithSecret,
    create_webhook,
    delete_webhook,
    get_webhook,
    rotate_secret,
    update_webhook,
)
from .events import WebhookEndpointDisabled

__all__ = [
    "LISTED_PAGE", "DeliveryDetail", "UrlRules", "WebhookEndpointDisabled", "WebhookWithSecret",
    "create_webhook", "delete_webhook", "get_delivery", "get_webhook", "list_deliveries",
    "ping", "redeliver", "rotate_secret", "update_webhook",
]  # fmt: skip
