"""The dates and instants of a recurring post: pure computation, no database.

Every ``every`` days (``daily``), or every ``every`` weeks on the given ISO weekdays
(``weekly``; none given means the weekday of the first day), from ``starts_on`` until a day
(inclusive) or for a number of occurrences, at most ``MAX_OCCURRENCES``. Each occurrence is
at ``local_time`` in the series' zone, by the DST rule of ``time_zones``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .time_zones import wall_clock_instant, zone

MAX_OCCURRENCES = 366


class TooManyOccurrences(ValueError):
    pass


@dataclass(frozen=True)
class Recurrence:
    starts_on: dt.date
    local_time: dt.time
    timezone: str
    frequency: str  # "daily" or "weekly"
    every: int = 1
    weekdays: Sequence[int] = ()
    until: dt.date | None = None
    occurrences: int | None = None

    def days(self) -> list[dt.date]:
        """The occurrence days, in order; ``TooManyOccurrences`` past the bound."""
        limit = self.occurrences if self.occurrences is not None else MAX_OCCURRENCES + 1
        found: list[dt.date] = []
        for day in self._candidates():
            if self.until is not None and day > self.until:
                break
            found.append(day)
            if len(found) >= limit:
                break
        if len(found) > MAX_OCCURRENCES:
            raise TooManyOccurrences(f"more than {MAX_OCCURRENCES} occurrences")
        return found

    def instants(self) -> list[dt.datetime]:
        tz = zone(self.timezone)
        return [wall_clock_instant(day, self.local_time, tz) for day in self.days()]

    def _candidates(self) -> Iterator[dt.date]:
        if self.frequency == "daily":
            day = self.starts_on
            while True:
                yield day
                day += dt.timedelta(days=self.every)
        weekdays = sorted(set(self.weekdays)) or [self.starts_on.isoweekday()]
        week_start = self.starts_on - dt.timedelta(days=self.starts_on.isoweekday() - 1)
        while True:
            for weekday in weekdays:
                day = week_start + dt.timedelta(days=weekday - 1)
                if day >= self.starts_on:
                    yield day
            week_start += dt.timedelta(weeks=self.every)
