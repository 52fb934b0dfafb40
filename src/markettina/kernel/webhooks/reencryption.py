"""Signing secrets re-encrypted with the first encryption key (``markettina secrets
rotate``), the current and the previous one alike, so the older keys can be removed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Webhook
from ..security import SecretBox

BATCH = 500


@dataclass(frozen=True)
class ReencryptionReport:
    reencrypted: int
    unreadable: tuple[tuple[uuid.UUID, uuid.UUID], ...]  # (account, webhook) no key opens


async def count_signing_secrets(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Webhook).where(_holds_a_secret())
    return int((await session.execute(query)).scalar_one())


async def reencrypt_signing_secrets(
    session: AsyncSession,
    *,
    box: SecretBox,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ReencryptionReport:
    """Every endpoint's secrets (deleted endpoints' too), batch by batch under row locks.
    ``session`` belongs to the owner: it sees every account."""
    reencrypted, unreadable = 0, []
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    while True:
        query = (
            select(
                Webhook.account_id, Webhook.id, Webhook.secret_encrypted,
                Webhook.previous_secret_encrypted,
            )
            .where(_holds_a_secret())
            .order_by(Webhook.account_id, Webhook.id)
            .limit(batch_size)
            .with_for_update()
        )  # fmt: skip
        if after is not None:
            query = query.where(tuple_(Webhook.account_id, Webhook.id) > after)
        rows = (await session.execute(query)).all()
        if not rows:
            break
        changes = []
        for row in rows:
            try:
                current = _reencrypt(box, row.secret_encrypted)
                previous = _reencrypt(box, row.previous_secret_encrypted)
            except ValueError:
                unreadable.append((row.account_id, row.id))
                continue
            changes.append({"account_id": row.account_id, "id": row.id,
                            "secret_encrypted": current,
                            "previous_secret_encrypted": previous})  # fmt: skip
        if changes:
            await session.execute(update(Webhook), changes)  # by primary key
        reencrypted += len(changes)
        after = (rows[-1].account_id, rows[-1].id)
        if on_batch is not None:
            on_batch(len(rows))
    return ReencryptionReport(reencrypted=reencrypted, unreadable=tuple(unreadable))


def _holds_a_secret() -> ColumnElement[bool]:
    return or_(
        Webhook.secret_encrypted.is_not(None), Webhook.previous_secret_encrypted.is_not(None)
    )


def _reencrypt(box: SecretBox, ciphertext: str | None) -> str | None:
    # decrypt + encrypt: box.rotate() would let cryptography's InvalidToken out for a
    # secret no configured key opens, where decrypt raises ValueError
    return box.encrypt(box.decrypt(ciphertext)) if ciphertext is not None else None
