"""Signing secrets re-encrypted with the first encryption key (``markettina secrets
rotate``), the current and the previous one alike, so the older keys can be removed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.reencryption import BATCH, ReencryptionReport, count_encrypted, reencrypt_columns
from ..models import Webhook
from ..security import SecretBox

SECRET_COLUMNS = (Webhook.secret_encrypted, Webhook.previous_secret_encrypted)


async def count_signing_secrets(session: AsyncSession) -> int:
    return await count_encrypted(session, SECRET_COLUMNS)


async def reencrypt_signing_secrets(
    session: AsyncSession,
    *,
    box: SecretBox,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ReencryptionReport:
    """Every endpoint's secrets (deleted endpoints' too), batch by batch under row locks.
    ``session`` belongs to the owner: it sees every account."""
    return await reencrypt_columns(
        session, SECRET_COLUMNS, box=box, batch_size=batch_size, on_batch=on_batch
    )
