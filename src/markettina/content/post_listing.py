"""The posts list: newest first, keyset-paged. Unfiltered it is a plain read (one
statement whose JSON PostgreSQL renders); filtered by status, campaign, social account,
platform, scheduled time, hashtag or words of the content (full-text, Italian and English),
it is built for the filters given and paged the same way."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Row, Text, bindparam, cast, exists, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import REGCONFIG, array
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.pagination import Page, decode_time_cursor, page_of

from .models import ScheduledPost, ScheduledPostTarget

P = ScheduledPost
LISTED = (
    P.id, P.campaign_id, P.content, P.hashtags, P.media_urls, P.platforms, P.status,
    P.scheduled_at, P.timezone, P.published_at, P.ai_generated, P.platform_post_ids,
    P.error_message, P.created_by, P.created_at, P.updated_at, P.version,
)  # fmt: skip

_LIVE = (P.account_id == bindparam("account_id"), P.deleted_at.is_(None))
LISTED_PAGE = NewestFirst(select(*LISTED).where(*_LIVE), at=P.created_at, id_=P.id)


def listed_of(actor: Actor) -> dict[str, Any]:
    return {"account_id": actor.account_id}


@dataclass(frozen=True)
class PostFilters:
    status: str | None = None
    campaign_id: uuid.UUID | None = None
    social_account_id: uuid.UUID | None = None
    platform: str | None = None
    scheduled_from: dt.datetime | None = None  # inclusive
    scheduled_until: dt.datetime | None = None  # exclusive
    tag: str | None = None
    q: str | None = None

    @property
    def any(self) -> bool:
        return any(value is not None for value in vars(self).values())


def _text_array(value: str) -> Any:
    """``ARRAY[value]::text[]``, for ``@>`` on a text[] column (its GIN index)."""
    return cast(array([value]), ARRAY(Text))


def _conditions(actor: Actor, filters: PostFilters) -> list[Any]:
    where: list[Any] = [P.account_id == actor.account_id, P.deleted_at.is_(None)]
    if filters.status is not None:
        where.append(P.status == filters.status)
    if filters.campaign_id is not None:
        where.append(P.campaign_id == filters.campaign_id)
    if filters.social_account_id is not None:
        where.append(
            exists().where(
                ScheduledPostTarget.account_id == P.account_id,
                ScheduledPostTarget.post_id == P.id,
                ScheduledPostTarget.social_account_id == filters.social_account_id,
            )
        )
    if filters.platform is not None:
        where.append(P.platforms.contains(_text_array(filters.platform)))
    if filters.scheduled_from is not None:
        where.append(P.scheduled_at >= filters.scheduled_from)
    if filters.scheduled_until is not None:
        where.append(P.scheduled_at < filters.scheduled_until)
    if filters.tag is not None:
        where.append(P.hashtags.contains(_text_array(filters.tag.strip().removeprefix("#"))))
    if filters.q is not None:
        words = literal(filters.q)
        query = func.websearch_to_tsquery(literal("italian").cast(REGCONFIG), words).op("||")(
            func.websearch_to_tsquery(literal("english").cast(REGCONFIG), words)
        )
        where.append(P.search_vector.op("@@")(query))
    return where


async def list_posts(
    session: AsyncSession, *, actor: Actor, filters: PostFilters, limit: int, cursor: str | None
) -> Page[Row[Any]]:
    """One page of the account's posts matching every filter given, newest first."""
    query = select(*LISTED).where(*_conditions(actor, filters))
    after = decode_time_cursor(cursor, int)
    if after is not None:
        query = query.where(tuple_(P.created_at, P.id) < tuple_(*after))
    rows = list(
        await session.execute(query.order_by(P.created_at.desc(), P.id.desc()).limit(limit + 1))
    )
    return page_of(rows, limit, lambda row: (row.created_at.isoformat(), row.id))
