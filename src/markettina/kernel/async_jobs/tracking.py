"""The task side of pollable jobs: a ``tracked_task`` moves its ``async_jobs`` row from
pending to running, reports progress, and ends it succeeded (with the result) or failed.

    @tracked_task(name="content.export")
    async def export(job: TrackedJob) -> dict[str, Any]:
        ...
        await job.progress(50)
        return {"rows": 1200}

Each change is a short transaction of its own, so pollers see it at once. A failure is
retried with exponential backoff while the row's ``retry_count`` is below ``max_retries``
(the row is pending meanwhile, so it can still be cancelled); then the row is failed. A run
that finds its row cancelled or finished does nothing: a cancelled job never runs, and a run
repeated after a worker died does not redo finished work.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from procrastinate import BaseRetryStrategy, JobContext, PsycopgConnector, RetryDecision
from procrastinate.jobs import Job
from procrastinate.tasks import Task
from psycopg.types.json import Jsonb

from ..db.tenant import enter_tenant
from ..jobs import job_queue
from ..logs import get_logger

DEFAULT_QUEUE = "jobs"
DEFAULT_RETRY_DELAY_SECONDS = 10  # then 20, 40, ...
MAX_ERROR_MESSAGE = 1000

log = get_logger(__name__)

_tracked: set[str] = set()

Work = Callable[["TrackedJob"], Awaitable[dict[str, Any] | None]]


class JobFailed(Exception):
    """Raise from a tracked job for a failure the account may read about (its message is
    shown); any other exception is reported as an unexpected failure, without details."""


class JobCancelled(Exception):
    """The job's row is no longer running: the work stops where it is."""


class _AttemptFailed(Exception):
    def __init__(self, delay_seconds: int) -> None:
        super().__init__(f"retry in {delay_seconds} s")
        self.delay_seconds = delay_seconds


class TrackedRetry(BaseRetryStrategy):
    """The row's ``max_retries`` decides; the queue only schedules what tracking asks for."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, _AttemptFailed):
            return RetryDecision(retry_in={"seconds": exception.delay_seconds})
        return None


@dataclass(frozen=True)
class TrackedJob:
    """The running job, as its work sees it."""

    id: uuid.UUID
    account_id: uuid.UUID
    job_type: str
    input: dict[str, Any]
    attempt: int  # 0 for the first run

    async def progress(self, percent: int) -> None:
        """Record progress (0..100); raises JobCancelled if the job stopped running."""
        if not 0 <= percent <= 100:
            raise ValueError("progress is a percentage, 0..100")
        changed = await _execute(
            self.account_id,
            "UPDATE async_jobs SET progress_percent = %s "
            "WHERE account_id = %s AND id = %s AND status = 'running' RETURNING id",
            (percent, self.account_id, self.id),
        )
        if changed is None:
            raise JobCancelled


def tracked_task(
    *,
    name: str,
    queue: str = DEFAULT_QUEUE,
    retry_delay_seconds: int = DEFAULT_RETRY_DELAY_SECONDS,
) -> Callable[[Work], Task[Any, Any, Any]]:
    """Register ``work`` on the job queue as a task ``start_job`` can start."""

    def register(work: Work) -> Task[Any, Any, Any]:
        async def run(context: JobContext, async_job_id: str, account_id: str) -> None:
            await _run(work, context, uuid.UUID(async_job_id), uuid.UUID(account_id),
                       retry_delay_seconds)  # fmt: skip

        run.__name__, run.__doc__ = work.__name__, work.__doc__
        task = job_queue.task(name=name, queue=queue, pass_context=True, retry=TrackedRetry())(run)
        _tracked.add(name)
        return task

    return register


def is_tracked(task: Task[Any, Any, Any]) -> bool:
    return task.name in _tracked


async def _run(
    work: Work,
    context: JobContext,
    job_id: uuid.UUID,
    account_id: uuid.UUID,
    retry_delay_seconds: int,
) -> None:
    assert context.job is not None
    attempt = context.job.attempts
    row = await _execute(
        account_id,
        "UPDATE async_jobs SET status = 'running', started_at = coalesce(started_at, now()), "
        "retry_count = %s WHERE account_id = %s AND id = %s "
        "AND status IN ('pending', 'running') RETURNING job_type, input_data, max_retries",
        (attempt, account_id, job_id),
    )
    if row is None:
        log.info("tracked_job_skipped", job_id=str(job_id))  # cancelled, or already finished
        return
    job_type, input_data, max_retries = row
    job = TrackedJob(id=job_id, account_id=account_id, job_type=job_type, input=input_data,
                     attempt=attempt)  # fmt: skip
    try:
        result = await work(job)
    except JobCancelled:
        log.info("tracked_job_cancelled", job_id=str(job_id))
        return
    except Exception as exc:
        message = str(exc)[:MAX_ERROR_MESSAGE] if isinstance(exc, JobFailed) else None
        log.warning("tracked_job_failed", job_id=str(job_id), attempt=attempt, exc_info=True)
        if attempt < max_retries:
            await _end(account_id, job_id, status="pending", error=message or _UNEXPECTED)
            raise _AttemptFailed(retry_delay_seconds * 2**attempt) from exc
        await _end(account_id, job_id, status="failed", error=message or _UNEXPECTED)
        raise
    await _end(account_id, job_id, status="succeeded", result=result or {})


_UNEXPECTED = "the job failed unexpectedly"


async def _end(
    account_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    status: str,
    error: str | None = None,
    result: dict[str, Any] | None = None,
) -> None:
    finished = status in ("succeeded", "failed")
    await _execute(
        account_id,
        "UPDATE async_jobs SET status = %s, error_message = %s, result_data = %s, "
        "progress_percent = CASE WHEN %s = 'succeeded' THEN 100 ELSE progress_percent END, "
        "completed_at = CASE WHEN %s THEN now() END "
        "WHERE account_id = %s AND id = %s AND status = 'running' RETURNING id",
        (status, error, None if result is None else Jsonb(result), status, finished,
         account_id, job_id),
    )  # fmt: skip


async def _execute(account_id: uuid.UUID, query: Any, params: tuple[Any, ...]) -> Any:
    """One statement in a short transaction of its own, scoped to the account, on the job
    queue's connection pool (markettina_app in the worker). Returns the first row or None."""
    connector = job_queue.connector
    assert isinstance(connector, PsycopgConnector)
    connection: psycopg.AsyncConnection[Any]
    async with connector.pool.connection() as connection, connection.transaction():
        await enter_tenant(connection, account_id)
        cursor = await connection.execute(query, params)
        return await cursor.fetchone()
