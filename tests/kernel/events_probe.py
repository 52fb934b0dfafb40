"""Event handlers a test worker loads (MARKETTINA_EXTRA_TASK_MODULES): each ``probe.sent``
is answered by a ``probe.handled`` event written in the relay's transaction (a database
effect: exactly once if relaying is atomic) and a line in a file (an outside effect: at
least once)."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import Event, StoredEvent, event_handler, record

PROBE_LOG = "EVENTS_PROBE_LOG"  # a file the outside effect is appended to
PROBE_DELAY = "EVENTS_PROBE_DELAY"  # seconds each handling takes


class ProbeSent(Event):
    event_type: ClassVar[str] = "probe.sent"
    aggregate_type: ClassVar[str] = "probe"
    n: int = 0


class ProbeHandled(Event):
    event_type: ClassVar[str] = "probe.handled"
    aggregate_type: ClassVar[str] = "probe"
    of: uuid.UUID


@event_handler("tests.probe.answer", "probe.sent")
async def answer(session: AsyncSession, event: StoredEvent) -> None:
    delay = float(os.environ.get(PROBE_DELAY, "0"))
    if delay:
        await asyncio.sleep(delay)
    await record(
        session, ProbeHandled(of=event.id), account_id=event.account_id, aggregate_id=event.id
    )
    path = os.environ.get(PROBE_LOG)
    if path:
        with open(path, "a", encoding="utf-8") as log:  # noqa: ASYNC230 - a test probe
            log.write(f"{event.id}\n")
