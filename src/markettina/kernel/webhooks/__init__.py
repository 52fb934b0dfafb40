"""Webhooks: endpoints an account registers for its events, signed deliveries with
retries and a log, and the guard that keeps them off private networks."""

from .deliveries import DeliveryDetail, get_delivery, list_deliveries, ping, redeliver
from .endpoints import (
    UrlRules,
    WebhookWithSecret,
    create_webhook,
    delete_webhook,
    get_webhook,
    list_webhooks,
    rotate_secret,
    update_webhook,
)
from .events import WebhookEndpointDisabled

__all__ = [
    "DeliveryDetail", "UrlRules", "WebhookEndpointDisabled", "WebhookWithSecret",
    "create_webhook", "delete_webhook", "get_delivery", "get_webhook", "list_deliveries",
    "list_webhooks", "ping", "redeliver", "rotate_secret", "update_webhook",
]  # fmt: skip
