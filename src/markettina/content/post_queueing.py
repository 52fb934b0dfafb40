"""Add to queue: a post takes the next free slot of its target social accounts.

A slot is free when none of the targets has a post at that instant; with several targets
it must be a slot of every target's queue (their common slots). The targets' queues are
locked (``FOR UPDATE``, in id order so two callers never deadlock) before the taken
instants are read: a second caller waits for the first to commit, then its read (a new
snapshot per statement under READ COMMITTED) sees the slot the first one took. The post is
locked first (then its queues) and scheduled through ``post_schedule.schedule_locked_post``,
with all of ``schedule_post``'s checks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.errors import FieldError, ValidationFailed

from .errors import QueueFull, QueueNotConfigured
from .models import PostingQueue, PostingSlot, ScheduledPost
from .post_drafts import check_version, get_post
from .post_schedule import schedule_locked_post
from .post_targets import target_ids
from .posting_queues import taken_instants
from .queue_slots import QUEUE_HORIZON, WeeklySlot, slot_instants
from .time_zones import wall_clock_instant, zone


async def add_to_queue(
    session: AsyncSession,
    *,
    actor: Actor,
    post_id: int,
    social_account_ids: Sequence[uuid.UUID] | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> ScheduledPost:
    """Schedule the post at the next free common slot of ``social_account_ids`` (by default
    the post's current targets); 409 when a target has no slots or all are taken."""
    post = await get_post(session, actor=actor, post_id=post_id, lock=True)
    check_version(post, expected_version)
    return await queue_locked_post(
        session, actor=actor, post=post, social_account_ids=social_account_ids, now=now
    )


async def queue_locked_post(
    session: AsyncSession,
    *,
    actor: Actor,
    post: ScheduledPost,
    social_account_ids: Sequence[uuid.UUID] | None = None,
    now: dt.datetime | None = None,
    content_version: int | None = None,
    searched: QueueSearches | None = None,
    publishable: Mapping[uuid.UUID, str] | None = None,
) -> ScheduledPost:
    """``add_to_queue`` for a post the caller holds (as ``schedule_locked_post``: locked, or
    just created with ``content_version`` 1). ``searched``: what the earlier searches of the
    same transaction found; ``publishable``: the social accounts read once (a bulk import)."""
    post_id = post.id
    targets = sorted(
        set(social_account_ids or await target_ids(session, account_id=actor.account_id,
                                                   post_id=post_id))
    )  # fmt: skip
    if not targets:
        raise ValidationFailed(
            "the post has no social accounts to queue for: name them",
            errors=[FieldError("body.social_account_ids", "required: the post has no targets",
                               "missing")],
        )  # fmt: skip
    at, timezone = await next_free_slot(
        session, social_account_ids=targets, now=now or dt.datetime.now(dt.UTC),
        except_post_id=post_id, searched=searched,
    )  # fmt: skip
    return await schedule_locked_post(
        session, actor=actor, post=post, at=at, timezone=timezone, social_account_ids=targets,
        content_version=content_version, publishable=publishable,
    )  # fmt: skip


# the taken instants are read a window at a time from the first candidate slot (an
# index-backed range on scheduled_at), never the whole horizon at once
SEARCH_WINDOW = dt.timedelta(days=7)


@dataclass
class QueueSearches:
    """What the queue searches of one transaction learnt, for the next search of the same
    targets: every common slot up to (and including) ``full_until[targets]`` was taken.
    Only taken slots are remembered, never free ones, so no slot is ever given twice (each
    search still locks the queues and reads the taken instants after that point); a slot
    freed meanwhile before that point is not offered again, which is why only a caller
    that frees none of its own slots (a bulk import, which only adds posts) passes one."""

    full_until: dict[tuple[uuid.UUID, ...], dt.datetime] = field(default_factory=dict)
    # the slots of each queue read, by (queue id, version): a new slot set bumps the version
    slots: dict[tuple[uuid.UUID, int], list[WeeklySlot]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSlots:
    """A locked queue's zone and weekly slots, as the slot search reads them."""

    social_account_id: uuid.UUID
    timezone: str
    slots: list[WeeklySlot]


async def _locked_queues(
    session: AsyncSession,
    social_account_ids: Sequence[uuid.UUID],
    searched: QueueSearches | None,
) -> list[QueueSlots]:
    """The queues of the social accounts, locked in id order; their slots are read unless
    an earlier search of the transaction read them at the same queue version."""
    locked = (
        await session.execute(
            select(
                PostingQueue.id, PostingQueue.version, PostingQueue.social_account_id,
                PostingQueue.timezone,
            )
            .where(PostingQueue.social_account_id.in_(social_account_ids))
            .order_by(PostingQueue.id)
            .with_for_update()
        )
    ).all()  # fmt: skip
    known = searched.slots if searched is not None else {}
    unread = [q.id for q in locked if (q.id, q.version) not in known]
    read: dict[uuid.UUID, list[WeeklySlot]] = {queue_id: [] for queue_id in unread}
    if unread:
        rows = await session.execute(
            select(PostingSlot.queue_id, PostingSlot.weekday, PostingSlot.local_time).where(
                PostingSlot.queue_id.in_(unread)
            )
        )
        for row in rows:
            read[row.queue_id].append(WeeklySlot(row.weekday, row.local_time))
    queues = []
    for q in locked:
        slots = known[(q.id, q.version)] if q.id not in read else read[q.id]
        if searched is not None:
            searched.slots[(q.id, q.version)] = slots
        queues.append(QueueSlots(q.social_account_id, q.timezone, slots))
    return queues


async def next_free_slot(
    session: AsyncSession,
    *,
    social_account_ids: Sequence[uuid.UUID],
    now: dt.datetime,
    except_post_id: int = 0,
    searched: QueueSearches | None = None,
) -> tuple[dt.datetime, str]:
    """The next free common slot of the social accounts and the zone to schedule it in,
    with their queues locked until the transaction ends."""
    queues = await _locked_queues(session, social_account_ids, searched)
    configured = {q.social_account_id for q in queues if q.slots}
    missing = [str(s) for s in social_account_ids if s not in configured]
    if missing:
        raise QueueNotConfigured(missing)
    until = now + QUEUE_HORIZON
    key = tuple(social_account_ids)
    after = now
    if searched is not None and key in searched.full_until:
        after = max(now, searched.full_until[key])
    while after < until:
        window_end = min(after + SEARCH_WINDOW, until)
        taken = await taken_instants(
            session, social_account_ids=social_account_ids, after=after, until=window_end,
            except_post_id=except_post_id,
        )  # fmt: skip
        free, last_taken = _first_common(queues, after=after, until=window_end, taken=taken)
        if searched is not None and last_taken is not None:
            searched.full_until[key] = last_taken
        if free is not None:
            return free, _zone_of(queues, social_account_ids[0])
        after = window_end
    later, _ = _first_common(queues, after=until, until=until + QUEUE_HORIZON, taken=set())
    raise QueueFull(
        horizon_days=QUEUE_HORIZON.days,
        next_slot_at=later.isoformat().replace("+00:00", "Z") if later else None,
    )


def _first_common(
    queues: Sequence[QueueSlots],
    *,
    after: dt.datetime,
    until: dt.datetime,
    taken: set[dt.datetime],
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first instant of the window that is a slot of every queue and not taken (the
    first queue's slots are walked in order, the others asked whether each is theirs), and
    the last common slot before it that was taken (None: none was)."""
    first, *others = queues
    last_taken = None
    for at in slot_instants(first.timezone, first.slots, after=after, until=until):
        if all(is_slot_of(q, at) for q in others):
            if at not in taken:
                return at, last_taken
            last_taken = at
    return None, last_taken


def is_slot_of(queue: QueueSlots | PostingQueue, at: dt.datetime) -> bool:
    tz = zone(queue.timezone)
    day = at.astimezone(tz).date()
    return any(
        slot.weekday == day.isoweekday() and wall_clock_instant(day, slot.local_time, tz) == at
        for slot in queue.slots
    )


def _zone_of(queues: Sequence[QueueSlots], social_account_id: uuid.UUID) -> str:
    return next(q.timezone for q in queues if q.social_account_id == social_account_id)
