"""Webhook endpoints of an account: created with a signing secret shown once (stored
encrypted), listed, read, changed under optimistic locking, given a new secret,
soft-deleted."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.keyset import NewestFirst
from ..errors import Conflict, FieldError, NotFound, ValidationFailed
from ..models import Webhook
from ..security import SecretBox
from .destinations import RefusedDestination, UnresolvedHost, vetted_addresses
from .schemas import WebhookCreate, WebhookUpdate
from .signing import new_signing_secret

RESOLVE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class UrlRules:
    require_https: bool  # production
    allow_loopback: bool


@dataclass(frozen=True)
class WebhookWithSecret:
    """An endpoint and the signing secret just made for it (at creation or rotation)."""

    webhook: Webhook
    secret: str  # returned once, stored only encrypted


async def check_url(url: str, rules: UrlRules) -> None:
    """Refuse plain http in production, and a host that resolves now to an address
    webhooks may not reach (a host that does not resolve yet is checked at delivery)."""
    parsed = httpx.URL(url)
    if rules.require_https and parsed.scheme != "https":
        raise _bad_url("must be an https:// URL", "https_required")
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            await vetted_addresses(
                parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80),
                allow_loopback=rules.allow_loopback,
            )  # fmt: skip
    except RefusedDestination as exc:
        raise _bad_url(f"webhooks may not reach this address: {exc}", "refused_address") from exc
    except (UnresolvedHost, TimeoutError):
        pass


def _bad_url(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError("body.url", message, code)])


async def create_webhook(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    created_by: int | None,
    fields: WebhookCreate,
    box: SecretBox,
    rules: UrlRules,
) -> WebhookWithSecret:
    await check_url(fields.url, rules)
    secret = new_signing_secret()
    webhook = Webhook(
        account_id=account_id,
        name=fields.name,
        description=fields.description,
        url=fields.url,
        events=fields.events,
        retry_count=fields.retry_count,
        retry_delay_seconds=fields.retry_delay_seconds,
        secret_encrypted=box.encrypt(secret),
        created_by=created_by,
    )
    session.add(webhook)
    await session.flush()
    await session.refresh(webhook)
    return WebhookWithSecret(webhook=webhook, secret=secret)


# the columns of ``WebhookOut``, in its order; the previous secret's end only while it signs
LISTED_PAGE = NewestFirst(
    select(
        Webhook.id, Webhook.name, Webhook.description, Webhook.url, Webhook.events,
        Webhook.is_active, Webhook.retry_count, Webhook.retry_delay_seconds,
        Webhook.total_deliveries, Webhook.successful_deliveries, Webhook.failed_deliveries,
        Webhook.last_delivery_at, Webhook.consecutive_failures, Webhook.disabled_at,
        Webhook.disabled_reason,
        case(
            (Webhook.previous_secret_expires_at > func.now(), Webhook.previous_secret_expires_at)
        ).label("previous_secret_expires_at"),
        Webhook.created_at, Webhook.updated_at, Webhook.version,
    ).where(Webhook.account_id == bindparam("account_id"), Webhook.deleted_at.is_(None)),
    at=Webhook.created_at,
    id_=Webhook.id,
)  # fmt: skip


async def get_webhook(
    session: AsyncSession, *, account_id: uuid.UUID, webhook_id: uuid.UUID, lock: bool = False
) -> Webhook:
    query = select(Webhook).where(
        Webhook.account_id == account_id, Webhook.id == webhook_id, Webhook.deleted_at.is_(None)
    )
    if lock:
        query = query.with_for_update()
    webhook = (await session.execute(query)).scalar_one_or_none()
    if webhook is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    return webhook


async def update_webhook(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    expected_version: int | None,
    fields: WebhookUpdate,
    rules: UrlRules,
) -> Webhook:
    """Change the endpoint if it is still at ``expected_version``; re-enabling it also
    clears its failure run."""
    current = await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    if expected_version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    changes: dict[str, Any] = fields.changes()
    if "url" in changes:
        await check_url(changes["url"], rules)
    if changes.get("is_active") and not current.is_active:
        changes.update(disabled_at=None, disabled_reason=None, consecutive_failures=0,
                       failing_since=None)  # fmt: skip
    if not changes:
        if current.version != expected_version:
            raise _version_conflict(current.version)
        return current
    updated = (
        await session.execute(
            update(Webhook)
            .where(
                Webhook.account_id == account_id,
                Webhook.id == webhook_id,
                Webhook.deleted_at.is_(None),
                Webhook.version == expected_version,
            )
            .values(**changes)
            .returning(Webhook)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        raise _version_conflict(current.version)
    return updated


async def rotate_secret(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    webhook_id: uuid.UUID,
    expected_version: int | None,
    box: SecretBox,
    previous_valid_for: dt.timedelta = dt.timedelta(0),
) -> WebhookWithSecret:
    """Replace the signing secret (if the endpoint is still at ``expected_version``, when
    given). The replaced one keeps signing (a second signature) for ``previous_valid_for``;
    with none, it stops at once. An earlier secret still in its grace period is dropped:
    an endpoint signs with two secrets at most."""
    current = await get_webhook(session, account_id=account_id, webhook_id=webhook_id, lock=True)
    if expected_version is not None and current.version != expected_version:
        raise _version_conflict(current.version)
    secret = new_signing_secret()
    keep_previous = previous_valid_for > dt.timedelta(0) and current.secret_encrypted is not None
    rotated = (
        await session.execute(
            update(Webhook)
            .where(Webhook.account_id == account_id, Webhook.id == webhook_id)
            .values(
                secret_encrypted=box.encrypt(secret),
                previous_secret_encrypted=current.secret_encrypted if keep_previous else None,
                previous_secret_expires_at=(
                    func.now() + previous_valid_for if keep_previous else None
                ),
            )
            .returning(Webhook)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one()
    return WebhookWithSecret(webhook=rotated, secret=secret)


async def delete_webhook(
    session: AsyncSession, *, account_id: uuid.UUID, webhook_id: uuid.UUID, deleted_by: int | None
) -> None:
    """Soft delete: no new deliveries; the pending ones are abandoned when they come up."""
    await get_webhook(session, account_id=account_id, webhook_id=webhook_id)
    await session.execute(
        update(Webhook)
        .where(Webhook.account_id == account_id, Webhook.id == webhook_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=deleted_by, is_active=False)
    )


def _version_conflict(current: int) -> Conflict:
    return Conflict(
        f"the webhook changed since you read it (now at version {current}); "
        "read it again and retry",
        code="version_conflict",
    )
