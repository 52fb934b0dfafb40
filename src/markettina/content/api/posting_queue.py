"""HTTP routes of the posting queue: a social account's weekly slots, its upcoming slots,
and adding a post to the queue."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from markettina.identity.public import Actor, Transaction, require
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.openapi import problems

from .. import post_queueing, posting_queues
from ..models import PostingQueue
from ..queue_slots import WeeklySlot
from ..schemas.posts import ScheduledPostOut
from ..schemas.queue import (
    PostingQueueOut,
    PostingQueuePut,
    QueuePostIn,
    SlotOut,
    UpcomingSlotOut,
)
from .posts import PostId, post_out

router = APIRouter(prefix="/posting-queues", tags=["content"])
posts_router = APIRouter(prefix="/posts", tags=["posts"])

ContentRead = Annotated[Actor, require("content:read")]
ContentWrite = Annotated[Actor, require("content:write")]
ContentPublish = Annotated[Actor, require("content:publish")]


def _out(queue: PostingQueue) -> PostingQueueOut:
    return PostingQueueOut(
        social_account_id=queue.social_account_id,
        timezone=queue.timezone,
        slots=[SlotOut(weekday=s.weekday, time=f"{s.local_time:%H:%M}") for s in queue.slots],
        version=queue.version,
        updated_at=queue.updated_at,
    )


@router.get(
    "/{social_account_id}",
    response_model=PostingQueueOut,
    summary="A social account's weekly posting slots (its version is the ETag)",
)
async def read_queue(
    social_account_id: uuid.UUID, actor: ContentRead, session: Transaction, response: Response
) -> PostingQueueOut:
    queue = await posting_queues.get_queue(session, social_account_id=social_account_id)
    response.headers["ETag"] = f'"{queue.version}"'
    return _out(queue)


@router.put(
    "/{social_account_id}",
    response_model=PostingQueueOut,
    summary="Set a social account's time zone and weekly slots (replaces them all; "
    "If-Match or body version once the queue exists)",
)
async def put_queue(
    social_account_id: uuid.UUID,
    body: PostingQueuePut,
    actor: ContentWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> PostingQueueOut:
    queue = await posting_queues.set_queue(
        session, actor=actor, social_account_id=social_account_id, timezone=body.timezone,
        slots=[WeeklySlot(s.weekday, dt.time.fromisoformat(s.time)) for s in body.slots],
        expected_version=version_read(if_match, body.version, "posting queue"),
    )  # fmt: skip
    response.headers["ETag"] = f'"{queue.version}"'
    return _out(queue)


@router.delete(
    "/{social_account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a social account's posting slots (scheduled posts stay as they are)",
)
async def delete_queue(
    social_account_id: uuid.UUID, actor: ContentWrite, session: Transaction
) -> None:
    await posting_queues.delete_queue(session, social_account_id=social_account_id)


@router.get(
    "/{social_account_id}/upcoming",
    response_model=list[UpcomingSlotOut],
    summary="The queue's next slots (within 90 days), each saying whether a post holds it",
)
async def upcoming_slots(
    social_account_id: uuid.UUID,
    actor: ContentRead,
    session: Transaction,
    count: Annotated[int, Query(ge=1, le=200, description="How many slots.")] = 20,
) -> list[UpcomingSlotOut]:
    slots = await posting_queues.upcoming_slots(
        session, social_account_id=social_account_id, count=count, now=dt.datetime.now(dt.UTC)
    )
    return [UpcomingSlotOut(at=s.at, taken=s.taken) for s in slots]


@posts_router.post(
    "/{post_id}/queue",
    response_model=ScheduledPostOut,
    responses=problems(409),
    summary="Add a post to the queue: it is scheduled at the next free slot common to its "
    "social accounts (409 when none is configured or all are taken for 90 days)",
)
async def add_to_queue(
    post_id: PostId,
    actor: ContentPublish,
    session: Transaction,
    response: Response,
    body: QueuePostIn | None = None,
    if_match: IfMatch = None,
) -> ScheduledPostOut:
    post = await post_queueing.add_to_queue(
        session, actor=actor, post_id=post_id,
        social_account_ids=body.social_account_ids if body else None,
        expected_version=version_read(if_match, body.version if body else None, "post"),
    )  # fmt: skip
    return await post_out(session, post, response)
