"""Parallel charges against one campaign's budget, each on its own connection and
committed: exactly as many as the budget allows succeed, the rest get 402, and the ledger
and ``spent_tokens`` agree; a refund racing the charges gives its tokens back to both."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from markettina.billing import public as billing
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import new_account

PRICE = 5  # text_generation / social_caption, as seeded
PARALLEL = 24
AFFORDABLE = 9


async def test_parallel_charges_stop_exactly_at_the_budget(fresh_db: DatabaseURLs) -> None:
    account = new_account(fresh_db)
    sql(fresh_db, "INSERT INTO token_wallets (account_id) VALUES (%s)", account)
    ((campaign,),) = sql(
        fresh_db,
        "INSERT INTO campaigns (account_id, name, status, budget_tokens)"
        " VALUES (%s, 'Launch', 'active', %s) RETURNING id",
        account, AFFORDABLE * PRICE + PRICE - 1,
    )  # fmt: skip
    engine = create_async_engine(fresh_db.app, pool_size=8, max_overflow=0, pool_timeout=120)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with unit_of_work(sessions, account_id=account) as session:
        await billing.credit_tokens(
            session, account_id=account, kind="purchase", amount=1000,
            reference_type="test", reference_id="seed", description="seed",
            idempotency_key="seed",
        )  # fmt: skip

    async def one(n: int) -> str:
        try:
            async with unit_of_work(sessions, account_id=account) as session:
                await billing.charge(
                    session, account_id=account, service_type="text_generation",
                    service_subtype="social_caption", reference_id=str(n),
                    campaign_id=campaign, idempotency_key=f"gen-{n}",
                )  # fmt: skip
        except billing.CampaignBudgetExhausted:
            return "402"
        return "charged"

    try:
        outcomes = await asyncio.gather(*(one(n) for n in range(PARALLEL)))
    finally:
        await engine.dispose()
    assert outcomes.count("charged") == AFFORDABLE
    assert outcomes.count("402") == PARALLEL - AFFORDABLE
    entries = sql(
        fresh_db,
        "SELECT count(*), coalesce(sum(-amount), 0) FROM token_transactions"
        " WHERE account_id = %s AND campaign_id = %s AND type = 'usage'",
        account, campaign,
    )  # fmt: skip
    assert entries == [(AFFORDABLE, AFFORDABLE * PRICE)]
    assert sql(fresh_db, "SELECT spent_tokens, version FROM campaigns WHERE id = %s",
               campaign) == [(AFFORDABLE * PRICE, 1)]  # fmt: skip
    assert sql(fresh_db, "SELECT balance FROM token_wallets WHERE account_id = %s",
               account) == [(1000 - AFFORDABLE * PRICE,)]  # fmt: skip


async def test_refunds_racing_charges_keep_ledger_and_campaign_equal(
    fresh_db: DatabaseURLs,
) -> None:
    account = new_account(fresh_db)
    sql(fresh_db, "INSERT INTO token_wallets (account_id) VALUES (%s)", account)
    ((campaign,),) = sql(
        fresh_db,
        "INSERT INTO campaigns (account_id, name, status, budget_tokens)"
        " VALUES (%s, 'Launch', 'active', %s) RETURNING id",
        account, 4 * PRICE,
    )  # fmt: skip
    engine = create_async_engine(fresh_db.app, pool_size=8, max_overflow=0, pool_timeout=120)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with unit_of_work(sessions, account_id=account) as session:
        await billing.credit_tokens(
            session, account_id=account, kind="purchase", amount=1000,
            reference_type="test", reference_id="seed", description="seed",
            idempotency_key="seed",
        )  # fmt: skip
        charged = [
            await billing.charge(
                session,
                account_id=account,
                service_type="text_generation",
                service_subtype="social_caption",
                campaign_id=campaign,
            )
            for _ in range(4)
        ]

    async def refund(transaction_id: uuid.UUID) -> None:
        async with unit_of_work(sessions, account_id=account) as session:
            await billing.refund_charge(session, account_id=account, transaction_id=transaction_id)

    async def charge() -> str:
        try:
            async with unit_of_work(sessions, account_id=account) as session:
                await billing.charge(
                    session, account_id=account, service_type="text_generation",
                    service_subtype="social_caption", campaign_id=campaign,
                )  # fmt: skip
        except billing.CampaignBudgetExhausted:
            return "402"
        return "charged"

    try:
        await asyncio.gather(
            *(refund(c.transaction_id) for c in charged), *(charge() for _ in range(12))
        )
    finally:
        await engine.dispose()
    ((ledger,),) = sql(
        fresh_db,
        "SELECT coalesce(sum(-amount), 0) FROM token_transactions WHERE campaign_id = %s",
        campaign,
    )
    ((spent,),) = sql(fresh_db, "SELECT spent_tokens FROM campaigns WHERE id = %s", campaign)
    assert spent == ledger <= 4 * PRICE
