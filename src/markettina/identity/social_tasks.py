"""Background jobs of social accounts: the periodic health check.

It runs as the owner over every account: finding the tokens about to expire is a sweep
across tenants, which the application role (row-level security, no tenant) cannot make.
Each account is then refreshed and recorded in a transaction of its own, every write
naming the row's (account_id, id).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DRIVER
from markettina.kernel.jobs import job_queue, maintenance_connection

from .social_health import Transactions, check_social_accounts
from .social_revocation import secret_box


@job_queue.periodic(cron="*/30 * * * *", periodic_id="check-social-accounts")
@job_queue.task(
    name="identity.check_social_accounts",
    queue="maintenance",
    queueing_lock="social-health",
    lock="social-health",  # one sweep at a time: two would refresh the same tokens
)
async def check_social_accounts_job(timestamp: int) -> dict[str, int]:
    async with _owner_transactions() as transactions:
        report = await check_social_accounts(transactions=transactions, box=secret_box())
    return asdict(report)


@asynccontextmanager
async def _owner_transactions() -> AsyncIterator[Transactions]:
    """Owner sessions over maintenance_connection(), one reused connection, each block a
    transaction (the maintenance connection comes in autocommit; sessions need it off)."""

    async def connect() -> Any:
        connection = await maintenance_connection()
        await connection.set_autocommit(False)
        return connection

    engine = create_async_engine(f"{DRIVER}://", async_creator=connect, pool_size=1)
    sessions = async_sessionmaker[AsyncSession](engine, expire_on_commit=False)
    try:
        yield lambda: unit_of_work(sessions, account_id=None)
    finally:
        await engine.dispose()
