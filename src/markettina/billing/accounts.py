"""What billing reads of the accounts table (global): whether an account exists, its plan."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_EXISTS = text("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = :account_id)")
_PLAN = text("SELECT plan_tier FROM accounts WHERE id = :account_id")


async def account_exists(session: AsyncSession, account_id: uuid.UUID) -> bool:
    return bool((await session.execute(_EXISTS, {"account_id": account_id})).scalar_one())


async def plan_of(session: AsyncSession, account_id: uuid.UUID) -> str | None:
    return (await session.execute(_PLAN, {"account_id": account_id})).scalar_one_or_none()
