"""A lean pool of psycopg connections for short transactions and single statements: the
read lane's, and the autocommit statements beside a request's transaction.

psycopg_pool's pool does much per checkout (statistics, logging, locks, a check and a
reset of every returned connection) that a statement or two of a plain read does not need
and pays for on every request. This one keeps idle connections in a list: a checkout takes
one of at most ``max_size`` slots (waiting at most ``timeout`` seconds for a return), then
pops an idle connection or opens one; a return puts it back if it is idle and healthy, and
closes it otherwise. The caller ends its own transaction; a connection returned inside one
is rolled back first (never reused dirty).

An idle connection whose server ended it (a restart, ``pg_terminate_backend``) is noticed
before it is handed out, without a round trip (``liveness.is_gone``), and replaced; one
idle for long is pinged first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .liveness import PING_AFTER_IDLE_SECONDS, is_gone

DEFAULT_TIMEOUT = 30.0  # seconds a checkout waits for a free connection


class LanePool:
    def __init__(
        self,
        conninfo: str,
        *,
        max_size: int,
        timeout: float = DEFAULT_TIMEOUT,
        autocommit: bool = False,
    ) -> None:
        self._conninfo = conninfo
        self._timeout = timeout
        self._autocommit = autocommit
        self._slots = asyncio.Semaphore(max_size)  # connections handed out or being opened
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []  # and returned at
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
        if self._closed:
            raise psycopg.OperationalError("the pool is closed")
        await self._take_slot()
        try:
            if self._closed:
                raise psycopg.OperationalError("the pool is closed")
            while self._idle:
                connection, returned_at = self._idle.pop()
                if await _usable(connection, idle=time.monotonic() - returned_at):
                    return connection
                await _close(connection)
            return await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=self._autocommit
            )
        except BaseException:
            self._slots.release()
            raise

    async def _take_slot(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimeout(f"no free connection after {self._timeout:g} s") from None

    async def _give_back(self, connection: psycopg.AsyncConnection[Any]) -> None:
        try:
            status = connection.info.transaction_status
            if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                with suppress(psycopg.Error):  # a broken one is closed below
                    await connection.rollback()
                status = connection.info.transaction_status
            if connection.closed or status != TransactionStatus.IDLE or self._closed:
                await _close(connection)
            else:
                self._idle.append((connection, time.monotonic()))
        finally:
            self._slots.release()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await _close(connection)


async def _usable(connection: psycopg.AsyncConnection[Any], *, idle: float) -> bool:
    if is_gone(connection):
        return False
    if idle <= PING_AFTER_IDLE_SECONDS:
        return True
    try:
        await AsyncConnectionPool.check_connection(connection)  # an empty statement
    except psycopg.Error:
        return False
    return True


async def _close(connection: psycopg.AsyncConnection[Any]) -> None:
    with suppress(psycopg.Error, OSError):
        await connection.close()
