"""The instants of weekly slots, pure computation: order, window, and the DST rule in
Europe/Rome (last Sunday of March 2026: 02:00 -> 03:00; last Sunday of October 2026:
03:00 -> 02:00)."""

from __future__ import annotations

import datetime as dt

from markettina.content.models import PostingQueue, PostingSlot
from markettina.content.post_queueing import is_slot_of
from markettina.content.queue_slots import WeeklySlot, slot_instants
from markettina.content.time_zones import wall_clock_instant, zone

ROME = "Europe/Rome"
SUNDAY = 7


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


class TestWallClockInstant:
    def test_a_time_skipped_in_spring_moves_forward_by_the_gap(self) -> None:
        # 02:30 does not exist on 2026-03-29 in Rome: it is 03:30 CEST, 01:30 UTC
        at = wall_clock_instant(dt.date(2026, 3, 29), dt.time(2, 30), zone(ROME))
        assert at == utc(2026, 3, 29, 1, 30)
        assert at.astimezone(zone(ROME)).strftime("%H:%M %Z") == "03:30 CEST"

    def test_a_time_repeated_in_autumn_is_its_first_occurrence(self) -> None:
        # 02:30 happens twice on 2026-10-25: first at +02:00 (00:30 UTC), then at +01:00
        at = wall_clock_instant(dt.date(2026, 10, 25), dt.time(2, 30), zone(ROME))
        assert at == utc(2026, 10, 25, 0, 30)

    def test_ordinary_days_keep_their_offset(self) -> None:
        assert wall_clock_instant(dt.date(2026, 1, 4), dt.time(9), zone(ROME)) == utc(2026, 1, 4, 8)
        assert wall_clock_instant(dt.date(2026, 7, 5), dt.time(9), zone(ROME)) == utc(2026, 7, 5, 7)


class TestSlotInstants:
    def test_the_week_of_the_spring_change_is_read_in_each_days_offset(self) -> None:
        slots = [WeeklySlot(SUNDAY, dt.time(2, 30)), WeeklySlot(SUNDAY, dt.time(9))]
        found = list(slot_instants(ROME, slots, after=utc(2026, 3, 21), until=utc(2026, 4, 6)))
        assert found == [
            utc(2026, 3, 22, 1, 30),  # 02:30 CET
            utc(2026, 3, 22, 8),  # 09:00 CET
            utc(2026, 3, 29, 1, 30),  # 02:30 skipped: 03:30 CEST
            utc(2026, 3, 29, 7),  # 09:00 CEST
            utc(2026, 4, 5, 0, 30),  # 02:30 CEST
            utc(2026, 4, 5, 7),
        ]

    def test_two_slots_landing_on_one_instant_in_the_gap_are_one(self) -> None:
        slots = [WeeklySlot(SUNDAY, dt.time(2, 30)), WeeklySlot(SUNDAY, dt.time(3, 30))]
        found = list(slot_instants(ROME, slots, after=utc(2026, 3, 28), until=utc(2026, 3, 30)))
        assert found == [utc(2026, 3, 29, 1, 30)]

    def test_the_repeated_hour_in_autumn_gives_one_instant_not_two(self) -> None:
        slots = [WeeklySlot(SUNDAY, dt.time(2, 30))]
        found = list(slot_instants(ROME, slots, after=utc(2026, 10, 24), until=utc(2026, 10, 26)))
        assert found == [utc(2026, 10, 25, 0, 30)]

    def test_the_window_is_after_exclusive_and_until_inclusive(self) -> None:
        slots = [WeeklySlot(1, dt.time(9))]  # Mondays 09:00 UTC
        after = utc(2026, 1, 5, 9)
        found = list(slot_instants("UTC", slots, after=after, until=utc(2026, 1, 19, 9)))
        assert found == [utc(2026, 1, 12, 9), utc(2026, 1, 19, 9)]

    def test_no_slots_no_instants(self) -> None:
        assert list(slot_instants(ROME, [], after=utc(2026, 1, 1), until=utc(2027, 1, 1))) == []


class TestSlotOfAnotherQueue:
    """Several targets share a slot when the instant is a slot of each queue, in its zone."""

    @staticmethod
    def _queue(timezone: str, weekday: int, at: str) -> PostingQueue:
        slot = PostingSlot(weekday=weekday, local_time=dt.time.fromisoformat(at))
        return PostingQueue(timezone=timezone, slots=[slot])

    def test_a_skipped_time_is_the_slot_it_moved_to(self) -> None:
        rome = self._queue(ROME, SUNDAY, "02:30")
        assert is_slot_of(rome, utc(2026, 3, 29, 1, 30))  # 03:30 CEST
        assert is_slot_of(self._queue("UTC", SUNDAY, "01:30"), utc(2026, 3, 29, 1, 30))

    def test_the_second_pass_of_a_repeated_hour_is_not_the_slot(self) -> None:
        rome = self._queue(ROME, SUNDAY, "02:30")
        assert is_slot_of(rome, utc(2026, 10, 25, 0, 30))
        assert not is_slot_of(rome, utc(2026, 10, 25, 1, 30))  # 02:30 CET, the second time
