"""A lean pool of psycopg connections for the read lane's short transactions.

psycopg_pool's pool does much per checkout (statistics, logging, locks, a check and a
reset of every returned connection) that a statement or two of a plain read does not need
and pays for on every request. This one keeps idle connections in a list: a checkout pops
one (or opens one while fewer than ``max_size`` exist, else waits for a return), a return
puts it back if it is idle and healthy, and closes it otherwise. The caller ends its own
transaction; a connection returned inside one is rolled back first (never reused dirty).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus


class LanePool:
    def __init__(self, conninfo: str, *, max_size: int) -> None:
        self._conninfo = conninfo
        self._max_size = max_size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._open = 0  # connections that exist: idle, in use, or being opened
        self._returned = asyncio.Condition()
        self._closed = False
        self.checkouts = 0  # connections handed out since the start

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        connection = await self._take()
        try:
            yield connection
        finally:
            await self._give_back(connection)

    async def _take(self) -> psycopg.AsyncConnection[Any]:
        self.checkouts += 1
        while True:
            if self._closed:
                raise psycopg.OperationalError("the read lane's pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._max_size:
                self._open += 1
                try:
                    return await psycopg.AsyncConnection.connect(self._conninfo)
                except BaseException:
                    self._open -= 1
                    raise
            async with self._returned:
                await self._returned.wait()

    async def _give_back(self, connection: psycopg.AsyncConnection[Any]) -> None:
        status = connection.info.transaction_status
        if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
            with suppress(psycopg.Error):  # a broken one is closed below
                await connection.rollback()
            status = connection.info.transaction_status
        if connection.closed or status != TransactionStatus.IDLE or self._closed:
            self._open -= 1
            await connection.close()
        else:
            self._idle.append(connection)
        async with self._returned:
            self._returned.notify()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            await connection.close()
        async with self._returned:
            self._returned.notify_all()
