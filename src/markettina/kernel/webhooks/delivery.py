"""One attempt of a delivery, in three steps with no transaction open during the POST:

1. claim (a short transaction): the delivery, if due, goes to 'delivering' with a lease
   (``next_retry_at`` = now + the time budget + a margin) and the attempt is logged;
2. the POST, signed, to a vetted address;
3. record (a short transaction): the outcome, then success, the next attempt after an
   exponential backoff, or abandonment once the endpoint's retries are spent; the
   endpoint's counters and failure run follow, and a long run disables it.

Claim and record are one statement each when the attempt goes as usual (with the tenant
set in the same round trip, ``attempt_statements``); the rarer turns (a lease run out, an
endpoint gone, a retry to queue, an endpoint to disable) take the ORM path after it.

A worker that dies between 1 and 3 leaves the delivery 'delivering'; once its lease runs
out it is due again (the sweep queues it), and the next claim logs the lost attempt as
'interrupted'. A claim that finds the delivery not due (done, or another worker on it)
does nothing, so a duplicate job is harmless.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from markettina.settings import Settings

from ..db.tenant import enter_tenant
from ..events import record
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from ..security import SecretBox
from .attempt_statements import CLAIM, RECORD
from .events import WebhookEndpointDisabled
from .payloads import request_body, request_headers
from .sender import SendResult, WebhookSender

LEASE_MARGIN_SECONDS = 5.0  # past the time budget: claim and record are short transactions
ERROR_MAX_CHARS = 2000

# queues an attempt of (account_id, delivery_id) at a time, on the session's transaction
Requeue = Callable[[AsyncSession, uuid.UUID, uuid.UUID, dt.datetime], Awaitable[None]]


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_seconds: float = 10.0
    max_retry_delay_seconds: float = 3600.0
    disable_after_failures: int = 20
    disable_after_hours: float = 24.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            timeout_seconds=settings.webhooks_timeout_seconds,
            max_retry_delay_seconds=settings.webhooks_max_retry_delay_seconds,
            disable_after_failures=settings.webhooks_disable_after_failures,
            disable_after_hours=settings.webhooks_disable_after_hours,
        )

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.timeout_seconds + LEASE_MARGIN_SECONDS)


def retry_delay(failed_attempts: int, *, base_seconds: float, cap_seconds: float) -> float:
    """Seconds before the next attempt after ``failed_attempts`` failures: base, 2x, 4x, …"""
    return min(base_seconds * 2.0 ** min(failed_attempts - 1, 32), cap_seconds)


@dataclass(frozen=True)
class Claim:
    account_id: uuid.UUID
    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    number: int  # this attempt's number (1 for the first)
    url: str
    signing_secrets: tuple[str, ...]  # the current one, then one in its grace period
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    retry_count: int
    retry_delay_seconds: int


async def attempt_delivery(
    sessions: async_sessionmaker[AsyncSession],
    *,
    account_id: uuid.UUID,
    delivery_id: uuid.UUID,
    sender: WebhookSender,
    box: SecretBox,
    policy: DeliveryPolicy,
    requeue: Requeue,
) -> str | None:
    """Make one attempt if the delivery is due; its status afterwards (None: not due).
    Each step is a transaction whose first statement sets the tenant (``enter_tenant``)."""
    async with sessions() as session, session.begin():
        claim = await claim_attempt(
            session, account_id=account_id, delivery_id=delivery_id, box=box, policy=policy
        )
    if claim is None:
        return None
    body = request_body(claim.payload)
    headers = request_headers(
        signing_secrets=claim.signing_secrets, body=body, timestamp=int(time.time()),
        event_id=claim.event_id, event_type=claim.event_type, delivery_id=claim.delivery_id,
    )  # fmt: skip
    result = await sender.post(claim.url, body, headers)
    async with sessions() as session, session.begin():
        return await record_outcome(session, claim, result, policy=policy, requeue=requeue)


async def claim_attempt(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    delivery_id: uuid.UUID,
    box: SecretBox,
    policy: DeliveryPolicy,
) -> Claim | None:
    claimed = await enter_tenant(
        session, account_id, CLAIM, account_id=account_id, delivery_id=delivery_id,
        lease=policy.lease,
    )  # fmt: skip
    if claimed:
        (row,) = claimed
        return _claim(account_id, delivery_id, row, box=box, previous=row.previous_secret_encrypted)
    return await _claim_otherwise(
        session, account_id=account_id, delivery_id=delivery_id, box=box, policy=policy
    )


async def _claim_otherwise(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    delivery_id: uuid.UUID,
    box: SecretBox,
    policy: DeliveryPolicy,
) -> Claim | None:
    """The claim when the one-statement path found nothing to claim: not due or done
    (nothing), a lease run out (the lost attempt logged as interrupted, then claimed), an
    endpoint disabled or deleted (abandoned)."""
    row = (
        await session.execute(
            select(
                WebhookDelivery.status,
                WebhookDelivery.attempts,
                WebhookDelivery.event_id,
                WebhookDelivery.event_type,
                WebhookDelivery.payload,
                WebhookDelivery.webhook_id,
                (WebhookDelivery.next_retry_at <= func.now()).label("due"),
                Webhook.url,
                Webhook.secret_encrypted,
                Webhook.previous_secret_encrypted,
                (Webhook.previous_secret_expires_at > func.now()).label("previous_valid"),
                Webhook.is_active,
                Webhook.deleted_at,
                Webhook.retry_count,
                Webhook.retry_delay_seconds,
            )
            .join(
                Webhook,
                (Webhook.account_id == WebhookDelivery.account_id)
                & (Webhook.id == WebhookDelivery.webhook_id),
            )
            .where(WebhookDelivery.account_id == account_id, WebhookDelivery.id == delivery_id)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    ).one_or_none()
    if row is None or row.status not in ("pending", "failed", "delivering") or not row.due:
        return None
    if row.status == "delivering":  # the worker of the last attempt died: say so
        await _interrupt_open_attempts(session, account_id, delivery_id)
    if not row.is_active or row.deleted_at is not None or row.secret_encrypted is None:
        reason = "the endpoint was deleted" if row.deleted_at else "the endpoint is disabled"
        await _abandon_unsent(session, account_id, delivery_id, row.webhook_id, reason)
        return None
    number = row.attempts + 1
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.account_id == account_id, WebhookDelivery.id == delivery_id)
        .values(status="delivering", attempts=number, next_retry_at=func.now() + policy.lease)
    )
    session.add(WebhookAttempt(account_id=account_id, delivery_id=delivery_id, number=number))
    await session.flush()
    previous = row.previous_secret_encrypted if row.previous_valid else None
    return _claim(account_id, delivery_id, row, number=number, box=box, previous=previous)


def _claim(
    account_id: uuid.UUID, delivery_id: uuid.UUID, row: Any, *, box: SecretBox,
    previous: str | None, number: int | None = None,
) -> Claim:  # fmt: skip
    signing_secrets = [box.decrypt(row.secret_encrypted)]
    if previous is not None:
        signing_secrets.append(box.decrypt(previous))
    return Claim(
        account_id=account_id, delivery_id=delivery_id, webhook_id=row.webhook_id,
        number=number if number is not None else row.number, url=row.url,
        signing_secrets=tuple(signing_secrets), event_id=row.event_id or delivery_id,
        event_type=row.event_type, payload=row.payload, retry_count=row.retry_count,
        retry_delay_seconds=row.retry_delay_seconds,
    )  # fmt: skip


async def record_outcome(
    session: AsyncSession,
    claim: Claim,
    result: SendResult,
    *,
    policy: DeliveryPolicy,
    requeue: Requeue,
) -> str | None:
    """Write what the attempt came to; None if the claim was lost meanwhile (its lease ran
    out and another attempt took over: that one's outcome counts)."""
    now = dt.datetime.now(dt.UTC)
    error = result.failure()
    if error is None:
        status, next_retry_at = "succeeded", None
    elif claim.number <= claim.retry_count:
        status = "failed"
        delay = retry_delay(
            claim.number,
            base_seconds=claim.retry_delay_seconds,
            cap_seconds=policy.max_retry_delay_seconds,
        )
        next_retry_at = now + dt.timedelta(seconds=delay)
    else:
        status, next_retry_at = "abandoned", None
    (row,) = await enter_tenant(
        session, claim.account_id, RECORD, account_id=claim.account_id,
        delivery_id=claim.delivery_id,
        number=claim.number, status=status, succeeded=error is None,
        abandoned=status == "abandoned", next_retry_at=next_retry_at, now=now,
        response_code=result.status, response_body=result.body,
        response_time_ms=result.elapsed_ms, error=error[:ERROR_MAX_CHARS] if error else None,
    )  # fmt: skip
    if not row.owned:
        return None
    if status == "failed" and next_retry_at is not None:
        await requeue(session, claim.account_id, claim.delivery_id, next_retry_at)
    if error is not None:
        long_enough = now - row.failing_since >= dt.timedelta(hours=policy.disable_after_hours)
        failures = row.consecutive_failures
        if row.is_active and failures >= policy.disable_after_failures and long_enough:
            await _disable(session, claim, failures, row.failing_since, error, now)
    return status


async def _disable(
    session: AsyncSession,
    claim: Claim,
    failures: int,
    failing_since: dt.datetime,
    last_error: str,
    now: dt.datetime,
) -> None:
    reason = (
        f"{failures} failed attempts in a row since {failing_since.isoformat()}; "
        f"the last: {last_error}"
    )[:ERROR_MAX_CHARS]
    version = (
        await session.execute(
            update(Webhook)
            .where(Webhook.account_id == claim.account_id, Webhook.id == claim.webhook_id)
            .values(is_active=False, disabled_at=now, disabled_reason=reason)
            .returning(Webhook.version)
        )
    ).scalar_one()
    await record(
        session,
        WebhookEndpointDisabled(
            webhook_id=claim.webhook_id,
            url=claim.url,
            reason=reason,
            consecutive_failures=failures,
            failing_since=failing_since,
        ),
        account_id=claim.account_id,
        aggregate_id=claim.webhook_id,
        aggregate_version=version,
    )


async def _abandon_unsent(
    session: AsyncSession,
    account_id: uuid.UUID,
    delivery_id: uuid.UUID,
    webhook_id: uuid.UUID,
    reason: str,
) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.account_id == account_id, WebhookDelivery.id == delivery_id)
        .values(status="abandoned", next_retry_at=None, last_error=reason)
    )
    await session.execute(
        update(Webhook)
        .where(Webhook.account_id == account_id, Webhook.id == webhook_id)
        .values(failed_deliveries=Webhook.failed_deliveries + 1)
    )


async def _interrupt_open_attempts(
    session: AsyncSession, account_id: uuid.UUID, delivery_id: uuid.UUID
) -> None:
    await session.execute(
        update(WebhookAttempt)
        .where(
            WebhookAttempt.account_id == account_id,
            WebhookAttempt.delivery_id == delivery_id,
            WebhookAttempt.outcome == "delivering",
        )
        .values(
            outcome="interrupted",
            finished_at=func.now(),
            error="the worker stopped during this attempt; its outcome is unknown",
        )
    )
