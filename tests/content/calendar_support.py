"""Rows and actors the calendar, queue, recurring and import tests share."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content import posting_queues
from markettina.content.queue_slots import WeeklySlot
from markettina.identity.permissions import ROLE_PERMISSIONS
from markettina.identity.principal import Actor, Principal
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql
from tests.support.identity import Member


def actor_of(member: Member) -> Actor:
    principal = Principal(kind="user", home_account_id=member.account_id, user_id=member.user_id)
    return Actor(principal=principal, account_id=member.account_id, role=member.role,
                 permissions=ROLE_PERMISSIONS[member.role])  # fmt: skip


def new_social_account(urls: DatabaseURLs, owner: Member, platform: str = "instagram") -> uuid.UUID:
    (row,) = sql(
        urls,
        "INSERT INTO social_accounts (account_id, platform, platform_user_id, handle)"
        " VALUES (%s, %s, %s, 'h') RETURNING id",
        owner.account_id, platform, uuid.uuid4().hex,
    )  # fmt: skip
    return row[0]  # type: ignore[no-any-return]


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
