"""A social account's posting queue: its weekly slots and their time zone.

One queue per social account (``PUT`` replaces the whole slot set, under optimistic
locking once it exists); the upcoming slots of a queue say which are already taken.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from markettina.identity.public import Actor, publishable_social_accounts

from .errors import QueueNotFound, SocialAccountNotFound, VersionConflict
from .models import PostingQueue, PostingSlot, ScheduledPost, ScheduledPostTarget
from .queue_slots import QUEUE_HORIZON, WeeklySlot, slot_instants

# a post holds its slot from the moment it is queued until it is out
SLOT_HOLDING_STATUSES = ("pending_approval", "scheduled", "publishing", "published")


@dataclass(frozen=True)
class UpcomingSlot:
    at: dt.datetime
    taken: bool


async def get_queue(
    session: AsyncSession, *, social_account_id: uuid.UUID, lock: bool = False
) -> PostingQueue:
    query = (
        select(PostingQueue)
        .where(PostingQueue.social_account_id == social_account_id)
        .options(selectinload(PostingQueue.slots))
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=PostingQueue)
    queue = (await session.execute(query)).scalar_one_or_none()
    if queue is None:
        raise QueueNotFound("this social account has no posting queue")
    return queue


async def set_queue(
    session: AsyncSession,
    *,
    actor: Actor,
    social_account_id: uuid.UUID,
    timezone: str,
    slots: Sequence[WeeklySlot],
    expected_version: int | None,
) -> PostingQueue:
    """Create the queue, or replace its zone and slots if it is still at ``expected_version``."""
    if not await publishable_social_accounts(
        session, account_id=actor.account_id, social_account_ids=[social_account_id]
    ):
        raise SocialAccountNotFound("no such social account")
    current = (
        await session.execute(
            select(PostingQueue.id, PostingQueue.version)
            .where(PostingQueue.social_account_id == social_account_id)
            .with_for_update()
        )
    ).one_or_none()
    if current is None:
        if expected_version is not None:
            raise VersionConflict("posting queue", None)
        queue_id = (
            await session.execute(
                insert(PostingQueue)
                .values(
                    account_id=actor.account_id,
                    social_account_id=social_account_id,
                    timezone=timezone,
                    created_by=actor.user_id,
                )
                .returning(PostingQueue.id)
            )
        ).scalar_one()
    else:
        queue_id, version = current
        if expected_version is None or expected_version != version:
            raise VersionConflict("posting queue", version)
        await session.execute(
            update(PostingQueue).where(PostingQueue.id == queue_id).values(timezone=timezone)
        )
        await session.execute(delete(PostingSlot).where(PostingSlot.queue_id == queue_id))
    unique = sorted(set(slots))
    if unique:
        await session.execute(
            insert(PostingSlot),
            [
                {"account_id": actor.account_id, "queue_id": queue_id,
                 "weekday": s.weekday, "local_time": s.local_time}
                for s in unique
            ],
        )  # fmt: skip
    return await get_queue(session, social_account_id=social_account_id)


async def delete_queue(session: AsyncSession, *, social_account_id: uuid.UUID) -> None:
    deleted = await session.execute(
        delete(PostingQueue)
        .where(PostingQueue.social_account_id == social_account_id)
        .returning(PostingQueue.id)
    )
    if deleted.scalar_one_or_none() is None:
        raise QueueNotFound("this social account has no posting queue")


def weekly_slots(queue: PostingQueue) -> list[WeeklySlot]:
    return [WeeklySlot(s.weekday, s.local_time) for s in queue.slots]


async def taken_instants(
    session: AsyncSession,
    *,
    social_account_ids: Sequence[uuid.UUID],
    after: dt.datetime,
    until: dt.datetime,
    except_post_id: int = 0,
) -> set[dt.datetime]:
    """The instants at which any of the social accounts already has a post."""
    rows = await session.execute(
        select(ScheduledPost.scheduled_at)
        .distinct()
        .join(
            ScheduledPostTarget,
            (ScheduledPostTarget.account_id == ScheduledPost.account_id)
            & (ScheduledPostTarget.post_id == ScheduledPost.id),
        )
        .where(
            ScheduledPostTarget.social_account_id.in_(social_account_ids),
            ScheduledPost.deleted_at.is_(None),
            ScheduledPost.status.in_(SLOT_HOLDING_STATUSES),
            ScheduledPost.scheduled_at > after,
            ScheduledPost.scheduled_at <= until,
            ScheduledPost.id != except_post_id,
        )
    )
    return {at.astimezone(dt.UTC) for at in rows.scalars() if at is not None}


async def upcoming_slots(
    session: AsyncSession, *, social_account_id: uuid.UUID, count: int, now: dt.datetime
) -> list[UpcomingSlot]:
    """The queue's next ``count`` slots within the horizon, each saying whether it is taken."""
    queue = await get_queue(session, social_account_id=social_account_id)
    until = now + QUEUE_HORIZON
    taken = await taken_instants(
        session, social_account_ids=[social_account_id], after=now, until=until
    )
    found: list[UpcomingSlot] = []
    for at in slot_instants(queue.timezone, weekly_slots(queue), after=now, until=until):
        found.append(UpcomingSlot(at, at in taken))
        if len(found) >= count:
            break
    return found
