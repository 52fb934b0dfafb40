"""Which posts show which assets: attach keeps the order given and updates the usage
figures, detach renumbers what remains; only the account's own assets, never twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.content.errors import PostNotFound
from markettina.content.media_usage import attach_media, detach_media
from markettina.content.models import MediaAsset, ScheduledPost
from markettina.kernel.db.tenant import tenant_scope
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import ValidationFailed
from tests.support.identity import new_account, new_member


@dataclass
class Library:
    account_id: uuid.UUID
    post_id: int
    assets: list[uuid.UUID]


async def _asset(session: AsyncSession, account_id: uuid.UUID) -> uuid.UUID:
    asset = MediaAsset(
        account_id=account_id,
        filename="a.png",
        mime_type="image/png",
        file_size_bytes=10,
        storage_path=f"{account_id}/{uuid.uuid4()}/original",
    )
    session.add(asset)
    await session.flush()
    return asset.id


async def _post(session: AsyncSession, account_id: uuid.UUID, user_id: int) -> int:
    post = ScheduledPost(account_id=account_id, user_id=user_id, content="hello")
    session.add(post)
    await session.flush()
    return post.id


@pytest.fixture
async def library(session: AsyncSession, shared_db: DatabaseURLs) -> AsyncIterator[Library]:
    account = new_account(shared_db)
    member = new_member(shared_db, account, "owner")
    async with tenant_scope(session, account):
        post = await _post(session, account, member.user_id)
        assets = [await _asset(session, account) for _ in range(4)]
        yield Library(account, post, assets)


async def _usage(session: AsyncSession, asset: uuid.UUID) -> tuple[int, bool]:
    row = (
        await session.execute(
            select(MediaAsset.usage_count, MediaAsset.last_used_at.is_not(None)).where(
                MediaAsset.id == asset
            )
        )
    ).one()
    return row[0], row[1]


class TestAttach:
    async def test_keeps_the_order_given_after_what_the_post_shows(
        self, session: AsyncSession, library: Library
    ) -> None:
        a, b, c, d = library.assets
        links = await attach_media(
            session, account_id=library.account_id, post_id=library.post_id, media_asset_ids=[c, a]
        )
        assert [(link.media_asset_id, link.position) for link in links] == [(c, 0), (a, 1)]
        links = await attach_media(
            session,
            account_id=library.account_id,
            post_id=library.post_id,
            media_asset_ids=[b, a, d],
        )
        assert [link.media_asset_id for link in links] == [c, a, b, d]
        assert [link.position for link in links] == [0, 1, 2, 3]
        assert await _usage(session, a) == (1, True)

    async def test_usage_counts_the_posts(
        self, session: AsyncSession, library: Library, shared_db: DatabaseURLs
    ) -> None:
        a = library.assets[0]
        user = (await session.execute(select(ScheduledPost.user_id))).scalars().first()
        assert user is not None
        other = await _post(session, library.account_id, user)
        for post in (library.post_id, other):
            await attach_media(
                session, account_id=library.account_id, post_id=post, media_asset_ids=[a]
            )
        assert await _usage(session, a) == (2, True)
        await detach_media(
            session, account_id=library.account_id, post_id=other, media_asset_ids=[a]
        )
        assert (await _usage(session, a))[0] == 1
        assert await _usage(session, library.assets[1]) == (0, False)

    async def test_refuses_assets_of_another_account_deleted_or_unknown(
        self, session: AsyncSession, library: Library, shared_db: DatabaseURLs
    ) -> None:
        stranger = new_account(shared_db)
        async with tenant_scope(session, stranger):
            foreign = await _asset(session, stranger)
        deleted = library.assets[1]
        await session.execute(
            text("UPDATE media_assets SET deleted_at = now() WHERE id = :id"), {"id": deleted}
        )
        with pytest.raises(ValidationFailed) as refused:
            await attach_media(
                session,
                account_id=library.account_id,
                post_id=library.post_id,
                media_asset_ids=[library.assets[0], foreign, deleted, uuid.uuid4()],
            )
        assert [e.field for e in refused.value.errors] == [
            "body.media_asset_ids.1",
            "body.media_asset_ids.2",
            "body.media_asset_ids.3",
        ]
        with pytest.raises(ValidationFailed) as twice:
            await attach_media(
                session,
                account_id=library.account_id,
                post_id=library.post_id,
                media_asset_ids=[library.assets[0]] * 2,
            )
        assert [e.field for e in twice.value.errors] == ["body.media_asset_ids.1"]

    async def test_an_unknown_post_is_404(self, session: AsyncSession, library: Library) -> None:
        with pytest.raises(PostNotFound):
            await attach_media(
                session,
                account_id=library.account_id,
                post_id=2**31 - 1,
                media_asset_ids=library.assets[:1],
            )


class TestDetach:
    async def test_renumbers_what_remains(self, session: AsyncSession, library: Library) -> None:
        a, b, c, d = library.assets
        await attach_media(
            session,
            account_id=library.account_id,
            post_id=library.post_id,
            media_asset_ids=[a, b, c, d],
        )
        remaining = await detach_media(
            session, account_id=library.account_id, post_id=library.post_id, media_asset_ids=[b, a]
        )
        assert [(link.media_asset_id, link.position) for link in remaining] == [(c, 0), (d, 1)]


class TestReferences:
    async def test_deleting_a_post_removes_its_links_and_an_asset_in_use_stays(
        self, session: AsyncSession, library: Library
    ) -> None:
        a = library.assets[0]
        await attach_media(
            session, account_id=library.account_id, post_id=library.post_id, media_asset_ids=[a]
        )
        with pytest.raises(IntegrityError):  # ON DELETE RESTRICT
            async with session.begin_nested():
                await session.execute(text("DELETE FROM media_assets WHERE id = :id"), {"id": a})
        await session.execute(
            text("DELETE FROM scheduled_posts WHERE id = :id"), {"id": library.post_id}
        )
        left = await session.execute(text("SELECT count(*) FROM post_media"))
        assert left.scalar_one() == 0
