"""What a webhook receiver gets: the JSON body and the headers of a delivery."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from markettina import __version__

from ..events import StoredEvent
from .signing import SIGNATURE_HEADER, signature_header

API_VERSION = "v1"
PING_EVENT_TYPE = "webhook.ping"
USER_AGENT = f"Markettina-Webhooks/{__version__}"


def rfc3339(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def event_payload(event: StoredEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "type": event.event_type,
        "version": event.version,
        "created": rfc3339(event.created_at),
        "account_id": str(event.account_id),
        "api_version": API_VERSION,
        "data": event.data,
    }


def ping_payload(
    *, event_id: uuid.UUID, account_id: uuid.UUID, webhook_id: uuid.UUID, at: dt.datetime
) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": PING_EVENT_TYPE,
        "version": 1,
        "created": rfc3339(at),
        "account_id": str(account_id),
        "api_version": API_VERSION,
        "data": {"webhook_id": str(webhook_id)},
    }


def request_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def request_headers(
    *, signing_secrets: tuple[str, ...], body: bytes, timestamp: int, event_id: uuid.UUID,
    event_type: str, delivery_id: uuid.UUID,
) -> dict[str, str]:  # fmt: skip
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(signing_secrets, body, timestamp),
        "Markettina-Event-Id": str(event_id),
        "Markettina-Event-Type": event_type,
        "Markettina-Delivery-Id": str(delivery_id),
    }
