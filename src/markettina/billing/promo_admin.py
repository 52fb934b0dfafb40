"""Staff's management of promo codes: created, changed, deactivated (never deleted: their
redemptions are history)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.errors import NotFound
from markettina.kernel.pagination import Page, page_of

from .models import PromoCode


async def create_promo(session: AsyncSession, **fields: Any) -> PromoCode:
    """A new code; one that differs from an existing code only in case is a 409."""
    promo = PromoCode(id=uuid.uuid4(), current_uses=0, **fields)
    session.add(promo)
    await session.flush()
    await session.refresh(promo)
    return promo


async def get_promo(session: AsyncSession, promo_code_id: uuid.UUID) -> PromoCode:
    promo = await session.get(PromoCode, promo_code_id)
    if promo is None:
        raise NotFound("no such promo code", code="promo_code_not_found")
    return promo


async def update_promo(
    session: AsyncSession, promo_code_id: uuid.UUID, changes: dict[str, Any]
) -> PromoCode:
    """Change the limits, the window or the targets; the database refuses a window that
    ends before it starts or a maximum below the uses already made (422)."""
    promo = await get_promo(session, promo_code_id)
    for name, value in changes.items():
        setattr(promo, name, value)
    await session.flush()
    await session.refresh(promo)
    return promo


async def list_promos(
    session: AsyncSession, *, active: bool | None, limit: int, cursor: str | None
) -> Page[PromoCode]:
    statement = select(PromoCode)
    if active is not None:
        statement = statement.where(PromoCode.is_active.is_(active))
    statement = newest_first(
        statement, at=PromoCode.created_at, id_=PromoCode.id, limit=limit, cursor=cursor
    )
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda p: (p.created_at.isoformat(), p.id))
