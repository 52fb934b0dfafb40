"""Stored secrets re-encrypted with the first encryption key (``markettina secrets
rotate``), so the older keys can be removed: a tenant table's encrypted columns, walked
in (account_id, id) order batch by batch, each batch's rows locked while they change.
Run as the owner, which sees every account."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from ..security import SecretBox

BATCH = 500

EncryptedColumn = InstrumentedAttribute[str | None]


@dataclass(frozen=True)
class ReencryptionReport:
    reencrypted: int  # rows
    unreadable: tuple[tuple[uuid.UUID, uuid.UUID], ...]  # (account_id, id) no key opens


def _holding(columns: Sequence[EncryptedColumn]) -> ColumnElement[bool]:
    return or_(*(column.is_not(None) for column in columns))


async def count_encrypted(session: AsyncSession, columns: Sequence[EncryptedColumn]) -> int:
    """Rows holding a secret in any of ``columns`` (one table's)."""
    query = select(func.count()).select_from(columns[0].class_).where(_holding(columns))
    return int((await session.execute(query)).scalar_one())


async def reencrypt_columns(
    session: AsyncSession,
    columns: Sequence[EncryptedColumn],
    *,
    box: SecretBox,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ReencryptionReport:
    """Every row's ``columns`` (one tenant table's) re-encrypted with ``box``'s first key;
    a row no configured key opens is left as it was and reported."""
    model: Any = columns[0].class_
    reencrypted, unreadable = 0, []
    after: tuple[uuid.UUID, uuid.UUID] | None = None
    while True:
        query = (
            select(model.account_id, model.id, *columns)
            .where(_holding(columns))
            .order_by(model.account_id, model.id)
            .limit(batch_size)
            .with_for_update()
        )
        if after is not None:
            query = query.where(tuple_(model.account_id, model.id) > after)
        rows = (await session.execute(query)).all()
        if not rows:
            break
        changes = []
        for row in rows:
            try:
                values = {c.key: _reencrypt(box, getattr(row, c.key)) for c in columns}
            except ValueError:
                unreadable.append((row.account_id, row.id))
                continue
            changes.append({"account_id": row.account_id, "id": row.id, **values})
        if changes:
            await session.execute(update(model), changes)  # by primary key
        reencrypted += len(changes)
        after = (rows[-1].account_id, rows[-1].id)
        if on_batch is not None:
            on_batch(len(rows))
    return ReencryptionReport(reencrypted=reencrypted, unreadable=tuple(unreadable))


def _reencrypt(box: SecretBox, ciphertext: str | None) -> str | None:
    # decrypt + encrypt rather than box.rotate(): rotate lets cryptography's InvalidToken out
    # instead of the ValueError decrypt raises for a secret no configured key opens
    return box.encrypt(box.decrypt(ciphertext)) if ciphertext is not None else None
