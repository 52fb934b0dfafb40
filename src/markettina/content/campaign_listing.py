"""Pages of an account's campaigns, newest first, rendered by PostgreSQL.

The unfiltered list is a plain read (the read lane answers it); a filtered one (status,
tag, a range of days) is the same statement with the filters, each left out when null, so
both render the same items the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Date, Text, and_, bindparam, cast, or_, select
from sqlalchemy.dialects.postgresql import array

from markettina.identity.public import Actor
from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.db.raw import InTransaction

from .models import Campaign

LISTED = (
    Campaign.id, Campaign.name, Campaign.description, Campaign.start_date, Campaign.end_date,
    Campaign.status, Campaign.target_reach, Campaign.target_engagement,
    Campaign.target_conversions, Campaign.target_leads, Campaign.budget_tokens,
    Campaign.spent_tokens, Campaign.tags, Campaign.created_by, Campaign.created_at,
    Campaign.updated_at, Campaign.version,
)  # fmt: skip

_OWN = and_(Campaign.account_id == bindparam("account_id"), Campaign.deleted_at.is_(None))


def _text(name: str) -> Any:
    return cast(bindparam(name, type_=Text), Text)


def _day(name: str) -> Any:
    return cast(bindparam(name, type_=Date), Date)


_FROM, _TO = _day("from_date"), _day("to_date")
# a campaign runs from start_date to end_date, either end open; one with neither date is
# not on the calendar, so a range of days never finds it
_IN_RANGE = or_(
    and_(_FROM.is_(None), _TO.is_(None)),
    and_(
        or_(Campaign.start_date.is_not(None), Campaign.end_date.is_not(None)),
        or_(_FROM.is_(None), Campaign.end_date.is_(None), Campaign.end_date >= _FROM),
        or_(_TO.is_(None), Campaign.start_date.is_(None), Campaign.start_date <= _TO),
    ),
)
_FILTERS = and_(
    or_(_text("status").is_(None), Campaign.status == _text("status")),
    or_(_text("tag").is_(None), Campaign.tags.contains(array([_text("tag")]))),
    _IN_RANGE,
)


LISTED_PAGE = NewestFirst(select(*LISTED).where(_OWN), at=Campaign.created_at, id_=Campaign.id)
FILTERED_PAGE = NewestFirst(
    select(*LISTED).where(_OWN, _FILTERS), at=Campaign.created_at, id_=Campaign.id
)


def listed_of(actor: Actor) -> dict[str, Any]:
    """The parameters of LISTED_PAGE: the acting account's campaigns."""
    return {"account_id": actor.account_id}


@dataclass(frozen=True)
class CampaignFilters:
    status: str | None = None
    tag: str | None = None
    from_date: dt.date | None = None
    to_date: dt.date | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.status, self.tag, self.from_date, self.to_date))

    def params(self) -> dict[str, Any]:
        return {
            "status": self.status, "tag": self.tag, "from_date": self.from_date,
            "to_date": self.to_date,
        }  # fmt: skip


async def campaigns_page(
    session: InTransaction,
    *,
    actor: Actor,
    filters: CampaignFilters,
    limit: int,
    cursor: str | None,
) -> bytes:
    """A page of LISTED as the JSON body of ``Page[CampaignOut]``."""
    if not filters.any:
        return await LISTED_PAGE.json_page(session, limit=limit, cursor=cursor, **listed_of(actor))
    return await FILTERED_PAGE.json_page(
        session, limit=limit, cursor=cursor, **listed_of(actor), **filters.params()
    )
