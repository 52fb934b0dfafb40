"""The delivery log of an endpoint, and the deliveries a person asks for: a redelivery
of one event, and a ping."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.keyset import newest_first
from ..errors import Conflict, NotFound
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from ..pagination import Page, page_of
from .endpoints import get_webhook
from .fanout import insert_deliveries
from .payloads import PING_EVENT_TYPE, ping_payload
from .tasks import queue_attempt

LISTED = (
    WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.event_id,
    WebhookDelivery.event_type, WebhookDelivery.status, WebhookDelivery.attempts,
    WebhookDelivery.response_code, WebhookDelivery.response_time_ms,
    WebhookDelivery.last_error, WebhookDelivery.next_retry_at, WebhookDelivery.created_at,
    WebhookDelivery.sent_at,
)  # fmt: skip


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


async def list_deliveries(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Any]:  # rows of LISTED
    await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    query = select(*LISTED).where(
        WebhookDelivery.account_id == account_id, WebhookDelivery.webhook_id == webhook_id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = newest_first(
        query, at=WebhookDelivery.created_at, id_=WebhookDelivery.id, limit=limit, cursor=cursor
    )
    rows = list((await session.execute(query)).all())
    return page_of(rows, limit, lambda row: (row.created_at.isoformat(), row.id))


async def get_delivery(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryDetail:
    await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    delivery = await _delivery(session, account_id, webhook_id, delivery_id)
    attempts = (
        await session.execute(
            select(WebhookAttempt)
            .where(
                WebhookAttempt.account_id == account_id,
                WebhookAttempt.delivery_id == delivery_id,
            )
            .order_by(WebhookAttempt.number)
        )
    ).scalars()
    return DeliveryDetail(delivery=delivery, attempts=list(attempts))


async def redeliver(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryDetail:
    """A new attempt now, whatever became of the earlier ones (an abandoned delivery too);
    if it fails, retries follow only while the endpoint's retry count allows."""
    webhook = await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    _refuse_if_inactive(webhook)
    delivery = await _delivery(session, account_id, webhook_id, delivery_id, lock=True)
    if delivery.status == "delivering":
        raise Conflict("an attempt of this delivery is in flight", code="delivery_in_flight")
    # the counters count deliveries by their final state: this one is open again
    counter = {"succeeded": "successful_deliveries", "abandoned": "failed_deliveries"}
    if delivery.status in counter:
        column = getattr(Webhook, counter[delivery.status])
        await session.execute(
            update(Webhook)
            .where(Webhook.account_id == account_id, Webhook.id == webhook_id)
            .values({column: column - 1})
        )
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.account_id == account_id, WebhookDelivery.id == delivery_id)
        .values(status="pending", next_retry_at=func.now())
        .execution_options(synchronize_session=False)
    )
    await queue_attempt(session, account_id, delivery_id)
    return await get_delivery(
        session, account_id=account_id, webhook_id=webhook_id, delivery_id=delivery_id
    )


async def ping(
    session: AsyncSession, *, account_id: uuid.UUID, webhook_id: uuid.UUID
) -> DeliveryDetail:
    """A ``webhook.ping`` delivered to this endpoint only (it is not a domain event)."""
    webhook = await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    _refuse_if_inactive(webhook)
    event_id = uuid.uuid4()
    payload = ping_payload(
        event_id=event_id, account_id=account_id, webhook_id=webhook_id,
        at=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    (delivery_id,) = await insert_deliveries(
        session, account_id=account_id, webhook_ids=[webhook_id], event_id=event_id,
        event_type=PING_EVENT_TYPE, payload=payload,
    )  # fmt: skip
    await queue_attempt(session, account_id, delivery_id)
    return await get_delivery(
        session, account_id=account_id, webhook_id=webhook_id, delivery_id=delivery_id
    )


def _refuse_if_inactive(webhook: Webhook) -> None:
    if not webhook.is_active:
        raise Conflict(
            "the webhook is disabled; enable it (PATCH is_active: true) first",
            code="webhook_disabled",
        )


async def _delivery(
    session: AsyncSession,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    lock: bool = False,
) -> WebhookDelivery:
    query = (
        select(WebhookDelivery)
        .where(
            WebhookDelivery.account_id == account_id,
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.id == delivery_id,
        )
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    delivery = (await session.execute(query)).scalar_one_or_none()
    if delivery is None:
        raise NotFound("no such delivery", code="delivery_not_found")
    return delivery
