"""An account's editorial calendars: named lists of dated themes, notes and holidays that
the calendar view shows beside the posts and campaigns."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity.public import Actor
from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.errors import FieldError, ValidationFailed

from .errors import CalendarNotFound, VersionConflict, VersionRequired
from .models import EditorialCalendar

LISTED_PAGE = NewestFirst(
    select(
        EditorialCalendar.id, EditorialCalendar.name, EditorialCalendar.description,
        EditorialCalendar.start_date, EditorialCalendar.end_date, EditorialCalendar.entries,
        EditorialCalendar.version, EditorialCalendar.created_at, EditorialCalendar.updated_at,
    ).where(
        EditorialCalendar.account_id == bindparam("account_id"),
        EditorialCalendar.deleted_at.is_(None),
    ),
    at=EditorialCalendar.created_at,
    id_=EditorialCalendar.id,
)  # fmt: skip


def _check_dates(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed(
            "end_date is before start_date",
            errors=[FieldError("body.end_date", "before start_date", "invalid_range")],
        )


async def create_calendar(
    session: AsyncSession, *, actor: Actor, fields: dict[str, Any]
) -> EditorialCalendar:
    _check_dates(fields.get("start_date"), fields.get("end_date"))
    calendar = EditorialCalendar(account_id=actor.account_id, user_id=actor.user_id, **fields)
    session.add(calendar)
    await session.flush()
    await session.refresh(calendar)
    return calendar


async def get_calendar(session: AsyncSession, *, calendar_id: uuid.UUID) -> EditorialCalendar:
    calendar = (
        await session.execute(
            select(EditorialCalendar).where(
                EditorialCalendar.id == calendar_id, EditorialCalendar.deleted_at.is_(None)
            )
        )
    ).scalar_one_or_none()
    if calendar is None:
        raise CalendarNotFound("no such editorial calendar")
    return calendar


async def update_calendar(
    session: AsyncSession,
    *,
    calendar_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
) -> EditorialCalendar:
    current = await get_calendar(session, calendar_id=calendar_id)
    if expected_version is None:
        raise VersionRequired()
    _check_dates(
        changes.get("start_date", current.start_date), changes.get("end_date", current.end_date)
    )
    updated = (
        await session.execute(
            update(EditorialCalendar)
            .where(
                EditorialCalendar.id == calendar_id,
                EditorialCalendar.deleted_at.is_(None),
                EditorialCalendar.version == expected_version,
            )
            .values(**changes)
            .returning(EditorialCalendar)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one_or_none()
    if updated is None:
        raise VersionConflict("editorial calendar", current.version)
    return updated


async def delete_calendar(
    session: AsyncSession, *, calendar_id: uuid.UUID, deleted_by: int | None
) -> None:
    await get_calendar(session, calendar_id=calendar_id)
    await session.execute(
        update(EditorialCalendar)
        .where(EditorialCalendar.id == calendar_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=deleted_by)
    )
