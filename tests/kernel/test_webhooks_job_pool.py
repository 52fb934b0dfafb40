"""The job queue's connection pool, which a webhook worker takes a connection from twice
per delivery (to fetch the job and to finish it): a connection back from work within the
last second is handed out again unchecked, an idle one is checked first, and one the
server dropped while idle is replaced, never handed out."""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg_pool
import pytest

from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The backend pids of the connections the pool checked, in order."""
    seen: list[int] = []
    check = psycopg_pool.AsyncConnectionPool.check_connection

    async def counting(connection: psycopg.AsyncConnection[Any]) -> None:
        seen.append(connection.info.backend_pid)
        await check(connection)

    monkeypatch.setattr(psycopg_pool.AsyncConnectionPool, "check_connection", counting)
    return seen


async def backend_pid(pool: psycopg_pool.AsyncConnectionPool) -> int:
    async with pool.connection() as connection:
        row = await (await connection.execute("SELECT pg_backend_pid()")).fetchone()
        assert row is not None
        return int(row[0])


async def test_a_busy_connection_is_not_checked_an_idle_one_is(
    db: DatabaseURLs, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await jobs.open_job_queue(as_libpq_url(db.app), max_size=1)
    try:
        first = await backend_pid(pool)
        checked.clear()  # opening the pool may have checked it: not what this is about
        assert await backend_pid(pool) == first
        assert checked == []  # back from work a moment ago
        monkeypatch.setattr(jobs, "CHECK_IDLE_AFTER_SECONDS", 0.0)
        assert await backend_pid(pool) == first
        assert checked == [first]
    finally:
        await jobs.close_job_queue(pool)


async def test_a_connection_dropped_while_idle_is_replaced(
    db: DatabaseURLs, checked: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await jobs.open_job_queue(as_libpq_url(db.app), max_size=1)
    try:
        first = await backend_pid(pool)
        with bootstrap.connect(db.admin) as admin:  # the server ends it, as a restart would
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (first,))
        monkeypatch.setattr(jobs, "CHECK_IDLE_AFTER_SECONDS", 0.0)
        second = await backend_pid(pool)
        assert second != first and first in checked
    finally:
        await jobs.close_job_queue(pool)
