"""The ORM's pools: a connection the server ended is replaced before it is handed out, and
side work runs on a pool of its own, so a caller holding the last request connection still
gets its side transaction."""

from __future__ import annotations

from sqlalchemy import text

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
