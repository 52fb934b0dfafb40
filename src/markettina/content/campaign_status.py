"""A campaign's status machine: planning → active ⇄ paused → completed → archived.

A campaign is completed from active or paused; archiving puts a completed one away. Each
move publishes its event (campaign.activated, .paused, .completed, .archived) in the
moving transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.events import Event, record

from .errors import IllegalCampaignTransition
from .events import CampaignActivated, CampaignArchived, CampaignCompleted, CampaignPaused
from .models import Campaign

# the statuses each status may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "planning": frozenset({"active"}),
    "active": frozenset({"paused", "completed"}),
    "paused": frozenset({"active", "completed"}),
    "completed": frozenset({"archived"}),
    "archived": frozenset(),
}


def check_transition(current: str, requested: str) -> None:
    """409 ``illegal_status_transition`` naming both statuses unless the machine has the
    arrow (staying where it is is no move, and allowed)."""
    if requested != current and requested not in TRANSITIONS[current]:
        raise IllegalCampaignTransition(current, requested)


def _event(moved: Campaign, previous: str, changed_by: int | None) -> Event:
    common: dict[str, Any] = {
        "campaign_id": moved.id, "name": moved.name, "previous_status": previous,
        "changed_by": changed_by,
    }  # fmt: skip
    if moved.status == "active":
        return CampaignActivated(**common, start_date=moved.start_date, end_date=moved.end_date)
    if moved.status == "paused":
        return CampaignPaused(**common)
    if moved.status == "completed":
        return CampaignCompleted(
            **common, spent_tokens=moved.spent_tokens, budget_tokens=moved.budget_tokens
        )
    return CampaignArchived(**common)


async def record_move(
    session: AsyncSession, moved: Campaign, *, previous: str, changed_by: int | None
) -> None:
    """The event of a move the campaign just made (nothing when its status is unchanged)."""
    if moved.status == previous:
        return
    await record(
        session,
        _event(moved, previous, changed_by),
        account_id=moved.account_id,
        aggregate_id=moved.id,
        aggregate_version=moved.version,
    )
