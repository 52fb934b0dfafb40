"""Recurring posts: a series makes one post per occurrence, each scheduled through
``post_schedule.schedule_post`` and linked to the series by ``series_id`` and its rank
(``series_index``, from 1).

An occurrence follows the series while its content, hashtags and campaign are the
series' own: editing the series rewrites those occurrences that are still to come and
not yet out (draft, pending approval or scheduled, in the future). An occurrence edited on
its own no longer matches the series, so it is detached: later series edits (and the
series' deletion) leave it as it is. Ending a series cancels the occurrences that follow it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.errors import FieldError, ValidationFailed

from .errors import SeriesNotFound, VersionConflict, VersionRequired
from .models import PostSeries, ScheduledPost
from .post_drafts import create_post, edit_post, normalized_hashtags
from .post_schedule import cancel_post, schedule_locked_post
from .post_targets import publishable_among
from .recurrence import MAX_OCCURRENCES, Recurrence, TooManyOccurrences

# the occurrences a series edit (or its end) still reaches
FOLLOWING_STATUSES = ("draft", "pending_approval", "scheduled")
SERIES_FIELDS = ("content", "hashtags", "campaign_id")
MAX_START_AHEAD = dt.timedelta(days=5 * 366)

LISTED_PAGE = NewestFirst(
    select(
        PostSeries.id, PostSeries.content, PostSeries.hashtags, PostSeries.campaign_id,
        PostSeries.social_account_ids, PostSeries.timezone, PostSeries.starts_on,
        PostSeries.local_time, PostSeries.frequency, PostSeries.every, PostSeries.weekdays,
        PostSeries.until, PostSeries.occurrences, PostSeries.version, PostSeries.created_at,
        PostSeries.updated_at,
    ).where(PostSeries.account_id == bindparam("account_id"), PostSeries.deleted_at.is_(None)),
    at=PostSeries.created_at,
    id_=PostSeries.id,
)  # fmt: skip


@dataclass(frozen=True)
class Occurrence:
    post_id: int
    index: int
    scheduled_at: dt.datetime | None
    status: str
    follows_series: bool


@dataclass(frozen=True)
class SeriesDetail:
    series: PostSeries
    occurrences: list[Occurrence]


def planned_instants(rule: Recurrence, now: dt.datetime) -> list[dt.datetime]:
    """The occurrences' instants; 422 naming the field when there are too many, none, or
    the first is not in the future."""
    if rule.starts_on > now.date() + MAX_START_AHEAD:
        raise _invalid("body.starts_on", "at most five years ahead", "too_far")
    try:
        instants = rule.instants()
    except TooManyOccurrences:
        raise _invalid(
            "body.until", f"more than {MAX_OCCURRENCES} occurrences before it", "too_many"
        ) from None
    if not instants:
        raise _invalid("body.weekdays", "no occurrence falls before until", "empty")
    if instants[0] <= now:
        raise _invalid("body.starts_on", "the first occurrence is not in the future", "in_the_past")
    return instants


async def create_series(
    session: AsyncSession,
    *,
    actor: Actor,
    content: str,
    hashtags: Sequence[str],
    campaign_id: uuid.UUID | None,
    social_account_ids: Sequence[uuid.UUID],
    rule: Recurrence,
    now: dt.datetime | None = None,
) -> SeriesDetail:
    instants = planned_instants(rule, now or dt.datetime.now(dt.UTC))
    series = PostSeries(
        account_id=actor.account_id, content=content, hashtags=normalized_hashtags(hashtags),
        campaign_id=campaign_id, social_account_ids=list(dict.fromkeys(social_account_ids)),
        timezone=rule.timezone, starts_on=rule.starts_on, local_time=rule.local_time,
        frequency=rule.frequency, every=rule.every, weekdays=sorted(set(rule.weekdays)),
        until=rule.until, occurrences=rule.occurrences, created_by=actor.user_id,
    )  # fmt: skip
    session.add(series)
    await session.flush()
    publishable = await publishable_among(
        session, account_id=actor.account_id, social_account_ids=series.social_account_ids
    )
    for index, at in enumerate(instants, start=1):
        post = await create_post(
            session, actor=actor, content=content, hashtags=hashtags, campaign_id=campaign_id,
            change_summary=f"occurrence {index} of a series",
        )  # fmt: skip
        await session.execute(
            update(ScheduledPost)
            .where(ScheduledPost.account_id == actor.account_id, ScheduledPost.id == post.id)
            .values(series_id=series.id, series_index=index)
        )
        await schedule_locked_post(
            session, actor=actor, post=post, at=at, timezone=rule.timezone,
            social_account_ids=series.social_account_ids, content_version=1,
            publishable=publishable,
        )  # fmt: skip
    await session.refresh(series)
    return await series_detail(session, series_id=series.id)


async def get_series(
    session: AsyncSession, *, series_id: uuid.UUID, lock: bool = False
) -> PostSeries:
    query = select(PostSeries).where(PostSeries.id == series_id, PostSeries.deleted_at.is_(None))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    series = (await session.execute(query)).scalar_one_or_none()
    if series is None:
        raise SeriesNotFound("no such post series")
    return series


async def series_detail(session: AsyncSession, *, series_id: uuid.UUID) -> SeriesDetail:
    series = await get_series(session, series_id=series_id)
    rows = await session.execute(
        select(ScheduledPost)
        .where(ScheduledPost.series_id == series_id, ScheduledPost.deleted_at.is_(None))
        .order_by(ScheduledPost.series_index)
    )
    return SeriesDetail(
        series,
        [
            Occurrence(p.id, p.series_index or 0, p.scheduled_at, p.status,
                       _follows(series, p))
            for p in rows.scalars()
        ],
    )  # fmt: skip


async def edit_series(
    session: AsyncSession,
    *,
    actor: Actor,
    series_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
    now: dt.datetime | None = None,
) -> SeriesDetail:
    """Change the series' content, hashtags or campaign, and with them every following
    occurrence to come (each edit goes through ``edit_post``: versions, approval gate)."""
    series = await get_series(session, series_id=series_id, lock=True)
    if expected_version is None:
        raise VersionRequired()
    if series.version != expected_version:
        raise VersionConflict("post series", series.version)
    if "hashtags" in changes:
        changes["hashtags"] = normalized_hashtags(changes["hashtags"])
    following = await _following(session, series, now or dt.datetime.now(dt.UTC))
    for post in following:
        await edit_post(
            session, actor=actor, post_id=post.id, changes=changes, expected_version=None,
            change_summary="series edit",
        )  # fmt: skip
    await session.execute(update(PostSeries).where(PostSeries.id == series_id).values(**changes))
    session.expire(series)
    return await series_detail(session, series_id=series_id)


async def end_series(
    session: AsyncSession, *, actor: Actor, series_id: uuid.UUID, now: dt.datetime | None = None
) -> None:
    """Delete the series and cancel its following occurrences to come."""
    series = await get_series(session, series_id=series_id, lock=True)
    for post in await _following(session, series, now or dt.datetime.now(dt.UTC)):
        await cancel_post(session, actor=actor, post_id=post.id)
    await session.execute(
        update(PostSeries)
        .where(PostSeries.id == series_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=actor.user_id)
    )


async def _following(
    session: AsyncSession, series: PostSeries, now: dt.datetime
) -> list[ScheduledPost]:
    rows = await session.execute(
        select(ScheduledPost)
        .where(
            ScheduledPost.series_id == series.id,
            ScheduledPost.deleted_at.is_(None),
            ScheduledPost.status.in_(FOLLOWING_STATUSES),
            ScheduledPost.scheduled_at > now,
        )
        .order_by(ScheduledPost.series_index)
    )
    return [post for post in rows.scalars() if _follows(series, post)]


def _follows(series: PostSeries, post: ScheduledPost) -> bool:
    return (
        post.content == series.content
        and list(post.hashtags) == list(series.hashtags)
        and post.campaign_id == series.campaign_id
    )


def _invalid(field: str, message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[FieldError(field, message, code)])
