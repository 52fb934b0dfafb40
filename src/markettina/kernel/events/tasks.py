"""The relay's jobs: a periodic tick that drains the due events, in a few parallel lanes.

Every ``RELAY_TICK_CRON`` a lane-0 job is queued. A lane runs only while its job holds
the lane's advisory lock (a session lock: a worker killed mid-lane frees it with its
connection), so at most ``RELAY_LANES`` relays run across all workers, however many
ticks pile up, and the job slots stay free for other work. While batches come back full,
lane 0 asks for the other lanes, and a lane past its time budget asks for its own
continuation. Lanes meet only through the claim's SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text

from ..db.engine import Database
from ..db.job_database import job_database
from ..jobs import job_queue
from ..logs import get_logger
from .relay import BATCH_SIZE, RelayReport, relay_batch

log = get_logger(__name__)

RELAY_TICK_CRON = "* * * * * */2"  # croniter's sixth field: every 2 seconds
RELAY_LANES = 2
LANE_BUDGET_SECONDS = 30.0
_LANE_LOCK = text("SELECT pg_try_advisory_lock(hashtext('markettina.event_relay'), :lane)")
_LANE_UNLOCK = text("SELECT pg_advisory_unlock(hashtext('markettina.event_relay'), :lane)")


def _queueing_lock(lane: int) -> str:
    return f"relay-events-{lane}"


@job_queue.periodic(cron=RELAY_TICK_CRON, periodic_id="relay-events")
@job_queue.task(name="kernel.relay_events", queue="events", queueing_lock=_queueing_lock(0))
async def relay_events(timestamp: int, lane: int = 0) -> dict[str, int]:
    """Hand due events to their handlers until none is left or the lane's budget is spent
    (nothing, if another job already runs this lane)."""
    database = job_database()
    async with _holding_lane(database, lane) as held:
        if not held:
            return {"lane_busy": 1}
        total = await _run_lane(database, lane)
    if total.claimed:
        log.info("events_relayed", lane=lane, **total.__dict__)
    return dict(total.__dict__)


async def _run_lane(database: Database, lane: int) -> RelayReport:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LANE_BUDGET_SECONDS
    total = RelayReport()
    while True:
        report = await relay_batch(database.sessions, batch_size=BATCH_SIZE)
        total = RelayReport(
            claimed=total.claimed + report.claimed,
            processed=total.processed + report.processed,
            failed=total.failed + report.failed,
        )
        if report.claimed < BATCH_SIZE:
            return total
        if lane == 0 and total.claimed == report.claimed:  # the first full batch
            for other in range(1, RELAY_LANES):
                await _request_lane(other)
        if loop.time() >= deadline:
            await _request_lane(lane)  # more is due: carry on in a fresh job
            return total


@contextlib.asynccontextmanager
async def _holding_lane(database: Database, lane: int) -> AsyncIterator[bool]:
    async with database.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool((await connection.execute(_LANE_LOCK, {"lane": lane})).scalar_one())
        try:
            yield held
        finally:
            if held:
                await connection.execute(_LANE_UNLOCK, {"lane": lane})


async def _request_lane(lane: int) -> None:
    deferrer = relay_events.configure(queueing_lock=_queueing_lock(lane))
    with contextlib.suppress(AlreadyEnqueued):  # that lane is already waiting to run
        await deferrer.defer_async(timestamp=0, lane=lane)
