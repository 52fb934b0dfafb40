"""A small pool of autocommit connections beside the request's transaction, for single
statements whose effect must neither wait for the request's commit nor roll back with it
(a rate-limit count, the recorded response of an idempotent request).

Raw psycopg, one round trip per statement: no BEGIN/COMMIT, no ping on checkout (a broken
connection fails its statement once and the pool replaces it).
"""

from __future__ import annotations

from typing import Any

import psycopg_pool


class AutocommitPool:
    def __init__(self, conninfo: str, *, max_size: int) -> None:
        self._pool = psycopg_pool.AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            open=False,
            kwargs={"autocommit": True},
            name="autocommit",
        )

    async def open(self) -> None:
        await self._pool.open()

    async def close(self) -> None:
        await self._pool.close()

    async def fetch_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        """The one row of one statement (prepared after a few runs, by psycopg)."""
        async with self._pool.connection() as connection:
            cursor = await connection.execute(sql, params)
            row = await cursor.fetchone()
        assert row is not None, "the statement returned no row"
        return row
