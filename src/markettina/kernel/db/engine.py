"""One async engine and one session factory per process, connected as markettina_app, and a
small engine of its own for side work (``side_transaction``), so that work done beside a
request's transaction never waits for, nor takes, a connection requests need."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from .liveness import PING_AFTER_IDLE_SECONDS, is_gone

SIDE_SESSIONS = "markettina.side_sessions"  # Session.info key: the side engine's sessions
DEFAULT_TIMEOUT = 30.0  # seconds a request waits for a free connection


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    side_engine: AsyncEngine

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.side_engine.dispose()


def open_database(
    url: URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    timeout: float = DEFAULT_TIMEOUT,
    side_pool_size: int = 2,
) -> Database:
    """Sessions on a pool of ``pool_size`` (+ ``max_overflow``) connections; the side work of
    their requests on ``side_pool_size`` connections of its own (it is one short statement
    or two, so a few serve any number of requests)."""
    engine = _engine(url, pool_size=pool_size, max_overflow=max_overflow, timeout=timeout)
    side_engine = _engine(url, pool_size=side_pool_size, max_overflow=0, timeout=timeout)
    side_sessions = async_sessionmaker(side_engine, expire_on_commit=False)
    sessions = async_sessionmaker(
        engine, expire_on_commit=False, info={SIDE_SESSIONS: side_sessions}
    )
    return Database(engine=engine, sessions=sessions, side_engine=side_engine)


def _engine(url: URL, *, pool_size: int, max_overflow: int, timeout: float) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=timeout,
        pool_recycle=1800,
    )
    _hand_out_live_connections(engine)
    return engine


def _hand_out_live_connections(engine: AsyncEngine) -> None:
    """A connection the server ended is replaced before it is handed out: seen without a
    round trip (``liveness.is_gone``), or by a ping after a long idle spell. The pool's
    own pre-ping would cost a round trip on every checkout, i.e. on every request."""
    pool_events = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool_events, "checkin")
    def returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(pool_events, "checkout")
    def check(dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection) -> None:
        if is_gone(dbapi_connection.driver_connection):
            raise DisconnectionError("the server ended this connection")
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at > PING_AFTER_IDLE_SECONDS:
            try:
                dialect.do_ping(dbapi_connection)
            except Exception as exc:  # any failure: replace the connection
                raise DisconnectionError("the idle connection did not answer") from exc
