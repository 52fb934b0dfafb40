"""Every API and worker process listens for flag changes on a connection of its own and
drops its flag cache when one is committed anywhere. A lost connection is reopened (the
cache is dropped again then, for the changes made meanwhile); the cache's TTL covers the rest.
"""

from __future__ import annotations

import asyncio
import contextlib

import psycopg

from ..logs import get_logger
from .cache import FlagCache, flag_cache

CHANNEL = "markettina_feature_flags"  # the feature_flags trigger's NOTIFY (migration 0011)
RECONNECT_SECONDS = 1.0

log = get_logger(__name__)


class FlagChangeListener:
    def __init__(
        self,
        conninfo: str,
        *,
        cache: FlagCache = flag_cache,
        reconnect_seconds: float = RECONNECT_SECONDS,
    ) -> None:
        self._conninfo = conninfo
        self._cache = cache
        self._reconnect_seconds = reconnect_seconds
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        self.backend_pid: int | None = None

    async def start(self, *, wait_seconds: float = 5.0) -> None:
        """Start listening; waits a little for the first connection, never fails on it."""
        self._task = asyncio.create_task(self._run(), name="feature-flag-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), wait_seconds)

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as exc:
                log.warning("feature_flag_listener_lost", error=str(exc))
            self.listening.clear()
            self.backend_pid = None
            await asyncio.sleep(self._reconnect_seconds)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=10, keepalives=1, keepalives_idle=30
        ) as connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = connection.info.backend_pid
            self._cache.clear()  # whatever changed while nobody listened
            self.listening.set()
            log.info("feature_flag_listener_listening", backend_pid=self.backend_pid)
            async for _ in connection.notifies():
                self._cache.clear()
