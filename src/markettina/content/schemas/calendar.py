"""The editorial calendar: the day-by-day view, and the calendars of themes, notes and
holidays an account keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from markettina.kernel.web.inputs import CalendarDay, Omittable, PositiveInt32, RequestModel
from markettina.kernel.web.outputs import ResponseModel

MAX_ENTRIES = 1000

EntryKind = Literal["theme", "note", "holiday"]


class CalendarEntry(RequestModel):
    """One dated item of a calendar: a theme (a day or a span), a note or a holiday."""

    date: CalendarDay
    end_date: CalendarDay | None = Field(None, description="Last day of a span (inclusive).")
    kind: EntryKind
    title: Annotated[str, Field(min_length=1, max_length=200)]
    note: Annotated[str, Field(max_length=2000)] | None = None

    @field_validator("end_date")
    @classmethod
    def _ordered(cls, end_date: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("date")
        if end_date is not None and start is not None and end_date < start:
            raise ValueError("end_date is before date")
        return end_date


class EditorialCalendarCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    start_date: CalendarDay | None = None
    end_date: CalendarDay | None = None
    entries: Annotated[list[CalendarEntry], Field(max_length=MAX_ENTRIES)] = Field(
        default_factory=list
    )


class EditorialCalendarUpdate(RequestModel):
    """A partial update; ``entries`` replaces the whole list."""

    name: Omittable[Annotated[str, Field(min_length=1, max_length=200)]] = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    start_date: CalendarDay | None = None
    end_date: CalendarDay | None = None
    entries: Omittable[Annotated[list[CalendarEntry], Field(max_length=MAX_ENTRIES)]] = None
    version: PositiveInt32 | None = Field(None, description="The version you read (or If-Match).")


class CalendarEntryOut(ResponseModel):
    date: dt.date
    end_date: dt.date | None = None
    kind: EntryKind
    title: str
    note: str | None = None


class EditorialCalendarOut(ResponseModel):
    id: uuid.UUID
    name: str
    description: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    entries: list[CalendarEntryOut]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# --- the day-by-day view ----------------------------------------------------------------------


class CalendarPost(ResponseModel):
    id: int
    status: str
    scheduled_at: dt.datetime
    local_time: str = Field(description="HH:MM in the requested time zone.")
    content: str = Field(description="The first 280 characters.")
    platforms: list[str]
    campaign_id: uuid.UUID | None
    series_id: uuid.UUID | None


class CalendarEmailCampaign(ResponseModel):
    id: uuid.UUID
    name: str
    status: str
    at: dt.datetime = Field(description="sent_at if sent, else scheduled_at.")
    local_time: str


class CalendarCampaign(ResponseModel):
    id: uuid.UUID
    name: str
    status: str
    start_date: dt.date
    end_date: dt.date | None


class CalendarNote(ResponseModel):
    calendar_id: uuid.UUID
    calendar_name: str
    kind: EntryKind
    title: str
    note: str | None
    date: dt.date
    end_date: dt.date | None


class CalendarDayOut(ResponseModel):
    date: dt.date
    posts: list[CalendarPost]
    email_campaigns: list[CalendarEmailCampaign]
    campaign_ids: list[uuid.UUID] = Field(description="Campaigns running that day.")
    entries: list[CalendarNote]


class CalendarOut(ResponseModel):
    from_: dt.date = Field(alias="from", serialization_alias="from")
    to: dt.date
    timezone: str
    truncated: bool = Field(description="More posts or e-mail campaigns than one answer holds.")
    campaigns: list[CalendarCampaign] = Field(description="The campaign spans in the range.")
    days: list[CalendarDayOut] = Field(description="The days with something on, in order.")
