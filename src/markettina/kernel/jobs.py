"""The job queue (Procrastinate on the service's own PostgreSQL) and the one way to defer.

Jobs are deferred on the caller's own connection and transaction: a request that rolls
back leaves no job behind, and one that commits never loses its job.
"""

from __future__ import annotations

import time
from typing import Any
from weakref import WeakKeyDictionary

import procrastinate
import psycopg
import psycopg_pool
from procrastinate.tasks import Task
from sqlalchemy.ext.asyncio import AsyncSession

from .db.raw import driver_connection

job_queue = procrastinate.App(connector=procrastinate.PsycopgConnector())

# cross-tenant maintenance runs as the owner (it must see every account); the worker sets
# the owner's connection string at start-up
_maintenance_conninfo: str | None = None

STALLED_AFTER_SECONDS = 60  # a job in 'doing' whose worker stopped heart-beating this long
FINISHED_JOBS_KEPT_HOURS = 24 * 7
EVENT_MONTHS_AHEAD = 3


CHECK_IDLE_AFTER_SECONDS = 1.0
_last_returned: WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = WeakKeyDictionary()


async def _note_return(connection: psycopg.AsyncConnection[Any]) -> None:
    _last_returned[connection] = time.monotonic()


async def _check_if_idle(connection: psycopg.AsyncConnection[Any]) -> None:
    """Check a connection that sat idle (the server may have dropped it meanwhile); one
    back from work within the last second is not (a worker takes one per job fetched and
    per job finished, and a check is a round trip each time)."""
    returned = _last_returned.get(connection)
    if returned is None or time.monotonic() - returned > CHECK_IDLE_AFTER_SECONDS:
        await psycopg_pool.AsyncConnectionPool.check_connection(connection)


async def open_job_queue(conninfo: str, *, max_size: int = 4) -> psycopg_pool.AsyncConnectionPool:
    """Open the queue on its own pool (the caller closes the returned pool at shutdown)."""
    pool = psycopg_pool.AsyncConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        open=False,
        check=_check_if_idle,
        reset=_note_return,
    )
    await pool.open(wait=True, timeout=30)
    # a fresh connector per opening: procrastinate keeps an external pool after closing,
    # so reopening the same connector would reuse the closed pool
    connector = procrastinate.PsycopgConnector()
    job_queue.connector = connector
    job_queue.job_manager.connector = connector
    await job_queue.open_async(pool)
    return pool


def configure_maintenance(owner_conninfo: str) -> None:
    global _maintenance_conninfo
    _maintenance_conninfo = owner_conninfo


async def maintenance_connection() -> psycopg.AsyncConnection[Any]:
    """An autocommit connection as the schema owner, for the named maintenance functions."""
    if _maintenance_conninfo is None:
        raise RuntimeError("maintenance jobs need configure_maintenance(owner_conninfo) first")
    return await psycopg.AsyncConnection.connect(_maintenance_conninfo, autocommit=True)


async def close_job_queue(pool: psycopg_pool.AsyncConnectionPool) -> None:
    await job_queue.close_async()
    await pool.close()


async def defer_in_transaction(
    session: AsyncSession,
    task: Task[Any, Any, Any],
    *,
    options: dict[str, Any] | None = None,
    **task_kwargs: Any,
) -> int:
    """Defer ``task`` on the session's transaction; the job exists only if that commits."""
    connection = await driver_connection(session)
    deferrer = task.configure(connection=connection, **(options or {}))
    return await deferrer.defer_async(**task_kwargs)


@job_queue.periodic(cron="* * * * *", periodic_id="retry-stalled-jobs")
@job_queue.task(name="kernel.retry_stalled_jobs", queue="maintenance", queueing_lock="stalled")
async def retry_stalled_jobs(timestamp: int) -> int:
    """Put back in the queue the jobs of workers that died mid-job (e.g. SIGKILL)."""
    manager = job_queue.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    count = 0
    for job in stalled:
        await manager.retry_job(job)
        count += 1
    return count


@job_queue.periodic(cron="17 3 * * *", periodic_id="prune-finished-jobs")
@job_queue.task(name="kernel.prune_finished_jobs", queue="maintenance", queueing_lock="prune")
async def prune_finished_jobs(timestamp: int) -> None:
    """Keep the queue table small: forget jobs that succeeded more than a week ago."""
    await job_queue.job_manager.delete_old_jobs(nb_hours=FINISHED_JOBS_KEPT_HOURS)


@job_queue.periodic(cron="7 2 * * *", periodic_id="maintain-event-partitions")
@job_queue.task(
    name="kernel.maintain_event_partitions", queue="maintenance", queueing_lock="events"
)
async def maintain_event_partitions(timestamp: int) -> dict[str, list[str]]:
    """Keep this month and the next three partitioned; drop processed months past retention."""
    from markettina.settings import get_settings

    retention = get_settings().event_retention_months
    async with await maintenance_connection() as conn:
        created = await conn.execute(
            "SELECT * FROM ensure_domain_event_partitions(%s)", (EVENT_MONTHS_AHEAD,)
        )
        created_names = [str(row[0]) for row in await created.fetchall()]
        dropped = await conn.execute(
            "SELECT * FROM drop_expired_domain_event_partitions(%s)", (retention,)
        )
        return {"created": created_names, "dropped": [str(r[0]) for r in await dropped.fetchall()]}


@job_queue.periodic(cron="37 2 * * *", periodic_id="purge-idempotency-keys")
@job_queue.task(name="kernel.purge_idempotency_keys", queue="maintenance", queueing_lock="idem")
async def purge_idempotency_keys(timestamp: int) -> int:
    """Idempotency keys are kept 24 hours."""
    async with await maintenance_connection() as conn:
        row = await (await conn.execute("SELECT purge_expired_idempotency_keys()")).fetchone()
        return int(row[0]) if row else 0


@job_queue.periodic(cron="41 2 * * *", periodic_id="purge-address-rate-limits")
@job_queue.task(
    name="kernel.purge_address_rate_limits", queue="maintenance", queueing_lock="addresses"
)
async def purge_address_rate_limits(timestamp: int) -> int:
    """Counts of client addresses not seen for a day."""
    async with await maintenance_connection() as conn:
        row = await (await conn.execute("SELECT purge_idle_address_rate_limits()")).fetchone()
        return int(row[0]) if row else 0
