"""The transaction boundary of a request or a job: services never commit, this does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from .tenant import set_tenant


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, account_id: UUID | None
) -> AsyncIterator[AsyncSession]:
    """Open a transaction scoped to ``account_id``; commit if the block succeeds, else roll back."""
    async with sessions() as session, session.begin():
        await set_tenant(session, account_id)
        yield session


@asynccontextmanager
async def side_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A transaction beside the caller's, for a refusal that must leave a mark (a failed
    login count, an audit row): the caller's rolls back with the error that answers."""
    bind = session.bind
    engine = bind.engine if isinstance(bind, AsyncConnection) else bind
    assert isinstance(engine, AsyncEngine)
    async with AsyncSession(engine) as side, side.begin():
        # the caller's transaction must hold no lock this one needs; if it ever does, fail fast
        await side.execute(text("SET LOCAL lock_timeout = '5s'"))
        yield side
