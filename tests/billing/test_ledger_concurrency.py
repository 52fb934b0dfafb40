"""200 charges at once against a wallet that can pay for 100: exactly 100 are charged, the
rest get 402, and the balance ends at zero."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from markettina.billing import public as billing
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import new_account

PRICE = 2  # social_publish / single_platform, as seeded


async def test_200_parallel_charges_against_100_affordable(fresh_db: DatabaseURLs) -> None:
    account = new_account(fresh_db)
    sql(fresh_db, "INSERT INTO token_wallets (account_id) VALUES (%s)", account)
    engine = create_async_engine(fresh_db.app, pool_size=10, max_overflow=0, pool_timeout=120)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with unit_of_work(sessions, account_id=account) as session:
        await billing.credit_tokens(
            session, account_id=account, kind="purchase", amount=100 * PRICE,
            reference_type="test", reference_id="seed", description="seed",
            idempotency_key="seed",
        )  # fmt: skip

    async def one(n: int) -> str:
        try:
            async with unit_of_work(sessions, account_id=account) as session:
                await billing.charge(session, account_id=account, service_type="social_publish",
                                     service_subtype="single_platform",
                                     reference_id=str(n))  # fmt: skip
        except billing.InsufficientTokens:
            return "402"
        return "charged"

    try:
        outcomes = await asyncio.gather(*(one(n) for n in range(200)))
    finally:
        await engine.dispose()
    assert outcomes.count("charged") == 100 and outcomes.count("402") == 100
    assert sql(fresh_db, "SELECT balance, total_used FROM token_wallets WHERE account_id = %s",
               account) == [(0, 100 * PRICE)]  # fmt: skip
    assert sql(fresh_db, "SELECT count(*), min(balance_after) FROM token_transactions"
               " WHERE account_id = %s AND type = 'usage'", account) == [(100, 0)]  # fmt: skip
    events = sql(fresh_db, "SELECT count(*) FROM domain_events WHERE account_id = %s"
                 " AND event_type = 'tokens.consumed'", account)  # fmt: skip
    assert events == [(100,)]
