"""The transaction boundary of a request or a job: services never commit, this does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .tenant import set_tenant


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, account_id: UUID | None
) -> AsyncIterator[AsyncSession]:
    """Open a transaction scoped to ``account_id``; commit if the block succeeds, else roll back."""
    async with sessions() as session, session.begin():
        await set_tenant(session, account_id)
        yield session
