"""Recurring posts: a series' rule and content, and its occurrences."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from markettina.kernel.web.inputs import CalendarDay, Omittable, PositiveInt32, RequestModel
from markettina.kernel.web.outputs import ResponseModel

from ..post_targets import MAX_TARGETS
from ..recurrence import MAX_OCCURRENCES
from ..time_zones import TimeZoneName
from .posts import Content, Hashtags
from .queue import IsoWeekday, LocalTime


class SeriesCreate(RequestModel):
    content: Content
    hashtags: Hashtags = Field(default_factory=list)
    campaign_id: uuid.UUID | None = None
    social_account_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_TARGETS)]
    timezone: TimeZoneName
    starts_on: CalendarDay = Field(description="The first day (in the series' zone).")
    time: LocalTime = Field(description="Wall-clock time HH:MM of every occurrence.")
    frequency: Literal["daily", "weekly"]
    every: Annotated[int, Field(ge=1, le=366, strict=True)] = Field(
        1, description="Every N days (daily) or N weeks (weekly)."
    )
    weekdays: Annotated[list[IsoWeekday], Field(max_length=7)] = Field(
        default_factory=list,
        description="weekly only: the ISO weekdays (1 = Monday); none: the first day's.",
    )
    until: CalendarDay | None = Field(None, description="Last possible day, inclusive.")
    occurrences: Annotated[int, Field(ge=1, le=MAX_OCCURRENCES, strict=True)] | None = None


class SeriesUpdate(RequestModel):
    """Applies to the series and its following occurrences still to come."""

    content: Omittable[Content] = None
    hashtags: Omittable[Hashtags] = None
    campaign_id: uuid.UUID | None = None
    version: PositiveInt32 | None = Field(None, description="The version you read (or If-Match).")


class OccurrenceOut(ResponseModel):
    post_id: int
    index: int
    scheduled_at: dt.datetime | None
    status: str
    follows_series: bool = Field(description="False once the occurrence was edited on its own.")


class SeriesOut(ResponseModel):
    id: uuid.UUID
    content: str
    hashtags: list[str]
    campaign_id: uuid.UUID | None
    social_account_ids: list[uuid.UUID]
    timezone: str
    starts_on: dt.date
    local_time: dt.time
    frequency: str
    every: int
    weekdays: list[int]
    until: dt.date | None
    occurrences: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SeriesDetailOut(SeriesOut):
    posts: list[OccurrenceOut]
