"""Rows the calendar, queue, recurring and import tests share (actors: posts_support)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content import posting_queues
from markettina.content.queue_slots import WeeklySlot
from markettina.kernel.db.urls import DatabaseURLs
from tests.content import posts_support
from tests.content.posts_support import actor_of
from tests.support.identity import Member


def new_social_account(urls: DatabaseURLs, owner: Member, platform: str = "instagram") -> uuid.UUID:
    return posts_support.new_social_account(urls, owner.account_id, platform)


async def set_slots(
    session: AsyncSession, owner: Member, social: uuid.UUID, timezone: str,
    *slots: tuple[int, str],
) -> None:  # fmt: skip
    await posting_queues.set_queue(
        session, actor=actor_of(owner), social_account_id=social, timezone=timezone,
        slots=[WeeklySlot(day, dt.time.fromisoformat(at)) for day, at in slots],
        expected_version=None,
    )  # fmt: skip


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)
