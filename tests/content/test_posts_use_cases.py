"""The posts use cases other contexts call (create, edit, schedule, cancel), in the
caller's transaction, as the acting account."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content import post_drafts, post_publishing, post_schedule
from markettina.content.errors import IllegalPostTransition, PostVersionConflict
from markettina.content.models import ContentVersion
from markettina.kernel.db.tenant import enter_tenant
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import ValidationFailed
from tests.content.posts_support import actor_of, new_social_account
from tests.support.identity import Member, new_account, new_member

SOON = dt.timedelta(hours=2)


@pytest.fixture
async def owner(session: AsyncSession, shared_db: DatabaseURLs) -> Member:
    member = new_member(shared_db, new_account(shared_db), "owner")
    await enter_tenant(session, member.account_id)
    return member


class TestCreateAndEdit:
    async def test_a_draft_with_its_first_version(
        self, session: AsyncSession, owner: Member
    ) -> None:
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
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
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


class TestPublishingOutcome:
    async def test_a_claimed_post_is_published_or_failed_once(
        self, session: AsyncSession, owner: Member, shared_db: DatabaseURLs
    ) -> None:
        actor = actor_of(owner)
        social = new_social_account(shared_db, owner.account_id, "facebook")
        post = await post_drafts.create_post(session, actor=actor, content="Hello")
        await post_schedule.schedule_post(
            session, actor=actor, post_id=post.id, at=dt.datetime.now(dt.UTC) + SOON,
            timezone="Europe/Rome", social_account_ids=[social],
        )  # fmt: skip
        with pytest.raises(IllegalPostTransition, match="scheduled post cannot become published"):
            await post_publishing.record_published(
                session, account_id=owner.account_id, post_id=post.id, platform_post_ids={}
            )
        await session.execute(
            text("UPDATE scheduled_posts SET status = 'publishing' WHERE id = :id"),
            {"id": post.id},
        )
        published = await post_publishing.record_published(
            session, account_id=owner.account_id, post_id=post.id,
            platform_post_ids={"facebook": "fb-1"},
        )  # fmt: skip
        assert (published.status, published.platform_post_ids) == (
            "published", {"facebook": "fb-1"}
        )  # fmt: skip
        with pytest.raises(IllegalPostTransition, match="published post cannot become failed"):
            await post_publishing.record_failed(
                session, account_id=owner.account_id, post_id=post.id, error_message="x"
            )
        events = await session.scalars(
            text("SELECT event_type FROM domain_events WHERE aggregate_id = :id "
                 "AND aggregate_type = 'post' ORDER BY event_type"),
            {"id": str(post.id)},
        )  # fmt: skip
        assert list(events) == ["post.created", "post.published", "post.scheduled"]
