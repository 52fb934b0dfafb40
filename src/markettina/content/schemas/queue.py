"""The posting queue: weekly slots per social account, and adding a post to it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import Field, field_validator

from markettina.kernel.web.inputs import PositiveInt32, RequestModel
from markettina.kernel.web.outputs import ResponseModel

from ..post_targets import MAX_TARGETS
from ..time_zones import TimeZoneName

MAX_SLOTS = 168  # one an hour, every hour of the week

IsoWeekday = Annotated[int, Field(ge=1, le=7, strict=True, description="1 = Monday ... 7 = Sunday")]
LocalTime = Annotated[
    str, Field(min_length=5, max_length=5, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
               examples=["09:30"])
]  # fmt: skip


class SlotIn(RequestModel):
    weekday: IsoWeekday
    time: LocalTime = Field(description="Wall-clock time HH:MM in the queue's time zone.")


class PostingQueuePut(RequestModel):
    """The whole queue: what is left out takes its default (UTC, no slots)."""

    timezone: TimeZoneName = "UTC"
    slots: Annotated[list[SlotIn], Field(max_length=MAX_SLOTS)] = Field(default_factory=list)
    version: PositiveInt32 | None = Field(
        None, description="The version you read (or If-Match); required once the queue exists."
    )

    @field_validator("slots")
    @classmethod
    def _distinct(cls, slots: list[SlotIn]) -> list[SlotIn]:
        seen = {(s.weekday, s.time) for s in slots}
        if len(seen) != len(slots):
            raise ValueError("a slot is listed twice")
        return slots


class SlotOut(ResponseModel):
    weekday: int
    time: str


class PostingQueueOut(ResponseModel):
    social_account_id: uuid.UUID
    timezone: str
    slots: list[SlotOut]
    version: int
    updated_at: dt.datetime


class UpcomingSlotOut(ResponseModel):
    at: dt.datetime
    taken: bool


class QueuePostIn(RequestModel):
    social_account_ids: (
        Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_TARGETS)] | None
    ) = Field(None, description="The targets (default: the post's current targets).")
    version: PositiveInt32 | None = Field(None, description="The post's version (or If-Match).")
