"""Background work of webhooks: the fan-out handler the relay runs, the delivery job, and
the sweep that queues again the deliveries no worker is on (a worker died mid-attempt)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from functools import lru_cache

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.settings import Settings, get_settings

from ..db.job_database import job_database
from ..events import StoredEvent, event_handler
from ..jobs import defer_in_transaction, job_queue, maintenance_connection
from ..logs import get_logger
from ..secrets_store import resolve_secrets
from ..security import SecretBox
from .delivery import DeliveryPolicy, attempt_delivery
from .fanout import create_deliveries
from .sender import WebhookSender

log = get_logger(__name__)

QUEUE = "webhooks"
LOST_JOB_GRACE = dt.timedelta(minutes=10)  # due this long with no attempt: its job is gone
SWEEP_BATCH = 500


@job_queue.task(name="kernel.deliver_webhook", queue=QUEUE)
async def deliver_webhook(account_id: str, delivery_id: str) -> str | None:
    """One attempt of one delivery, if it is due."""
    settings = get_settings()
    status = await attempt_delivery(
        job_database().sessions,
        account_id=uuid.UUID(account_id),
        delivery_id=uuid.UUID(delivery_id),
        sender=_sender(settings),
        box=_box(settings),
        policy=DeliveryPolicy.from_settings(settings),
        requeue=queue_attempt,
    )
    if status is not None:
        log.info("webhook_attempted", delivery_id=delivery_id, status=status)
    return status


async def queue_attempt(
    session: AsyncSession,
    account_id: uuid.UUID,
    delivery_id: uuid.UUID,
    at: dt.datetime | None = None,
) -> None:
    """An attempt of the delivery at ``at`` (now by default), if the transaction commits."""
    await defer_in_transaction(
        session,
        deliver_webhook,
        options={"schedule_at": at} if at is not None else None,
        account_id=str(account_id),
        delivery_id=str(delivery_id),
    )


@event_handler("webhook_fanout", "*")
async def fan_out(session: AsyncSession, event: StoredEvent) -> None:
    for delivery_id in await create_deliveries(session, event):
        await queue_attempt(session, event.account_id, delivery_id)


@job_queue.periodic(
    cron=f"* * * * * */{get_settings().webhooks_sweep_seconds}",
    periodic_id="sweep-webhook-deliveries",
)
@job_queue.task(
    name="kernel.sweep_webhook_deliveries", queue="maintenance", queueing_lock="webhook-sweep"
)
async def sweep_webhook_deliveries(timestamp: int) -> int:
    """Queue an attempt of every delivery whose lease ran out or whose job was lost; at
    most one such job waits per delivery (its queueing lock)."""
    async with await maintenance_connection() as conn:
        cursor = await conn.execute(
            "SELECT account_id, id FROM webhook_deliveries_overdue(%s, %s)",
            (LOST_JOB_GRACE, SWEEP_BATCH),
        )
        overdue = await cursor.fetchall()
    queued = 0
    for account_id, delivery_id in overdue:
        deferrer = deliver_webhook.configure(queueing_lock=f"webhook-sweep-{delivery_id}")
        with contextlib.suppress(AlreadyEnqueued):
            await deferrer.defer_async(account_id=str(account_id), delivery_id=str(delivery_id))
            queued += 1
    if queued:
        log.warning("webhook_deliveries_requeued", count=queued)
    return queued


_senders: dict[tuple[int, float, bool], WebhookSender] = {}


def _sender(settings: Settings) -> WebhookSender:
    """One connection pool per event loop and configuration (connections are reused)."""
    key = (id(asyncio.get_running_loop()), settings.webhooks_timeout_seconds,
           settings.webhooks_allow_loopback)  # fmt: skip
    sender = _senders.get(key)
    if sender is None:
        sender = _senders[key] = WebhookSender(
            timeout_seconds=settings.webhooks_timeout_seconds,
            allow_loopback=settings.webhooks_allow_loopback,
        )
    return sender


def _box(settings: Settings) -> SecretBox:
    return _box_for(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        tuple(k.get_secret_value() for k in settings.encryption_keys),
        str(settings.data_dir),
        settings.environment == "production",
    )


@lru_cache(maxsize=4)
def _box_for(
    secret_key: str | None, keys: tuple[str, ...], data_dir: str, production: bool
) -> SecretBox:
    """The keys the API encrypts with (the configured ones, or the development ones)."""
    from pathlib import Path

    return resolve_secrets(
        secret_key=secret_key, encryption_keys=list(keys), data_dir=Path(data_dir),
        production=production,
    ).box  # fmt: skip


@job_queue.periodic(cron="47 2 * * *", periodic_id="forget-expired-webhook-secrets")
@job_queue.task(
    name="kernel.forget_expired_webhook_secrets", queue="maintenance",
    queueing_lock="webhook-secrets",
)  # fmt: skip
async def forget_expired_webhook_secrets(timestamp: int) -> int:
    """Drop the secrets that rotations replaced once their grace period is over; how many."""
    async with await maintenance_connection() as conn:
        row = await (await conn.execute("SELECT forget_expired_webhook_secrets()")).fetchone()
        return int(row[0]) if row else 0
