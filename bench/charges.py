"""Token charges per second through the real charge service (`billing.public.charge`), in
one process: N asyncio clients, each charge in its own committed transaction on a pooled
connection as markettina_app (the unit of work a request uses), against one hot wallet and
against 1,000 wallets. Prints one JSON line with charges/s and the p50/p99 latency of a
charge (its whole transaction: tenant, wallet lock, price, ledger entry, event, commit).

    python3 dev.py run python bench/charges.py [--clients 16] [--seconds 10]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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


def funded_accounts(urls: DatabaseURLs, count: int) -> list[uuid.UUID]:
    """``count`` accounts, each with a wallet holding FUNDS (one purchase entry)."""
    rows = sql(
        urls,
        "WITH a AS (INSERT INTO accounts (name, slug)"
        " SELECT 'bench', 'bench-' || gen_random_uuid() FROM generate_series(1, %s) RETURNING id),"
        " w AS (INSERT INTO token_wallets (account_id) SELECT id FROM a RETURNING account_id, id)"
        " SELECT account_id, id FROM w",
        count,
    )
    for account_id, wallet_id in rows:
        sql(urls, "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
            " description) VALUES (%s, %s, 'purchase', %s, 'bench')",
            account_id, wallet_id, FUNDS)  # fmt: skip
    return [account_id for account_id, _ in rows]


async def run(
    sessions: async_sessionmaker[AsyncSession],
    accounts: list[uuid.UUID],
    clients: int,
    seconds: float,
) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        pick = random.Random(n)
        while time.perf_counter() < deadline:
            account = pick.choice(accounts)
            started = time.perf_counter()
            async with unit_of_work(sessions, account_id=account) as session:
                await charge(session, account_id=account, service_type="social_publish",
                             service_subtype="single_platform")  # fmt: skip
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "charges_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[max(0, int(len(ordered) * 0.99) - 1)], 2),
        "charges": len(ordered),
    }


async def bench(urls: DatabaseURLs, clients: int, seconds: float) -> dict[str, object]:
    hot = funded_accounts(urls, 1)
    many = funded_accounts(urls, 1000)
    engine = create_async_engine(urls.app, pool_size=clients, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        await run(sessions, many, clients, 1.0)  # warm the pool and the plans
        one_wallet = await run(sessions, hot, clients, seconds)
        spread = await run(sessions, many, clients, seconds)
    finally:
        await engine.dispose()
    [(balance, used)] = sql(urls, "SELECT balance, total_used FROM token_wallets"
                            " WHERE account_id = %s", hot[0])  # fmt: skip
    assert balance + used == FUNDS and used == 2 * one_wallet["charges"]
    return {"hot_wallet": one_wallet, "wallets_1000": spread}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16, help="concurrent callers")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.migrated_template()
        result = asyncio.run(bench(urls, args.clients, args.seconds))
    finally:
        databases.drop_all()
    print(json.dumps({
        "bench": "charges", "driver": "in-process asyncio, one transaction per charge",
        "clients": args.clients, "seconds": args.seconds, **result,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
