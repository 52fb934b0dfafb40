"""The benchmark's trivial event handler, loaded into its workers through
MARKETTINA_EXTRA_TASK_MODULES (bench/ on PYTHONPATH)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import StoredEvent, event_handler


@event_handler("bench.noop", "bench.*")
async def noop(session: AsyncSession, event: StoredEvent) -> None:
    return None
