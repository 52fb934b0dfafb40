"""The tenant context is transaction-local: it never leaks into the next transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from markettina.kernel.db.tenant import current_tenant, set_tenant
from markettina.kernel.db.unit_of_work import unit_of_work


async def test_tenant_ends_with_the_transaction(app_engine: AsyncEngine) -> None:
    account = uuid.uuid4()
    # one connection reused by two transactions: what a pool does between two requests
    async with app_engine.connect() as connection, AsyncSession(bind=connection) as session:
        async with session.begin():
            await set_tenant(session, account)
            assert await current_tenant(session) == account
        async with session.begin():
            assert await current_tenant(session) is None


async def test_unit_of_work_sets_tenant_and_rolls_back_on_error(app_engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(app_engine, expire_on_commit=False)
    account = uuid.uuid4()
    with pytest.raises(LookupError):
        async with unit_of_work(sessions, account_id=account) as session:
            assert await current_tenant(session) == account
            raise LookupError
    async with unit_of_work(sessions, account_id=None) as session:
        assert await current_tenant(session) is None
