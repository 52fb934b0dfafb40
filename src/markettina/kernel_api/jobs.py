"""Async jobs over HTTP: an account polls its background work and cancels what has not
started."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from markettina.identity.public import ROWS_IN_PYTHON, Actor, Transaction, not_plain, require
from markettina.kernel import async_jobs
from markettina.kernel.pagination import Cursor, Limit, Page

router = APIRouter(prefix="/jobs", tags=["jobs"])

JobsRead = Annotated[Actor, require("jobs:read")]
JobsManage = Annotated[Actor, require("jobs:manage")]
Status = Literal["pending", "running", "succeeded", "failed", "cancelled"]


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    job_type: str
    status: Status
    progress_percent: int = Field(description="0..100, as the job last reported it.")
    priority: int
    input_data: dict[str, Any]
    result_data: dict[str, Any] | None = Field(description="Set when the job succeeded.")
    error_message: str | None = Field(
        description="Why the last run failed (a pending job with one will be retried)."
    )
    retry_count: int
    max_retries: int
    created_by: int | None
    created_at: dt.datetime
    scheduled_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None


@router.get("", response_model=Page[JobOut], summary="The account's jobs, newest first")
@not_plain(ROWS_IN_PYTHON)
async def list_jobs(
    actor: JobsRead,
    session: Transaction,
    status: Annotated[Status | None, Query()] = None,
    job_type: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[JobOut]:
    page = await async_jobs.list_jobs(
        session, account_id=actor.account_id, status=status, job_type=job_type, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return Page[JobOut](
        items=[JobOut.model_validate(job) for job in page.items], next_cursor=page.next_cursor
    )


@router.get("/{job_id}", response_model=JobOut, summary="One job: status, progress, result")
async def read_job(job_id: uuid.UUID, actor: JobsRead, session: Transaction) -> JobOut:
    job = await async_jobs.get_job(session, account_id=actor.account_id, job_id=job_id)
    return JobOut.model_validate(job)


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    summary="Cancel a pending job (409 `job_not_pending` once it runs or has ended)",
)
async def cancel_job(job_id: uuid.UUID, actor: JobsManage, session: Transaction) -> JobOut:
    job = await async_jobs.cancel_job(session, account_id=actor.account_id, job_id=job_id)
    return JobOut.model_validate(job)
