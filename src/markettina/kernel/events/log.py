"""The account's event log: its events, newest first, filtered and paged by cursor."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.keyset import newest_first
from ..models import DomainEvent
from ..pagination import Page, page_of


@dataclass(frozen=True)
class EventFilter:
    type_pattern: str | None = None  # exact, or with "*" wildcards (see event_matches)
    aggregate_type: str | None = None
    aggregate_id: str | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


def like_pattern(pattern: str) -> str:
    """A type pattern as SQL LIKE (escape character ``\\``): ``*`` is any characters."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


LISTED = (
    DomainEvent.id, DomainEvent.event_type, DomainEvent.event_version,
    DomainEvent.aggregate_type, DomainEvent.aggregate_id, DomainEvent.aggregate_version,
    DomainEvent.event_data, DomainEvent.event_metadata, DomainEvent.created_at,
    DomainEvent.processed_at,
)  # fmt: skip


async def list_events(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    where: EventFilter,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    query = select(*LISTED).where(DomainEvent.account_id == account_id)
    if where.type_pattern is not None:
        if "*" in where.type_pattern:
            query = query.where(
                DomainEvent.event_type.like(like_pattern(where.type_pattern), escape="\\")
            )
        else:
            query = query.where(DomainEvent.event_type == where.type_pattern)
    if where.aggregate_type is not None:
        query = query.where(DomainEvent.aggregate_type == where.aggregate_type)
    if where.aggregate_id is not None:
        query = query.where(DomainEvent.aggregate_id == where.aggregate_id)
    if where.since is not None:
        query = query.where(DomainEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(DomainEvent.created_at < where.until)
    query = newest_first(
        query, at=DomainEvent.created_at, id_=DomainEvent.id, limit=limit, cursor=cursor
    )
    rows = [dict(row) for row in (await session.execute(query)).mappings()]
    return page_of(rows, limit, lambda row: (row["created_at"].isoformat(), row["id"]))
