"""The read lane's pool: at most max_size connections, a waiting checkout served by the
next return, a connection returned inside a transaction rolled back before reuse, a broken
one replaced (also one the server ended, before it is handed out), a checkout waiting at
most its timeout, and nothing handed out once closed."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from psycopg_pool import PoolTimeout

from markettina.kernel.db import lane_pool
from markettina.kernel.db.autocommit import AutocommitPool
from markettina.kernel.db.lane_pool import LanePool
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from tests.support.backends import end_backend


async def test_connections_are_reused_up_to_the_bound(db: DatabaseURLs) -> None:
    pool = LanePool(as_libpq_url(db.app), max_size=2)
    try:
        async with pool.connection() as first:
            pid = first.info.backend_pid
        async with pool.connection() as again:
            assert again.info.backend_pid == pid
        held = [pool.connection() for _ in range(2)]
        connections = [await cm.__aenter__() for cm in held]
        waiting = asyncio.ensure_future(pool.connection().__aenter__())
        await asyncio.sleep(0.05)
        assert not waiting.done()  # a third waits for a return
        await held[0].__aexit__(None, None, None)
        served = await asyncio.wait_for(waiting, 5)
        assert served is connections[0]
        await held[1].__aexit__(None, None, None)
        await pool._give_back(served)
        assert pool.checkouts == 5
    finally:
        await pool.close()


async def test_a_connection_left_in_a_transaction_is_rolled_back(db: DatabaseURLs) -> None:
    pool = LanePool(as_libpq_url(db.app), max_size=1)
    try:
        async with pool.connection() as connection:
            await connection.execute("SELECT set_config('app.current_account_id', 'x', true)")
            assert connection.info.transaction_status == TransactionStatus.INTRANS
        async with pool.connection() as reused:
            assert reused is connection
            assert reused.info.transaction_status == TransactionStatus.IDLE
            row = await (
                await reused.execute("SELECT current_setting('app.current_account_id', true)")
            ).fetchone()
            assert row is not None and row[0] in ("", None)
    finally:
        await pool.close()


async def test_a_broken_connection_is_replaced(db: DatabaseURLs) -> None:
    pool = LanePool(as_libpq_url(db.app), max_size=1)
    try:
        async with pool.connection() as connection:
            await connection.close()
        async with pool.connection() as fresh:
            assert fresh is not connection
            assert (await (await fresh.execute("SELECT 1")).fetchone()) == (1,)
    finally:
        await pool.close()
    with pytest.raises(psycopg.OperationalError):
        async with pool.connection():
            pass


async def test_a_connection_the_server_ended_is_replaced_before_use(db: DatabaseURLs) -> None:
    pool = LanePool(as_libpq_url(db.app), max_size=1)
    try:
        async with pool.connection() as connection:
            ended = connection.info.backend_pid
        end_backend(db, ended)  # as a restart of the server does
        async with pool.connection() as fresh:
            assert fresh.info.backend_pid != ended
            assert (await (await fresh.execute("SELECT 1")).fetchone()) == (1,)
    finally:
        await pool.close()


async def test_the_autocommit_pool_replaces_an_ended_connection(db: DatabaseURLs) -> None:
    pool = AutocommitPool(as_libpq_url(db.app), max_size=1)
    await pool.open()
    try:
        (ended,) = await pool.fetch_one("SELECT pg_backend_pid()", ())
        end_backend(db, ended)
        (fresh,) = await pool.fetch_one("SELECT pg_backend_pid()", ())
        assert fresh != ended
    finally:
        await pool.close()


async def test_a_long_idle_connection_is_pinged_and_kept_when_it_answers(
    db: DatabaseURLs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lane_pool, "PING_AFTER_IDLE_SECONDS", -1.0)  # every one is "long idle"
    pool = LanePool(as_libpq_url(db.app), max_size=1)
    try:
        async with pool.connection() as connection:
            pid = connection.info.backend_pid
        async with pool.connection() as again:
            assert again.info.backend_pid == pid
            # the ping left no transaction behind: the caller's BEGIN is still its own
            assert again.info.transaction_status == TransactionStatus.IDLE
    finally:
        await pool.close()


async def test_a_checkout_waits_at_most_the_timeout(db: DatabaseURLs) -> None:
    pool = LanePool(as_libpq_url(db.app), max_size=1, timeout=0.2)
    try:
        async with pool.connection():
            started = time.monotonic()
            with pytest.raises(PoolTimeout):
                async with pool.connection():
                    pass
            assert time.monotonic() - started < 2
        async with pool.connection() as connection:  # the slot was not lost
            assert (await (await connection.execute("SELECT 1")).fetchone()) == (1,)
    finally:
        await pool.close()
