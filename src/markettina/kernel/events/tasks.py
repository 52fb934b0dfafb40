"""The relay's jobs: a periodic tick that drains the due events, in a few parallel lanes.

Every ``RELAY_TICK`` a lane-0 job runs; while batches come back full it asks for the
other lanes (each its own queueing lock, so at most one of each waits in the queue) and,
past its time budget, for its own continuation. Lanes meet only through the claim's
SKIP LOCKED, so any number of workers may run them.
"""

from __future__ import annotations

import asyncio
import contextlib

from procrastinate.exceptions import AlreadyEnqueued

from ..db.job_database import job_database
from ..jobs import job_queue
from ..logs import get_logger
from .relay import BATCH_SIZE, RelayReport, relay_batch

log = get_logger(__name__)

RELAY_TICK_CRON = "* * * * * */2"  # croniter's sixth field: every 2 seconds
RELAY_LANES = 2
LANE_BUDGET_SECONDS = 30.0


def _lane_lock(lane: int) -> str:
    return f"relay-events-{lane}"


@job_queue.periodic(cron=RELAY_TICK_CRON, periodic_id="relay-events")
@job_queue.task(name="kernel.relay_events", queue="events", queueing_lock=_lane_lock(0))
async def relay_events(timestamp: int, lane: int = 0) -> dict[str, int]:
    """Hand due events to their handlers until none is left or the lane's budget is spent."""
    sessions = job_database().sessions
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LANE_BUDGET_SECONDS
    total = RelayReport()
    while True:
        report = await relay_batch(sessions, batch_size=BATCH_SIZE)
        total = RelayReport(
            claimed=total.claimed + report.claimed,
            processed=total.processed + report.processed,
            failed=total.failed + report.failed,
        )
        if report.claimed < BATCH_SIZE:
            break
        if lane == 0 and total.claimed == report.claimed:  # the first full batch
            for other in range(1, RELAY_LANES):
                await _request_lane(other)
        if loop.time() >= deadline:
            await _request_lane(lane)  # more is due: carry on in a fresh job
            break
    if total.claimed:
        log.info("events_relayed", lane=lane, **total.__dict__)
    return dict(total.__dict__)


async def _request_lane(lane: int) -> None:
    deferrer = relay_events.configure(queueing_lock=_lane_lock(lane))
    with contextlib.suppress(AlreadyEnqueued):  # that lane is already waiting to run
        await deferrer.defer_async(timestamp=0, lane=lane)
