"""Rescoring leads outside a change of the lead itself: when one engages (an e-mail opened
or clicked, a form submitted: the event handlers in ``lead_tasks``) and when the account's
weights change (every live lead, in batches, by a job). Neither is a new version of the
lead (migration 0023: the score and the counters are not what a person edits)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .lead_scoring import LeadFacts, Weights, account_weights, score_lead, transaction_now
from .leads import record_score_change
from .models import Lead

Engagement = Literal["email_opened", "email_clicked", "form_submitted"]
_COUNTERS: dict[str, str] = {
    "email_opened": "email_opens",
    "email_clicked": "email_clicks",
    "form_submitted": "form_submissions",
}
RESCORE_BATCH = 500


async def rescore(
    session: AsyncSession, lead: Lead, weights: Weights, now: dt.datetime, **changes: object
) -> None:
    """Write ``changes`` and the lead's new score in one update; ``lead.score_changed``
    when the number moved."""
    facts = LeadFacts.of(lead, **changes)
    scored = score_lead(facts, weights.weights, now)
    from_score = lead.score
    await session.execute(
        update(Lead)
        .where(Lead.account_id == lead.account_id, Lead.id == lead.id)
        .values(**changes, score=scored.score, score_breakdown=scored.breakdown, scored_at=now)
    )
    await record_score_change(
        session,
        account_id=lead.account_id,
        lead_id=lead.id,
        from_score=from_score,
        to_score=scored.score,
    )


async def record_engagement(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    kind: Engagement,
    lead_id: int | None,
    email: str | None,
    at: dt.datetime,
) -> bool:
    """Count one engagement of the live lead named by id (or else by e-mail) and rescore
    it; False when no such lead exists (the event is about someone who is not a lead)."""
    statement = select(Lead).where(Lead.account_id == account_id, Lead.deleted_at.is_(None))
    if lead_id is not None:
        statement = statement.where(Lead.id == lead_id)
    elif email:
        statement = statement.where(Lead.email == email.strip().lower())
    else:
        return False
    lead = (await session.execute(statement.with_for_update())).scalar_one_or_none()
    if lead is None:
        return False
    counter = _COUNTERS[kind]
    last = lead.last_engaged_at
    await rescore(
        session,
        lead,
        await account_weights(session, account_id=account_id),
        await transaction_now(session),
        **{
            counter: getattr(lead, counter) + 1,
            "last_engaged_at": at if last is None or at > last else last,
        },
    )
    return True


async def rescore_batch(
    session: AsyncSession, *, account_id: uuid.UUID, after_id: int, batch: int = RESCORE_BATCH
) -> int | None:
    """Rescore up to ``batch`` live leads with ids above ``after_id``, with the account's
    current weights; the last id done, or None when none was left."""
    leads = list(
        (
            await session.execute(
                select(Lead)
                .where(Lead.account_id == account_id, Lead.deleted_at.is_(None), Lead.id > after_id)
                .order_by(Lead.id)
                .limit(batch)
                .with_for_update()
            )
        ).scalars()
    )
    if not leads:
        return None
    weights = await account_weights(session, account_id=account_id)
    now = await transaction_now(session)
    for lead in leads:
        await rescore(session, lead, weights, now)
    return leads[-1].id
