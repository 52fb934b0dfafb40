"""Fan-out: each event becomes one delivery per active endpoint of its account whose
patterns match it. Idempotent on the event id: a second run for the same event finds the
deliveries made and creates none."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..events import StoredEvent, event_matches
from ..models import Webhook, WebhookDelivery
from .payloads import event_payload


def wants(patterns: list[str], event_type: str) -> bool:
    return any(event_matches(pattern, event_type) for pattern in patterns)


async def create_deliveries(session: AsyncSession, event: StoredEvent) -> list[uuid.UUID]:
    """The deliveries this event newly needs (none already made for it)."""
    endpoints = await session.execute(
        select(Webhook.id, Webhook.events).where(
            Webhook.account_id == event.account_id,
            Webhook.is_active,
            Webhook.deleted_at.is_(None),
        )
    )
    targets = [row.id for row in endpoints if wants(row.events, event.event_type)]
    if not targets:
        return []
    return await insert_deliveries(
        session,
        account_id=event.account_id,
        webhook_ids=targets,
        event_id=event.id,
        event_type=event.event_type,
        payload=event_payload(event),
    )


async def insert_deliveries(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_ids: list[uuid.UUID],
    event_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
) -> list[uuid.UUID]:
    """Pending deliveries, due now, one per endpoint that has none for the event yet; each
    endpoint's delivery count grows with the ones made."""
    rows = [
        {
            "account_id": account_id, "webhook_id": webhook_id, "event_id": event_id,
            "event_type": event_type, "payload": payload, "status": "pending",
            "next_retry_at": func.now(),
        }
        for webhook_id in webhook_ids
    ]  # fmt: skip
    created = (
        await session.execute(
            insert(WebhookDelivery)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["account_id", "webhook_id", "event_id"])
            .returning(WebhookDelivery.id, WebhookDelivery.webhook_id)
        )
    ).all()
    if created:
        await session.execute(
            update(Webhook)
            .where(
                Webhook.account_id == account_id,
                Webhook.id.in_([row.webhook_id for row in created]),
            )
            .values(total_deliveries=Webhook.total_deliveries + 1)
        )
    return [row.id for row in created]
