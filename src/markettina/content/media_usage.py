"""Which posts show which assets (``post_media``), in order, and the usage figures of each
asset that follow: ``usage_count`` (how many posts show it) and ``last_used_at`` (when it
was last attached). The posts' routes call these; they never commit."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import FieldError, ValidationFailed

from .errors import PostNotFound
from .models import MediaAsset, PostMedia, ScheduledPost

FIELD = "body.media_asset_ids"


async def attach_media(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    post_id: int,
    media_asset_ids: list[uuid.UUID],
) -> list[PostMedia]:
    """Show the assets on the post after those it shows already, in the order given (an
    asset it already shows keeps its place). Every asset must be the account's and not
    deleted (422 naming each one that is not); the post must exist (404)."""
    await _post(session, account_id=account_id, post_id=post_id)
    _no_duplicates(media_asset_ids)
    await _owned(session, account_id=account_id, media_asset_ids=media_asset_ids)
    links = await media_of_post(session, account_id=account_id, post_id=post_id)
    shown = {link.media_asset_id for link in links}
    position = max((link.position for link in links), default=-1) + 1
    added: list[uuid.UUID] = []
    for media_id in media_asset_ids:
        if media_id in shown:
            continue
        session.add(
            PostMedia(
                account_id=account_id, post_id=post_id, media_asset_id=media_id, position=position
            )
        )
        position += 1
        added.append(media_id)
    await session.flush()
    await _recount(session, account_id=account_id, media_asset_ids=added, used_now=True)
    return await media_of_post(session, account_id=account_id, post_id=post_id)


async def detach_media(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    post_id: int,
    media_asset_ids: list[uuid.UUID],
) -> list[PostMedia]:
    """Stop showing the assets on the post (ones it does not show are ignored); the others
    keep their order, renumbered from 0."""
    await _post(session, account_id=account_id, post_id=post_id)
    _no_duplicates(media_asset_ids)
    removed = list(
        (
            await session.execute(
                delete(PostMedia)
                .where(
                    PostMedia.account_id == account_id,
                    PostMedia.post_id == post_id,
                    PostMedia.media_asset_id.in_(media_asset_ids),
                )
                .returning(PostMedia.media_asset_id)
            )
        ).scalars()
    )
    remaining = await media_of_post(session, account_id=account_id, post_id=post_id)
    # positions are unique per post: move the rest out of the way, then number them
    offset = len(remaining) + 1 + max((link.position for link in remaining), default=0)
    for link in remaining:
        link.position += offset
    await session.flush()
    for position, link in enumerate(remaining):
        link.position = position
    await session.flush()
    await _recount(session, account_id=account_id, media_asset_ids=removed, used_now=False)
    return remaining


MAX_PER_POST = 20  # more than any network shows in one post (Instagram's carousel: 20)


async def replace_media(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    post_id: int,
    media_asset_ids: list[uuid.UUID],
) -> list[PostMedia]:
    """The post shows exactly these assets, in this order (an empty list: none). Assets it
    stops showing and those it starts showing are recounted; the post's row is locked."""
    await _post(session, account_id=account_id, post_id=post_id)
    _no_duplicates(media_asset_ids)
    if len(media_asset_ids) > MAX_PER_POST:
        raise ValidationFailed(
            f"a post shows at most {MAX_PER_POST} assets",
            errors=[FieldError(FIELD, f"more than {MAX_PER_POST}", "too_many")],
        )
    await _owned(session, account_id=account_id, media_asset_ids=media_asset_ids)
    before = [link.media_asset_id for link in await media_of_post(
        session, account_id=account_id, post_id=post_id)]  # fmt: skip
    await session.execute(
        delete(PostMedia).where(PostMedia.account_id == account_id, PostMedia.post_id == post_id)
    )
    session.add_all(
        PostMedia(account_id=account_id, post_id=post_id, media_asset_id=media_id, position=at)
        for at, media_id in enumerate(media_asset_ids)
    )
    await session.flush()
    added = [media_id for media_id in media_asset_ids if media_id not in before]
    dropped = [media_id for media_id in before if media_id not in media_asset_ids]
    await _recount(session, account_id=account_id, media_asset_ids=added, used_now=True)
    await _recount(session, account_id=account_id, media_asset_ids=dropped, used_now=False)
    return await media_of_post(session, account_id=account_id, post_id=post_id)


async def media_of_post(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int
) -> list[PostMedia]:
    found = await session.execute(
        select(PostMedia)
        .where(PostMedia.account_id == account_id, PostMedia.post_id == post_id)
        .order_by(PostMedia.position)
    )
    return list(found.scalars())


async def _post(session: AsyncSession, *, account_id: uuid.UUID, post_id: int) -> None:
    found = await session.execute(
        select(ScheduledPost.id)
        .where(
            ScheduledPost.account_id == account_id,
            ScheduledPost.id == post_id,
            ScheduledPost.deleted_at.is_(None),
        )
        .with_for_update()  # one change of a post's media at a time
    )
    if found.scalar_one_or_none() is None:
        raise PostNotFound()


def _no_duplicates(media_asset_ids: list[uuid.UUID]) -> None:
    seen: set[uuid.UUID] = set()
    errors = []
    for index, media_id in enumerate(media_asset_ids):
        if media_id in seen:
            errors.append(FieldError(f"{FIELD}.{index}", "named twice", "duplicate"))
        seen.add(media_id)
    if errors:
        raise ValidationFailed("an asset is named twice", errors=errors)


async def _owned(
    session: AsyncSession, *, account_id: uuid.UUID, media_asset_ids: list[uuid.UUID]
) -> None:
    found = set(
        (
            await session.execute(
                select(MediaAsset.id).where(
                    MediaAsset.account_id == account_id,
                    MediaAsset.id.in_(media_asset_ids),
                    MediaAsset.deleted_at.is_(None),
                )
            )
        ).scalars()
    )
    errors = [
        FieldError(f"{FIELD}.{index}", "no such media asset in this account", "unknown_media")
        for index, media_id in enumerate(media_asset_ids)
        if media_id not in found
    ]
    if errors:
        raise ValidationFailed(
            "some assets are not in this account's library", errors=errors, code="unknown_media"
        )


async def _recount(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    media_asset_ids: list[uuid.UUID],
    used_now: bool,
) -> None:
    """usage_count from the links themselves (never drifts); last_used_at on attach."""
    if not media_asset_ids:
        return
    count = (
        select(func.count())
        .where(
            PostMedia.account_id == MediaAsset.account_id, PostMedia.media_asset_id == MediaAsset.id
        )
        .scalar_subquery()
    )
    values = {"usage_count": count, **({"last_used_at": func.now()} if used_now else {})}
    await session.execute(
        update(MediaAsset)
        .where(MediaAsset.account_id == account_id, MediaAsset.id.in_(media_asset_ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
