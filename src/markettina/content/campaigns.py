"""Campaigns: create, read, change (optimistic locking, the status machine) and delete.

A change names the version it was made on (If-Match or ``body.version``); the row is
locked while it is checked and written, so of two editors saving the same version one wins
and the other gets 409 ``version_conflict``. ``spent_tokens`` is not the campaign's to
write: only the ledger moves it (billing's ``charge(..., campaign_id=...)``, revision 0023),
and a charge does not move the version.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.errors import FieldError, ValidationFailed

from .campaign_status import check_transition, record_move
from .errors import CampaignNotFound, CampaignVersionConflict
from .models import Campaign

# what a create may set (status starts at planning, spent_tokens at zero)
_CREATABLE = frozenset({
    "name", "description", "start_date", "end_date", "target_reach", "target_engagement",
    "target_conversions", "target_leads", "budget_tokens", "tags",
})  # fmt: skip


async def create_campaign(
    session: AsyncSession, *, account_id: uuid.UUID, created_by: int | None, fields: dict[str, Any]
) -> Campaign:
    """A campaign in ``planning``; 422 naming ``body.end_date`` if it ends before it starts.
    Its ``campaign.created`` event is written by the table's change capture."""
    unknown = fields.keys() - _CREATABLE
    if unknown:
        raise TypeError(f"not creatable: {sorted(unknown)}")
    _check_dates(fields.get("start_date"), fields.get("end_date"), blame="end_date")
    created = (
        await session.execute(
            insert(Campaign)
            .values(account_id=account_id, created_by=created_by, **fields)
            .returning(Campaign)
        )
    ).scalar_one()
    return created


async def get_campaign(
    session: AsyncSession, *, account_id: uuid.UUID, campaign_id: uuid.UUID, lock: bool = False
) -> Campaign:
    """The campaign (not deleted), or 404 ``campaign_not_found``."""
    statement = select(Campaign).where(
        Campaign.account_id == account_id,
        Campaign.id == campaign_id,
        Campaign.deleted_at.is_(None),
    )
    if lock:
        statement = statement.with_for_update()
    found = (
        await session.execute(statement.execution_options(populate_existing=True))
    ).scalar_one_or_none()
    if found is None:
        raise CampaignNotFound()
    return found


async def update_campaign(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    campaign_id: uuid.UUID,
    expected_version: int | None,
    changes: dict[str, Any],
    changed_by: int | None,
) -> Campaign:
    """Change the campaign if it is still at ``expected_version``; a ``status`` in
    ``changes`` moves it along the status machine (409 ``illegal_status_transition``
    naming both statuses otherwise) and publishes the move's event."""
    current = await get_campaign(session, account_id=account_id, campaign_id=campaign_id, lock=True)
    if expected_version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    if current.version != expected_version:
        raise CampaignVersionConflict(current.version)
    changes = {k: v for k, v in changes.items() if getattr(current, k) != v}
    if not changes:
        return current
    _check_dates(
        changes.get("start_date", current.start_date),
        changes.get("end_date", current.end_date),
        blame="end_date" if "end_date" in changes else "start_date",
    )
    budget = changes.get("budget_tokens")
    if budget is not None and budget < current.spent_tokens:
        raise ValidationFailed(
            f"the campaign has already spent {current.spent_tokens} tokens",
            errors=[
                FieldError(
                    "body.budget_tokens",
                    f"below the {current.spent_tokens} tokens already spent",
                    "below_spent",
                )
            ],
        )
    previous = current.status
    if "status" in changes:
        check_transition(previous, changes["status"])
    moved = (
        await session.execute(
            update(Campaign)
            .where(Campaign.account_id == account_id, Campaign.id == campaign_id)
            .values(**changes)
            .returning(Campaign)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one()
    await record_move(session, moved, previous=previous, changed_by=changed_by)
    return moved


async def delete_campaign(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    campaign_id: uuid.UUID,
    expected_version: int | None,
    deleted_by: int | None,
) -> None:
    """Soft delete (its posts keep their campaign_id; its ledger entries stay). With
    ``expected_version``, only if the campaign is still at it."""
    current = await get_campaign(session, account_id=account_id, campaign_id=campaign_id, lock=True)
    if expected_version is not None and current.version != expected_version:
        raise CampaignVersionConflict(current.version)
    await session.execute(
        update(Campaign)
        .where(Campaign.account_id == account_id, Campaign.id == campaign_id)
        .values(deleted_at=dt.datetime.now(dt.UTC), deleted_by=deleted_by)
        .execution_options(synchronize_session=False)
    )


def _check_dates(start: dt.date | None, end: dt.date | None, *, blame: str) -> None:
    if start is not None and end is not None and start > end:
        raise ValidationFailed(
            "a campaign cannot end before it starts",
            errors=[
                FieldError(f"body.{blame}", "the start date is after the end date", "date_range")
            ],
        )
