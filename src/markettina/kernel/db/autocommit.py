"""A small pool of autocommit connections beside the request's transaction, for single
statements whose effect must neither wait for the request's commit nor roll back with it
(a rate-limit count, the recorded response of an idempotent request).

Raw psycopg, one round trip per statement: no BEGIN/COMMIT, no ping on checkout. The lean
pool of the read lane holds the connections, so one the server ended (a restart) is
replaced before a statement is sent on it.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import psycopg

from .lane_pool import DEFAULT_TIMEOUT, LanePool


class AutocommitPool:
    def __init__(self, conninfo: str, *, max_size: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._pool = LanePool(conninfo, max_size=max_size, timeout=timeout, autocommit=True)

    async def open(self) -> None:
        """Open the first connection now, so the first request does not wait for it; a
        server that does not answer yet is not an error here (``/readyz`` reports it)."""
        with suppress(psycopg.OperationalError):
            async with self._pool.connection():
                pass

    async def close(self) -> None:
        await self._pool.close()

    async def fetch_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        """The one row of one statement (prepared after a few runs, by psycopg)."""
        async with self._pool.connection() as connection:
            cursor = await connection.execute(sql, params)
            row: tuple[Any, ...] | None = await cursor.fetchone()
        assert row is not None, "the statement returned no row"
        return row
