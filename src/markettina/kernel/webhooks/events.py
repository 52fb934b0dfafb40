"""The events webhooks publish."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from ..events import Event


class WebhookEndpointDisabled(Event):
    """An endpoint failed for a long run and was switched off; PATCH it with
    ``is_active: true`` once the receiver works again."""

    event_type: ClassVar[str] = "webhook.endpoint_disabled"
    aggregate_type: ClassVar[str] = "webhook"

    webhook_id: uuid.UUID
    url: str
    reason: str
    consecutive_failures: int
    failing_since: dt.datetime
