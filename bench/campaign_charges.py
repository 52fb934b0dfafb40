"""What charging work to a campaign costs over a plain charge: N asyncio clients, each
charge in its own committed transaction as markettina_app, against one hot wallet, first
without a campaign, then to one campaign (the campaign row locked in the charge, its
``spent_tokens`` moved by the ledger trigger, its change captured). Prints one JSON line
with charges/s and the p50/p99 latency of each, and checks the ledger and the campaign's
spent tokens agree.

    python3 dev.py run python bench/campaign_charges.py [--clients 8] [--seconds 5]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.checks import sql
from tests.support.databases import SuiteDatabases

from markettina.billing.public import charge
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs

FUNDS = 1_000_000_000  # far more than a run can spend
PRICE = 2  # social_publish / single_platform, as seeded


def funded_account(urls: DatabaseURLs) -> tuple[uuid.UUID, uuid.UUID]:
    """An account whose wallet holds FUNDS, and an active campaign of it with no budget."""
    [(account_id, wallet_id)] = sql(
        urls,
        "WITH a AS (INSERT INTO accounts (name, slug) VALUES ('bench', 'bench-' ||"
        " gen_random_uuid()) RETURNING id) INSERT INTO token_wallets (account_id)"
        " SELECT id FROM a RETURNING account_id, id",
    )
    sql(urls, "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
        " description) VALUES (%s, %s, 'purchase', %s, 'bench')",
        account_id, wallet_id, FUNDS)  # fmt: skip
    [(campaign_id,)] = sql(
        urls,
        "INSERT INTO campaigns (account_id, name, status) VALUES (%s, 'bench', 'active')"
        " RETURNING id",
        account_id,
    )
    return account_id, campaign_id


async def run(
    sessions: async_sessionmaker[AsyncSession],
    account: uuid.UUID,
    campaign: uuid.UUID | None,
    clients: int,
    seconds: float,
) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with unit_of_work(sessions, account_id=account) as session:
                await charge(session, account_id=account, service_type="social_publish",
                             service_subtype="single_platform", campaign_id=campaign)  # fmt: skip
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "charges_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
        "charges": len(ordered),
    }


async def bench(urls: DatabaseURLs, clients: int, seconds: float) -> dict[str, object]:
    account, campaign = funded_account(urls)
    engine = create_async_engine(urls.app, pool_size=clients, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        await run(sessions, account, campaign, clients, 1.0)  # warm the pool and the plans
        plain = await run(sessions, account, None, clients, seconds)
        to_campaign = await run(sessions, account, campaign, clients, seconds)
    finally:
        await engine.dispose()
    [(spent, charged)] = sql(
        urls,
        "SELECT c.spent_tokens, (SELECT -sum(amount) FROM token_transactions t"
        " WHERE t.campaign_id = c.id) FROM campaigns c WHERE c.id = %s",
        campaign,
    )
    assert spent == charged
    return {"plain": plain, "to_campaign": to_campaign}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8, help="concurrent callers")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        result = asyncio.run(bench(urls, args.clients, args.seconds))
    finally:
        databases.drop_all()
    print(json.dumps({
        "bench": "campaign_charges", "driver": "in-process asyncio, one transaction per charge",
        "clients": args.clients, "seconds": args.seconds, **result,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
