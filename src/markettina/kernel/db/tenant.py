"""The one way to set the acting tenant: a transaction-local setting read by every RLS policy."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .raw import CompiledQuery

TENANT_SETTING = "app.current_account_id"

_SET = text("SELECT set_config(:name, :value, true)")
_SET_COMPILED = CompiledQuery(_SET)
_GET = text("SELECT nullif(current_setting(:name, true), '')")


async def set_tenant(session: AsyncSession, account_id: UUID | None) -> None:
    """Scope the current transaction to one account ('' means no tenant: no rows visible).

    ``is_local=true`` makes the setting end with the transaction, so a pooled connection
    never carries one tenant's context into the next request.
    """
    value = "" if account_id is None else str(account_id)
    await session.execute(_SET, {"name": TENANT_SETTING, "value": value})


def tenant_setting(account_id: UUID) -> tuple[CompiledQuery, dict[str, Any]]:
    """``set_tenant``'s statement compiled, for a psycopg pipeline (one round trip with
    the statement it precedes)."""
    return _SET_COMPILED, {"name": TENANT_SETTING, "value": str(account_id)}


async def current_tenant(session: AsyncSession) -> UUID | None:
    value = (await session.execute(_GET, {"name": TENANT_SETTING})).scalar_one_or_none()
    return UUID(value) if value else None
