"""The ORM's pools: a connection the server ended is replaced before it is handed out, a
long-idle one is pinged first, and side work runs on a pool of its own, so a caller holding
the last request connection still gets its side transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from markettina.kernel.db import engine
from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import side_transaction
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.backends import end_backend


async def test_a_connection_the_server_ended_is_replaced(db: DatabaseURLs) -> None:
    database = open_database(db.app, pool_size=1, max_overflow=0)
    try:
        async with database.sessions() as session:
            ended = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        end_backend(db, ended)
        async with database.sessions() as session:
            fresh = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert fresh != ended
    finally:
        await database.dispose()


async def test_side_work_never_waits_for_the_request_pool(db: DatabaseURLs) -> None:
    database = open_database(db.app, pool_size=1, max_overflow=0, timeout=1.0)
    try:
        async with database.sessions() as session, session.begin():
            mine = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with side_transaction(session) as side:  # the request pool is empty now
                beside = (await side.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert beside != mine
    finally:
        await database.dispose()


async def test_a_long_idle_connection_is_pinged_and_kept_when_it_answers(
    db: DatabaseURLs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PING_AFTER_IDLE_SECONDS", -1.0)  # every one is "long idle"
    pings: list[Any] = []
    database = open_database(db.app, pool_size=1, max_overflow=0)
    dialect = database.engine.sync_engine.dialect
    real_ping = dialect.do_ping

    def ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)  # a real round trip, from inside the pool's event

    monkeypatch.setattr(dialect, "do_ping", ping)
    try:
        pids = []
        for _ in range(2):
            async with database.sessions() as session:
                pids.append((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        assert pids[0] == pids[1] and len(pings) == 1  # a new connection is not pinged
    finally:
        await database.dispose()
