"""Invoice numbers: gap-free and progressive per calendar year (UTC), ``2026-000123``.

One counter row per year, incremented by an upsert that holds the row lock until the
issuing transaction ends: concurrent issuers queue on it, a committed issue keeps its
number and a rolled-back one gives it back, so numbers have no gaps and no duplicates.
Taken as late as possible in a purchase, so the lock is held only for its last statements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# the date is read after the lock is granted, so numbers follow issue dates; an issuer that
# queued across midnight of 31 December keeps the year it asked in (and its last day)
_NEXT = text(
    """
    INSERT INTO invoice_counters AS c (year, last_number)
    VALUES (extract(year FROM clock_timestamp() AT TIME ZONE 'UTC')::int, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
    RETURNING year, last_number,
        LEAST((clock_timestamp() AT TIME ZONE 'UTC')::date, make_date(year, 12, 31)) AS issue_date
    """
)


@dataclass(frozen=True)
class InvoiceNumber:
    year: int
    sequence: int
    issue_date: dt.date

    def __str__(self) -> str:
        return f"{self.year}-{self.sequence:06d}"


async def next_invoice_number(session: AsyncSession) -> InvoiceNumber:
    """The next number of this year, held by the caller's transaction until it ends."""
    row = (await session.execute(_NEXT)).one()
    return InvoiceNumber(year=row.year, sequence=row.last_number, issue_date=row.issue_date)
