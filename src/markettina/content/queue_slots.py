"""The instants a weekly slot set stands for: pure computation, no database.

A slot is an ISO weekday (1 = Monday) and a wall-clock time in the queue's zone; its
instant on a given day follows ``time_zones.wall_clock_instant`` (a skipped time moves
forward by the gap, a repeated time is its first occurrence). Two slots landing on one
instant (02:30 and 03:30 on the spring-forward day) are one slot that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .time_zones import local_day, wall_clock_instant, zone

QUEUE_HORIZON = dt.timedelta(days=90)


@dataclass(frozen=True, order=True)
class WeeklySlot:
    weekday: int  # ISO: 1 = Monday ... 7 = Sunday
    local_time: dt.time


def slot_instants(
    timezone: str, slots: Iterable[WeeklySlot], *, after: dt.datetime, until: dt.datetime
) -> Iterator[dt.datetime]:
    """Every instant of ``slots`` strictly after ``after`` and at most ``until``, in order."""
    tz = zone(timezone)
    by_weekday: dict[int, list[dt.time]] = {}
    for slot in sorted(set(slots)):
        by_weekday.setdefault(slot.weekday, []).append(slot.local_time)
    if not by_weekday:
        return
    # a day before and after: the local days of the window's ends, whatever the offset
    day = local_day(after, tz) - dt.timedelta(days=1)
    last = local_day(until, tz) + dt.timedelta(days=1)
    while day <= last:
        seen: set[dt.datetime] = set()
        for at in by_weekday.get(day.isoweekday(), ()):
            instant = wall_clock_instant(day, at, tz)
            if after < instant <= until and instant not in seen:
                seen.add(instant)
                yield instant
        day += dt.timedelta(days=1)
