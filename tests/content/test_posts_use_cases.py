"""The posts use cases other contexts call (create, edit, schedule, cancel), in the
caller's transaction, as the acting account."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content import post_drafts, post_schedule
from markettina.content.errors import IllegalPostTransition, PostVersionConflict
from markettina.content.models import ContentVersion
from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import ValidationFailed
from tests.content.posts_support import actor_of, new_social_account
from tests.support.identity import new_account, new_member

SOON = dt.timedelta(hours=2)


@pytest.fixture
async def owner(session: AsyncSession, shared_db: DatabaseURLs):  # type: ignore[no-untyped-def]
    member = new_member(shared_db, new_account(shared_db), "owner")
    await enter_tenant(session, member.account_id)
    return member


class TestCreateAndEdit:
    async def test_a_draft_with_its_first_version(self, session: AsyncSession, owner) -> None:  # type: ignore[no-untyped-def]
        actor = actor_of(owner)
        post = await post_drafts.create_post(
            session, actor=actor, content="Ciao mondo", hashtags=["#Milano", "milano", "food"]
        )
        assert post.status == "draft" and post.hashtags == ["Milano", "food"]
        versions = (await session.scalars(select(ContentVersion))).all()
        assert [(v.content_id, v.version_number) for v in versions] == [(str(post.id), 1)]
        read = post.version

        edited = await post_drafts.edit_post(
            session, actor=actor, post_id=post.id, changes={"content": "Ciao!"},
            expected_version=read,
        )  # fmt: skip
        assert edited.content == "Ciao!" and edited.version == read + 1
        with pytest.raises(PostVersionConflict):
            await post_drafts.edit_post(
                session, actor=actor, post_id=post.id, changes={"content": "x"},
                expected_version=read,
            )  # fmt: skip


class TestSchedule:
    async def test_schedules_and_cancels(
        self,
        session: AsyncSession,
        owner,
        shared_db: DatabaseURLs,  # type: ignore[no-untyped-def]
    ) -> None:
        actor = actor_of(owner)
        social = new_social_account(shared_db, owner.account_id, "linkedin")
        post = await post_drafts.create_post(session, actor=actor, content="Hello")
        at = dt.datetime.now(dt.UTC) + SOON
        scheduled = await post_schedule.schedule_post(
            session, actor=actor, post_id=post.id, at=at, timezone="Europe/Rome",
            social_account_ids=[social],
        )  # fmt: skip
        assert (scheduled.status, scheduled.platforms, scheduled.timezone) == (
            "scheduled",
            ["linkedin"],
            "Europe/Rome",
        )
        with pytest.raises(ValidationFailed):
            await post_schedule.schedule_post(
                session, actor=actor, post_id=post.id, at=at, timezone="Mars/Olympus",
                social_account_ids=[social],
            )  # fmt: skip
        cancelled = await post_schedule.cancel_post(session, actor=actor, post_id=post.id)
        assert cancelled.status == "cancelled"
        with pytest.raises(IllegalPostTransition, match="cancelled post cannot become scheduled"):
            await post_schedule.schedule_post(
                session, actor=actor, post_id=post.id, at=at, timezone="Europe/Rome",
                social_account_ids=[social],
            )  # fmt: skip
        count = await session.scalar(text("SELECT count(*) FROM scheduled_post_targets"))
        assert count == 1
