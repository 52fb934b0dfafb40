"""A post's content history: its versions newest first, one version, the field-by-field
difference between two, and restoring one (written as a new version: history is never
rewritten)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.pagination import Page, bad_cursor, decode_cursor, page_of

from .errors import PostVersionNotFound
from .models import ContentVersion, ScheduledPost
from .post_drafts import edit_post, get_post
from .post_snapshots import CONTENT_TYPE, SNAPSHOT_FIELDS, from_json, latest_version_number


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class VersionDiff:
    from_version: int
    to_version: int
    changes: list[FieldChange]


def _of_post(actor: Actor, post_id: int) -> Any:
    return (
        ContentVersion.account_id == actor.account_id,
        ContentVersion.content_type == CONTENT_TYPE,
        ContentVersion.content_id == str(post_id),
    )


async def list_versions(
    session: AsyncSession, *, actor: Actor, post_id: int, limit: int, cursor: str | None
) -> Page[ContentVersion]:
    """The post's versions, newest first; the cursor is the last version number seen."""
    await get_post(session, actor=actor, post_id=post_id)
    query = select(ContentVersion).where(*_of_post(actor, post_id))
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not after.isdigit() or len(after) > 10:
            raise bad_cursor()
        query = query.where(ContentVersion.version_number < int(after))
    rows = list(
        await session.scalars(query.order_by(ContentVersion.version_number.desc()).limit(limit + 1))
    )
    return page_of(rows, limit, lambda version: (version.version_number,))


async def get_version(
    session: AsyncSession, *, actor: Actor, post_id: int, number: int
) -> ContentVersion:
    await get_post(session, actor=actor, post_id=post_id)
    version = await session.scalar(
        select(ContentVersion).where(
            *_of_post(actor, post_id), ContentVersion.version_number == number
        )
    )
    if version is None:
        raise PostVersionNotFound(number)
    return version


async def diff_versions(
    session: AsyncSession,
    *,
    actor: Actor,
    post_id: int,
    from_number: int | None = None,
    to_number: int | None = None,
) -> VersionDiff:
    """The fields whose values differ from version ``from_number`` (by default the one
    before ``to_number``) to ``to_number`` (by default the newest)."""
    if to_number is None:
        await get_post(session, actor=actor, post_id=post_id)
        to_number = await latest_version_number(
            session, account_id=actor.account_id, post_id=post_id
        )
    if from_number is None:
        from_number = max(1, to_number - 1)
    before = await get_version(session, actor=actor, post_id=post_id, number=from_number)
    after = await get_version(session, actor=actor, post_id=post_id, number=to_number)
    changes = [
        FieldChange(name, before.content_snapshot.get(name), after.content_snapshot.get(name))
        for name in SNAPSHOT_FIELDS
        if before.content_snapshot.get(name) != after.content_snapshot.get(name)
    ]
    return VersionDiff(from_number, to_number, changes)


async def restore_version(
    session: AsyncSession,
    *,
    actor: Actor,
    post_id: int,
    number: int,
    expected_version: int | None,
) -> ScheduledPost:
    """Give the post version ``number``'s content again, as its next version (nothing is
    written when the post already holds exactly that content)."""
    await get_post(session, actor=actor, post_id=post_id, lock=True)
    version = await get_version(session, actor=actor, post_id=post_id, number=number)
    snapshot = version.content_snapshot
    return await edit_post(
        session, actor=actor, post_id=post_id, expected_version=expected_version,
        changes={name: from_json(name, snapshot[name]) for name in SNAPSHOT_FIELDS
                 if name in snapshot},
        change_summary=f"restored version {number}", restored_from=number,
    )  # fmt: skip
