"""The transaction boundary of a job (and of anything outside a request that changes
tenant data): services never commit, this does. A request's transaction is opened by the
request pipeline, which sets its tenant once the caller is verified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from .engine import SIDE_SESSIONS
from .tenant import enter_tenant


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], *, account_id: UUID | None
) -> AsyncIterator[AsyncSession]:
    """Open a transaction as ``account_id`` (None: as no tenant); commit if the block
    succeeds, else roll back. Code inside that acts for another account uses
    ``tenant_scope``."""
    async with sessions() as session, session.begin():
        await enter_tenant(session, account_id)
        yield session


@asynccontextmanager
async def side_transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A transaction beside the caller's, for a refusal that must leave a mark (a failed
    login count, an audit row): the caller's rolls back with the error that answers.

    It runs on the side pool of the caller's database (``engine.open_database``), never on
    the pool the caller's own connection came from: a caller holding its connection while
    it waits for a second one from the same pool would starve every request once as many
    callers as connections do it together. A session made elsewhere (a test's) falls back
    to its own engine."""
    side_sessions = session.info.get(SIDE_SESSIONS)
    if side_sessions is None:
        bind = session.bind
        engine = bind.engine if isinstance(bind, AsyncConnection) else bind
        assert isinstance(engine, AsyncEngine)
        side_sessions = async_sessionmaker(engine)
    async with side_sessions() as side, side.begin():
        # the caller's transaction must hold no lock this one needs; if it ever does, fail fast
        await side.execute(text("SET LOCAL lock_timeout = '5s'"))
        yield side
