"""GET /v1/events: the acting account's domain events, newest first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from markettina.identity.public import ROWS_IN_PYTHON, Actor, Transaction, not_plain, require
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.events.log import EventFilter, list_events
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.inputs import Timestamp

router = APIRouter(tags=["events"])

EventsRead = Annotated[Actor, require("events:read")]

TYPE_PATTERN = r"^[a-z0-9_.*]+$"


class EventOut(BaseModel):
    id: uuid.UUID
    type: str = Field(description="The event type, e.g. `campaign.created` (docs/events.md).")
    version: int = Field(description="The payload's schema version.")
    aggregate_type: str
    aggregate_id: str
    aggregate_version: int
    data: dict[str, Any] = Field(description="The payload, as docs/events.md describes it.")
    metadata: dict[str, Any]
    created_at: dt.datetime
    processed_at: dt.datetime | None = Field(
        description="When the relay handed the event to every handler; null until then."
    )


@router.get(
    "/events",
    response_model=Page[EventOut],
    summary="The account's domain events, newest first (filter by type, aggregate, time)",
)
@not_plain(ROWS_IN_PYTHON)
async def get_events(
    actor: EventsRead,
    session: Transaction,
    type_: Annotated[
        str | None,
        Query(
            alias="type",
            max_length=200,
            pattern=TYPE_PATTERN,
            description="An event type, or a pattern with `*` wildcards (`campaign.*`).",
        ),
    ] = None,
    aggregate_type: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    aggregate_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    since: Annotated[
        Timestamp | None, Query(description="Events at or after this instant (RFC 3339).")
    ] = None,
    until: Annotated[
        Timestamp | None, Query(description="Events before this instant (RFC 3339).")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[EventOut]:
    if since is not None and until is not None and until <= since:
        raise ValidationFailed(
            "until must come after since",
            errors=[FieldError("query.until", "must be later than since", "invalid_range")],
        )
    where = EventFilter(
        type_pattern=type_, aggregate_type=aggregate_type, aggregate_id=aggregate_id,
        since=since, until=until,
    )  # fmt: skip
    page = await list_events(
        session, account_id=actor.account_id, where=where, limit=limit, cursor=cursor
    )
    return Page[EventOut](
        items=[_event_out(row) for row in page.items], next_cursor=page.next_cursor
    )


def _event_out(row: dict[str, Any]) -> EventOut:
    return EventOut(
        id=row["id"], type=row["event_type"], version=row["event_version"],
        aggregate_type=row["aggregate_type"], aggregate_id=row["aggregate_id"],
        aggregate_version=row["aggregate_version"], data=row["event_data"],
        metadata=row["event_metadata"], created_at=row["created_at"],
        processed_at=row["processed_at"],
    )  # fmt: skip
