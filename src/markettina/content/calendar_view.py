"""The calendar view: what is planned on each day of a range, in the caller's time zone.

- Posts are on the local day of their ``scheduled_at`` (cancelled and deleted ones are
  not); a draft with no time yet is on no day (the posts list finds it).
- E-mail campaigns are on the day they were sent, or else are scheduled to be sent.
- Campaigns are spans of calendar days (``start_date`` to ``end_date``, open-ended when
  there is no end); each day lists the campaigns running on it.
- Calendar entries (themes, notes, holidays) are on their day, or each day of their span.

A range covers at most ``MAX_DAYS`` days; at most ``MAX_ITEMS`` posts and as many e-mail
campaigns are answered (``truncated`` says when there were more).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import BadRange, RangeTooLong
from .models import Campaign, EditorialCalendar, EmailCampaign, ScheduledPost
from .time_zones import wall_clock_instant, zone

MAX_DAYS = 366
MAX_ITEMS = 2000
PREVIEW_CHARS = 280


async def calendar(
    session: AsyncSession, *, first: dt.date, last: dt.date, timezone: str
) -> dict[str, Any]:
    if last < first:
        raise BadRange()
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeTooLong(MAX_DAYS)
    tz = zone(timezone)
    start = wall_clock_instant(first, dt.time(0), tz)
    end = wall_clock_instant(last + dt.timedelta(days=1), dt.time(0), tz)
    days: dict[dt.date, dict[str, list[Any]]] = defaultdict(
        lambda: {"posts": [], "email_campaigns": [], "campaign_ids": [], "entries": []}
    )

    posts = (
        await session.execute(
            select(
                ScheduledPost.id, ScheduledPost.status, ScheduledPost.scheduled_at,
                func.left(ScheduledPost.content, PREVIEW_CHARS).label("content"),
                ScheduledPost.platforms, ScheduledPost.campaign_id, ScheduledPost.series_id,
            )
            .where(
                ScheduledPost.deleted_at.is_(None), ScheduledPost.status != "cancelled",
                ScheduledPost.scheduled_at >= start, ScheduledPost.scheduled_at < end,
            )
            .order_by(ScheduledPost.scheduled_at, ScheduledPost.id)
            .limit(MAX_ITEMS + 1)
        )
    ).all()  # fmt: skip
    for row in posts[:MAX_ITEMS]:
        local = row.scheduled_at.astimezone(tz)
        days[local.date()]["posts"].append({**row._asdict(), "local_time": f"{local:%H:%M}"})

    email_at = func.coalesce(EmailCampaign.sent_at, EmailCampaign.scheduled_at)
    emails = (
        await session.execute(
            select(EmailCampaign.id, EmailCampaign.name, EmailCampaign.status,
                   email_at.label("at"))
            .where(EmailCampaign.deleted_at.is_(None), EmailCampaign.status != "cancelled",
                   email_at >= start, email_at < end)
            .order_by(email_at, EmailCampaign.id)
            .limit(MAX_ITEMS + 1)
        )
    ).all()  # fmt: skip
    for row in emails[:MAX_ITEMS]:
        local = row.at.astimezone(tz)
        days[local.date()]["email_campaigns"].append(
            {**row._asdict(), "local_time": f"{local:%H:%M}"}
        )

    campaigns = (
        await session.execute(
            select(Campaign.id, Campaign.name, Campaign.status, Campaign.start_date,
                   Campaign.end_date)
            .where(Campaign.deleted_at.is_(None), Campaign.start_date <= last,
                   or_(Campaign.end_date.is_(None), Campaign.end_date >= first))
            .order_by(Campaign.start_date, Campaign.id)
            .limit(MAX_ITEMS + 1)
        )
    ).all()  # fmt: skip
    for row in campaigns[:MAX_ITEMS]:
        for day in _days(max(row.start_date, first), min(row.end_date or last, last)):
            days[day]["campaign_ids"].append(row.id)

    calendars = (
        await session.execute(
            select(EditorialCalendar.id, EditorialCalendar.name, EditorialCalendar.entries)
            .where(EditorialCalendar.deleted_at.is_(None))
            .order_by(EditorialCalendar.created_at, EditorialCalendar.id)
        )
    ).all()
    for cal in calendars:
        for entry in cal.entries:
            on = dt.date.fromisoformat(entry["date"])
            until = dt.date.fromisoformat(entry["end_date"]) if entry.get("end_date") else on
            for day in _days(max(on, first), min(until, last)):
                days[day]["entries"].append(
                    {"calendar_id": cal.id, "calendar_name": cal.name, "kind": entry["kind"],
                     "title": entry["title"], "note": entry.get("note"), "date": on,
                     "end_date": entry.get("end_date")}
                )  # fmt: skip

    return {
        "from": first,
        "to": last,
        "timezone": timezone,
        "truncated": len(posts) > MAX_ITEMS
        or len(emails) > MAX_ITEMS
        or len(campaigns) > MAX_ITEMS,
        "campaigns": [row._asdict() for row in campaigns[:MAX_ITEMS]],
        "days": [{"date": day, **days[day]} for day in sorted(days)],
    }


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
