"""The publisher's side of a post's life (the social context publishes): claiming the due
posts, then recording how each went (``publishing`` -> ``published`` or ``failed``)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import record

from .events import PostFailed, PostPublished
from .models import ScheduledPost
from .post_drafts import find_post, update_post_row
from .post_states import check_transition

DEFAULT_PER_ACCOUNT = 10
DEFAULT_BATCH = 200


@dataclass(frozen=True)
class DuePost:
    account_id: uuid.UUID
    post_id: int
    scheduled_at: dt.datetime


async def claim_due_posts(
    owner: psycopg.AsyncConnection[Any],
    *,
    per_account: int = DEFAULT_PER_ACCOUNT,
    batch: int = DEFAULT_BATCH,
) -> list[DuePost]:
    """Take the posts whose time has come, at most ``per_account`` of each account and
    ``batch`` in all, every account's first before anyone's second; rows another
    transaction holds are skipped. They become ``publishing`` when the claim commits.
    ``owner`` is a maintenance connection (``kernel.jobs.maintenance_connection``): the
    claim reads every account's posts."""
    cursor = await owner.execute(
        "SELECT account_id, post_id, scheduled_at FROM claim_due_posts(%s, %s)",
        (per_account, batch),
    )
    return [DuePost(*row) for row in await cursor.fetchall()]


async def record_published(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    post_id: int,
    platform_post_ids: dict[str, str],
    published_at: dt.datetime | None = None,
) -> ScheduledPost:
    """The publisher published the post (as ``account_id``, in its transaction)."""
    post = await find_post(session, account_id=account_id, post_id=post_id, lock=True)
    check_transition(post.status, "published")
    when = published_at or dt.datetime.now(dt.UTC)
    updated = await update_post_row(
        session, post,
        {"status": "published", "published_at": when, "platform_post_ids": platform_post_ids,
         "error_message": None},
    )  # fmt: skip
    await record(
        session,
        PostPublished(post_id=post_id, published_at=when, platforms=list(updated.platforms),
                      platform_post_ids=platform_post_ids),
        account_id=account_id, aggregate_id=post_id, aggregate_version=updated.version,
    )  # fmt: skip
    return updated


async def record_failed(
    session: AsyncSession, *, account_id: uuid.UUID, post_id: int, error_message: str
) -> ScheduledPost:
    """Publishing the post failed; it may be scheduled again."""
    post = await find_post(session, account_id=account_id, post_id=post_id, lock=True)
    check_transition(post.status, "failed")
    updated = await update_post_row(
        session, post, {"status": "failed", "error_message": error_message}
    )
    await record(
        session,
        PostFailed(post_id=post_id, error_message=error_message, platforms=list(updated.platforms)),
        account_id=account_id, aggregate_id=post_id, aggregate_version=updated.version,
    )  # fmt: skip
    return updated
