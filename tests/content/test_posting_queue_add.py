"""Add to queue: a post takes the next free common slot of its social accounts, across
the DST changes of Europe/Rome (2027: spring forward on 28 March, fall back on 31 October),
and a full or unconfigured queue says so."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from markettina.content import post_drafts, post_queueing, post_schedule, posting_queues
from markettina.content.errors import QueueFull, QueueNotConfigured
from markettina.content.queue_slots import WeeklySlot
from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import ValidationFailed
from tests.content.calendar_support import new_social_account, set_slots, utc
from tests.content.posts_support import actor_of
from tests.support.checks import sql
from tests.support.identity import Member, new_account, new_member

SUNDAY = 7
ROME = "Europe/Rome"


@pytest.fixture
async def owner(session: AsyncSession, shared_db: DatabaseURLs) -> Member:
    member = new_member(shared_db, new_account(shared_db), "owner")
    await enter_tenant(session, member.account_id)
    return member


async def _queued(
    session: AsyncSession, owner: Member, socials: list[uuid.UUID], now: dt.datetime
) -> dt.datetime | None:
    actor = actor_of(owner)
    post = await post_drafts.create_post(session, actor=actor, content="queued")
    queued = await post_queueing.add_to_queue(
        session, actor=actor, post_id=post.id, social_account_ids=socials, now=now
    )
    assert queued.status == "scheduled"
    return queued.scheduled_at


class TestNextFreeSlot:
    async def test_a_0230_slot_on_the_spring_forward_day_is_0330_summer_time(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, ROME, (SUNDAY, "02:30"))
        now = utc(2027, 3, 27)
        assert await _queued(session, owner, [social], now) == utc(2027, 3, 28, 1, 30)
        # the next Sunday is in summer time: 02:30 CEST
        assert await _queued(session, owner, [social], now) == utc(2027, 4, 4, 0, 30)

    async def test_a_0230_slot_in_the_repeated_hour_is_taken_once_at_its_first_occurrence(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, ROME, (SUNDAY, "02:30"))
        now = utc(2027, 10, 30)
        assert await _queued(session, owner, [social], now) == utc(2027, 10, 31, 0, 30)
        # not 01:30 UTC the same night (the second 02:30): the next Sunday, in winter time
        assert await _queued(session, owner, [social], now) == utc(2027, 11, 7, 1, 30)

    async def test_a_slot_held_by_a_scheduled_post_is_skipped_and_a_cancelled_one_is_free(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        actor = actor_of(owner)
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, "UTC", (1, "09:00"))
        now = utc(2027, 1, 1)  # a Friday
        held = await post_drafts.create_post(session, actor=actor, content="by hand")
        await post_schedule.schedule_post(
            session, actor=actor, post_id=held.id, at=utc(2027, 1, 4, 9), timezone="UTC",
            social_account_ids=[social],
        )  # fmt: skip
        assert await _queued(session, owner, [social], now) == utc(2027, 1, 11, 9)
        await post_schedule.cancel_post(session, actor=actor, post_id=held.id)
        assert await _queued(session, owner, [social], now) == utc(2027, 1, 4, 9)

    async def test_several_targets_take_a_slot_common_to_all_and_free_on_each(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        one, two = new_social_account(shared_db, owner), new_social_account(shared_db, owner)
        await set_slots(session, owner, one, "UTC", (1, "09:00"), (2, "09:00"))
        await set_slots(session, owner, two, ROME, (2, "10:00"), (3, "10:00"))  # 09:00 UTC
        now = utc(2027, 1, 1)
        assert await _queued(session, owner, [two], now) == utc(2027, 1, 5, 9)
        # Tuesday 5th is common but `two` holds it: the next common slot, Tuesday 12th
        assert await _queued(session, owner, [one, two], now) == utc(2027, 1, 12, 9)

    async def test_the_posts_own_targets_are_used_when_none_are_named(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        actor = actor_of(owner)
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, "UTC", (1, "09:00"))
        post = await post_drafts.create_post(session, actor=actor, content="x")
        with pytest.raises(ValidationFailed) as refused:
            await post_queueing.add_to_queue(session, actor=actor, post_id=post.id)
        assert refused.value.errors[0].field == "body.social_account_ids"
        await post_schedule.schedule_post(
            session, actor=actor, post_id=post.id, at=utc(2027, 6, 1, 12), timezone="UTC",
            social_account_ids=[social],
        )  # fmt: skip
        moved = await post_queueing.add_to_queue(
            session, actor=actor, post_id=post.id, now=utc(2027, 1, 1)
        )
        assert moved.scheduled_at == utc(2027, 1, 4, 9)


class TestNoFreeSlot:
    async def test_a_target_without_slots_is_named(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        with_slots, without = (new_social_account(shared_db, owner) for _ in range(2))
        await set_slots(session, owner, with_slots, "UTC", (1, "09:00"))
        empty = new_social_account(shared_db, owner)
        await set_slots(session, owner, empty, "UTC")
        with pytest.raises(QueueNotConfigured) as refused:
            await _queued(session, owner, [with_slots, without, empty], utc(2027, 1, 1))
        assert sorted(refused.value.extensions["social_account_ids"]) == sorted(
            [str(without), str(empty)]
        )

    async def test_a_full_horizon_says_when_the_next_slot_is(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, "UTC", (1, "09:00"))
        now = utc(2027, 1, 1)  # Mondays up to 90 days later: 4 Jan ... 29 Mar (13 slots)
        for _ in range(13):
            await _queued(session, owner, [social], now)
        with pytest.raises(QueueFull) as full:
            await _queued(session, owner, [social], now)
        assert full.value.status == 409
        assert full.value.extensions == {"horizon_days": 90, "next_slot_at": "2027-04-05T09:00:00Z"}

    async def test_no_common_slot_at_all_is_a_full_queue_with_no_next_slot(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        one, two = new_social_account(shared_db, owner), new_social_account(shared_db, owner)
        await set_slots(session, owner, one, "UTC", (1, "09:00"))
        await set_slots(session, owner, two, "UTC", (2, "09:00"))
        with pytest.raises(QueueFull) as full:
            await _queued(session, owner, [one, two], utc(2027, 1, 1))
        assert full.value.extensions["next_slot_at"] is None


async def test_concurrent_adds_to_one_queue_never_take_the_same_slot(
    fresh_db: DatabaseURLs,
) -> None:
    owner = new_member(fresh_db, new_account(fresh_db))
    social = new_social_account(fresh_db, owner)
    actor = actor_of(owner)
    engine = create_async_engine(fresh_db.app, pool_size=8, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with unit_of_work(sessions, account_id=owner.account_id) as session:
            await set_slots(session, owner, social, ROME, *((d, "09:00") for d in range(1, 8)))
            ids = [
                (await post_drafts.create_post(session, actor=actor, content=f"p{n}")).id
                for n in range(8)
            ]

        async def queue(post_id: int) -> None:
            async with unit_of_work(sessions, account_id=owner.account_id) as session:
                await post_queueing.add_to_queue(
                    session, actor=actor, post_id=post_id, social_account_ids=[social]
                )

        await asyncio.gather(*(queue(post_id) for post_id in ids))
    finally:
        await engine.dispose()
    rows = sql(fresh_db, "SELECT scheduled_at FROM scheduled_posts WHERE account_id = %s"
               " AND status = 'scheduled'", owner.account_id)  # fmt: skip
    assert len(rows) == 8 and len({at for (at,) in rows}) == 8


class TestRememberedSearches:
    """A transaction that remembers its searches (a bulk import) reads a queue's slots once
    per queue version: a new slot set is read again."""

    async def test_a_new_slot_set_is_read_again(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        social = new_social_account(shared_db, owner)
        await set_slots(session, owner, social, ROME, (SUNDAY, "09:00"))
        searched = post_queueing.QueueSearches()
        now = utc(2027, 1, 4, 12)  # a Monday
        first, _ = await post_queueing.next_free_slot(
            session, social_account_ids=[social], now=now, searched=searched
        )
        assert first == utc(2027, 1, 10, 8)  # Sunday 09:00 CET
        queue = await posting_queues.get_queue(session, social_account_id=social)
        await posting_queues.set_queue(
            session, actor=actor_of(owner), social_account_id=social, timezone=ROME,
            slots=[WeeklySlot(2, dt.time(9))], expected_version=queue.version,
        )  # fmt: skip
        second, _ = await post_queueing.next_free_slot(
            session, social_account_ids=[social], now=now, searched=searched
        )
        assert second == utc(2027, 1, 5, 8)  # Tuesday 09:00 CET
