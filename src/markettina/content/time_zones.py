"""IANA time zones as the content API takes them, and local wall-clock times turned into
instants by one rule across daylight-saving changes.

The rule, for a wall-clock time on a given day in a zone:

- a time the clocks skip (spring forward: 02:30 on the last Sunday of March in
  Europe/Rome) is moved forward by the length of the gap: 02:30 becomes 03:30 summer time;
- a time the clocks repeat (fall back: 02:30 on the last Sunday of October) is its first
  occurrence, still in summer time (00:30 UTC), never both.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

ZONE_NAME_MAX = 64


@functools.cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: str) -> str:
    if name not in zone_names():
        raise PydanticCustomError(
            "time_zone", "an IANA time zone name, e.g. Europe/Rome (not an offset)"
        )
    return name


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=ZONE_NAME_MAX, examples=["Europe/Rome"]),
    AfterValidator(known_zone),
]
"""An IANA time zone name (``Europe/Rome``), checked against the tz database."""


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def wall_clock_instant(day: dt.date, at: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of ``at`` o'clock on ``day`` in ``tz``, by the module's rule.

    ``fold=0`` gives both halves of it: a skipped time takes the offset in force before the
    gap (so it lands as far past the gap as it was into it), a repeated time its first
    occurrence."""
    local = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).replace(fold=0)
    return local.astimezone(dt.UTC)


def local_day(instant: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.date:
    return instant.astimezone(tz).date()
