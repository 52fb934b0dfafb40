"""A post's content history in ``content_versions``: which fields a snapshot holds, and
writing the next one. Append-only: a restore writes a new version, never rewrites one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ContentVersion, ScheduledPost

CONTENT_TYPE = "post"
# the fields a post's versions hold (and an edit may change), in their stored order
SNAPSHOT_FIELDS = ("content", "hashtags", "campaign_id")


def snapshot_of(post: ScheduledPost) -> dict[str, Any]:
    """The post's versioned fields as JSON values."""
    return {
        "content": post.content,
        "hashtags": list(post.hashtags),
        "campaign_id": str(post.campaign_id) if post.campaign_id is not None else None,
    }


def as_json(field: str, value: Any) -> Any:
    """A field's value as a snapshot stores it."""
    if field == "campaign_id":
        return str(value) if value is not None else None
    if field == "hashtags":
        return list(value)
    return value


def from_json(field: str, value: Any) -> Any:
    """A snapshot's value as the post's column holds it."""
    if field == "campaign_id":
        return uuid.UUID(value) if value is not None else None
    return value


async def latest_version_number(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int
) -> int:
    """The number of the post's newest content version (0 if it has none)."""
    found = await session.scalar(
        select(func.max(ContentVersion.version_number)).where(
            ContentVersion.account_id == account_id,
            ContentVersion.content_type == CONTENT_TYPE,
            ContentVersion.content_id == str(post_id),
        )
    )
    return found or 0


async def write_version(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    post_id: int,
    number: int,
    snapshot: dict[str, Any],
    changed_fields: Iterable[str],
    change_summary: str | None,
    created_by: int | None,
) -> ContentVersion:
    """Append version ``number`` of the post (the caller holds the post's row lock, so
    numbers follow each other; the unique key refuses a duplicate all the same)."""
    return (
        await session.execute(
            insert(ContentVersion)
            .values(
                account_id=account_id,
                content_type=CONTENT_TYPE,
                content_id=str(post_id),
                version_number=number,
                content_snapshot=snapshot,
                changed_fields=sorted(changed_fields),
                change_summary=change_summary,
                created_by=created_by,
            )
            .returning(ContentVersion)
        )
    ).scalar_one()
