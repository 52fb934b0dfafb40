"""What handing out a pooled connection costs the API process, per pool (CPU time of this
process, so a busy machine blurs it less than wall time):

- ``lane_checkout_cpu_us``: a read-lane checkout and return, nothing sent;
- ``autocommit_statement_cpu_us``: one ``SELECT 1`` on the autocommit pool;
- ``orm_session_statement_cpu_us``: a session's ``SELECT 1`` (checkout, statement, return).

Each checkout checks that the server has not ended the connection (``kernel/db/liveness.py``).
Prints one JSON line.

    python3 dev.py run python bench/pools.py [--runs 4000]

Uses MARKETTINA_TEST_DATABASE_URL when set, else the test suite's embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.databases import SuiteDatabases

from markettina.kernel.db.autocommit import AutocommitPool
from markettina.kernel.db.engine import open_database
from markettina.kernel.db.lane_pool import LanePool
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url


async def cpu_us(step: Callable[[], Awaitable[object]], runs: int) -> float:
    for _ in range(min(runs, 200)):  # warm: connections open, statements prepared
        await step()
    started = time.process_time()
    for _ in range(runs):
        await step()
    return round((time.process_time() - started) / runs * 1e6, 1)


async def measure(urls: DatabaseURLs, runs: int) -> dict[str, float]:
    lane = LanePool(as_libpq_url(urls.app), max_size=2)
    autocommit = AutocommitPool(as_libpq_url(urls.app), max_size=2)
    database = open_database(urls.app, pool_size=2)

    async def lane_checkout() -> None:
        async with lane.connection():
            pass

    async def session_statement() -> None:
        async with database.sessions() as session:
            await session.execute(text("SELECT 1"))

    await autocommit.open()
    try:
        return {
            "lane_checkout_cpu_us": await cpu_us(lane_checkout, runs * 5),
            "autocommit_statement_cpu_us": await cpu_us(
                lambda: autocommit.fetch_one("SELECT 1", ()), runs
            ),
            "orm_session_statement_cpu_us": await cpu_us(session_statement, runs),
        }
    finally:
        await lane.close()
        await autocommit.close()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4_000)
    args = parser.parse_args()
    databases = SuiteDatabases.start()
    try:
        urls = databases.empty("pools")
        figures = asyncio.run(measure(urls, args.runs))
    finally:
        databases.drop_all()
    print(json.dumps({"bench": "pools", "runs": args.runs, **figures}))


if __name__ == "__main__":
    main()
