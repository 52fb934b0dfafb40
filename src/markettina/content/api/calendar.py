"""HTTP routes of the editorial calendar: the day-by-day view and the calendars of themes,
notes and holidays (versioned: If-Match or body version on change)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from markettina.identity.public import Actor, Transaction, of_acting_account, plain_read, require
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.inputs import CalendarDay

from .. import calendar_view, editorial_calendars
from ..schemas.calendar import (
    CalendarOut,
    EditorialCalendarCreate,
    EditorialCalendarOut,
    EditorialCalendarUpdate,
)
from ..time_zones import TimeZoneName

router = APIRouter(tags=["content"])

ContentRead = Annotated[Actor, require("content:read")]
ContentWrite = Annotated[Actor, require("content:write")]


@router.get(
    "/calendar",
    response_model=CalendarOut,
    summary="Posts, e-mail campaigns, campaign spans and calendar entries, day by day",
)
async def read_calendar(
    actor: ContentRead,
    session: Transaction,
    from_: Annotated[CalendarDay, Query(alias="from", description="First day (YYYY-MM-DD).")],
    to: Annotated[CalendarDay, Query(description="Last day, inclusive (at most 366 days).")],
    tz: Annotated[TimeZoneName, Query(description="IANA zone the days are read in.")] = "UTC",
) -> CalendarOut:
    view = await calendar_view.calendar(session, first=from_, last=to, timezone=tz)
    return CalendarOut.model_validate(view)


@router.get(
    "/editorial-calendars",
    response_model=Page[EditorialCalendarOut],
    summary="The account's editorial calendars, newest first",
)
@plain_read(editorial_calendars.LISTED_PAGE, of_acting_account)
async def list_editorial_calendars(
    actor: ContentRead, session: Transaction, limit: Limit = 50, cursor: Cursor = None
) -> Response:
    body = await editorial_calendars.LISTED_PAGE.json_page(
        session, limit=limit, cursor=cursor, **of_acting_account(actor)
    )
    return Response(body, media_type="application/json")


@router.post(
    "/editorial-calendars",
    status_code=status.HTTP_201_CREATED,
    response_model=EditorialCalendarOut,
    summary="Create an editorial calendar (themes, notes, holidays)",
)
async def create_editorial_calendar(
    body: EditorialCalendarCreate, actor: ContentWrite, session: Transaction, response: Response
) -> EditorialCalendarOut:
    created = await editorial_calendars.create_calendar(
        session, actor=actor, fields=body.model_dump(mode="json")
        | {"start_date": body.start_date, "end_date": body.end_date},
    )  # fmt: skip
    response.headers["ETag"] = f'"{created.version}"'
    return EditorialCalendarOut.model_validate(created)


@router.get(
    "/editorial-calendars/{calendar_id}",
    response_model=EditorialCalendarOut,
    summary="One editorial calendar (its version is the ETag)",
)
async def read_editorial_calendar(
    calendar_id: uuid.UUID, actor: ContentRead, session: Transaction, response: Response
) -> EditorialCalendarOut:
    found = await editorial_calendars.get_calendar(session, calendar_id=calendar_id)
    response.headers["ETag"] = f'"{found.version}"'
    return EditorialCalendarOut.model_validate(found)


@router.patch(
    "/editorial-calendars/{calendar_id}",
    response_model=EditorialCalendarOut,
    summary="Change an editorial calendar (If-Match or body version; entries are replaced)",
)
async def update_editorial_calendar(
    calendar_id: uuid.UUID,
    body: EditorialCalendarUpdate,
    actor: ContentWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> EditorialCalendarOut:
    changes = body.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    for day in ("start_date", "end_date"):
        if day in changes:
            changes[day] = getattr(body, day)
    updated = await editorial_calendars.update_calendar(
        session, calendar_id=calendar_id,
        expected_version=version_read(if_match, body.version, "editorial calendar"),
        changes=changes,
    )  # fmt: skip
    response.headers["ETag"] = f'"{updated.version}"'
    return EditorialCalendarOut.model_validate(updated)


@router.delete(
    "/editorial-calendars/{calendar_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an editorial calendar",
)
async def delete_editorial_calendar(
    calendar_id: uuid.UUID, actor: ContentWrite, session: Transaction
) -> None:
    await editorial_calendars.delete_calendar(
        session, calendar_id=calendar_id, deleted_by=actor.user_id
    )
