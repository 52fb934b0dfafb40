"""Pollable background work: the ``async_jobs`` row an account sees, started together with
the job queue's job that runs it, in the caller's transaction.

    job_id = await start_job(session, account_id=..., job_type="export", task=export_task,
                             input_data={"format": "csv"}, created_by=user_id)

``task`` is a ``tracked_task`` (see ``tracking``); it gets the row's id and moves the row
through running to succeeded or failed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from procrastinate.tasks import Task
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.keyset import newest_first
from ..db.raw import driver_connection
from ..errors import Conflict, NotFound
from ..jobs import defer_in_transaction, job_queue
from ..models import AsyncJob
from ..pagination import Page, page_of
from .tracking import is_tracked

STATUSES = ("pending", "running", "succeeded", "failed", "cancelled")
DEFAULT_PRIORITY = 5  # 1..10, higher runs sooner
DEFAULT_MAX_RETRIES = 3


async def start_job(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    job_type: str,
    task: Task[Any, Any, Any],
    input_data: dict[str, Any],
    created_by: int | None = None,
    priority: int = DEFAULT_PRIORITY,
    max_retries: int = DEFAULT_MAX_RETRIES,
    schedule_at: dt.datetime | None = None,
) -> uuid.UUID:
    """Record the job and defer ``task`` for it; both exist only if the caller commits.
    The session must be scoped to ``account_id``."""
    if not is_tracked(task):
        raise ValueError(f"{task.name} is not a tracked task (declare it with tracked_task)")
    job_id = uuid.uuid4()
    options: dict[str, Any] = {"priority": priority}
    if schedule_at is not None:
        options["schedule_at"] = schedule_at
    queue_job_id = await defer_in_transaction(
        session, task, options=options, async_job_id=str(job_id), account_id=str(account_id)
    )
    await session.execute(
        insert(AsyncJob).values(
            account_id=account_id, id=job_id, job_type=job_type, input_data=input_data,
            priority=priority, max_retries=max_retries, scheduled_at=schedule_at,
            created_by=created_by, queue_job_id=queue_job_id,
        )
    )  # fmt: skip
    return job_id


async def get_job(session: AsyncSession, *, account_id: uuid.UUID, job_id: uuid.UUID) -> AsyncJob:
    job = await session.scalar(
        select(AsyncJob).where(AsyncJob.account_id == account_id, AsyncJob.id == job_id)
    )
    if job is None:
        raise NotFound("no such job", code="job_not_found")
    return job


async def list_jobs(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    status: str | None,
    job_type: str | None,
    limit: int,
    cursor: str | None,
) -> Page[AsyncJob]:
    """Newest first."""
    statement = select(AsyncJob).where(AsyncJob.account_id == account_id)
    if status is not None:
        statement = statement.where(AsyncJob.status == status)
    if job_type is not None:
        statement = statement.where(AsyncJob.job_type == job_type)
    statement = newest_first(
        statement, at=AsyncJob.created_at, id_=AsyncJob.id, limit=limit, cursor=cursor
    )
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda job: (job.created_at.isoformat(), job.id))


async def cancel_job(
    session: AsyncSession, *, account_id: uuid.UUID, job_id: uuid.UUID
) -> AsyncJob:
    """A pending job becomes cancelled and its queued run is withdrawn; a job already
    running or finished is a 409 ``job_not_pending``."""
    job = (
        await session.execute(
            update(AsyncJob)
            .where(
                AsyncJob.account_id == account_id,
                AsyncJob.id == job_id,
                AsyncJob.status == "pending",
            )
            .values(status="cancelled", completed_at=func.now())
            .returning(AsyncJob)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if job is None:
        current = await get_job(session, account_id=account_id, job_id=job_id)
        raise Conflict(
            f"the job is {current.status}; only a pending job can be cancelled",
            code="job_not_pending",
        )
    if job.queue_job_id is not None:
        # a run a worker already took finds the row cancelled and stops (tracking.begin)
        await job_queue.job_manager.cancel_job_by_id_async(
            job.queue_job_id, connection=await driver_connection(session)
        )
    return job
