"""The lead pipeline: which status may follow which, and the append-only record of every
change (who, when, from, to) with its events.

    NEW -> CONTACTED -> QUALIFIED -> PROPOSAL_SENT <-> NEGOTIATION -> WON
    any open stage -> LOST;  PROPOSAL_SENT -> WON;  LOST -> NEW (reopened);  WON is final

A CSV import does not walk the pipeline: it may move a lead forward by several stages, never
backwards, and never out of WON or LOST (``import_status``).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import newest_first
from markettina.kernel.events import record
from markettina.kernel.pagination import Page, page_of

from .errors import IllegalLeadTransition
from .events import LeadConverted, LeadStatusChanged
from .models import LeadStatusChange

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "NEW": ("CONTACTED", "LOST"),
    "CONTACTED": ("QUALIFIED", "LOST"),
    "QUALIFIED": ("PROPOSAL_SENT", "LOST"),
    "PROPOSAL_SENT": ("NEGOTIATION", "WON", "LOST"),
    "NEGOTIATION": ("PROPOSAL_SENT", "WON", "LOST"),
    "WON": (),
    "LOST": ("NEW",),
}
FINAL = ("WON", "LOST")
# how far along a lead is: an import keeps the furthest
RANK = {
    "NEW": 0,
    "CONTACTED": 1,
    "QUALIFIED": 2,
    "PROPOSAL_SENT": 3,
    "NEGOTIATION": 4,
    "WON": 5,
    "LOST": 5,
}


def check_transition(from_status: str, to_status: str) -> None:
    """409 ``illegal_transition`` naming both states unless the pipeline allows the move."""
    allowed = TRANSITIONS[from_status]
    if to_status not in allowed:
        raise IllegalLeadTransition(from_status, to_status, allowed)


def import_status(current: str, incoming: str | None) -> str:
    """The status after an import row: a final status stays; otherwise the furthest wins."""
    if incoming is None or current in FINAL:
        return current
    if incoming in FINAL or RANK[incoming] > RANK[current]:
        return incoming
    return current


async def record_status_change(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    lead_id: int,
    from_status: str,
    to_status: str,
    changed_by: int | None,
    via: str = "api",
) -> None:
    """The history row and the events of one change (``lead.converted`` when it is WON)."""
    session.add(
        LeadStatusChange(
            account_id=account_id,
            lead_id=lead_id,
            from_status=from_status,
            to_status=to_status,
            changed_by=changed_by,
            via=via,
        )
    )
    await record(
        session,
        LeadStatusChanged(
            lead_id=lead_id, from_status=from_status, to_status=to_status, changed_by=changed_by
        ),
        account_id=account_id,
        aggregate_id=lead_id,
    )
    if to_status == "WON":
        await record(
            session,
            LeadConverted(lead_id=lead_id, changed_by=changed_by),
            account_id=account_id,
            aggregate_id=lead_id,
        )


async def list_history(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    lead_id: int,
    limit: int,
    cursor: str | None,
) -> Page[LeadStatusChange]:
    """A lead's status changes, newest first."""
    statement = select(LeadStatusChange).where(
        LeadStatusChange.account_id == account_id, LeadStatusChange.lead_id == lead_id
    )
    statement = newest_first(
        statement,
        at=LeadStatusChange.created_at,
        id_=LeadStatusChange.id,
        limit=limit,
        cursor=cursor,
    )
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda change: (change.created_at.isoformat(), change.id))
