"""Leads of an account: created, read, listed with filters, changed under optimistic locking
(a status change walks the pipeline), soft-deleted; rescored whenever they change.

E-mails are stored trimmed and lower-cased; PostgreSQL keeps them unique among an account's
live leads (``uq_leads_account_id_email``: a duplicate is a 409). The text search (``q``)
is a case-insensitive substring of the name, e-mail or company: an ILIKE over the
account's leads, which the account's own index narrows first (no trigram extension is
assumed on every server; docs/database/decisions.md).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db.keyset import NewestFirst
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.events import record
from markettina.kernel.pagination import Page, page_of

from .errors import LeadNotFound, LeadVersionConflict
from .events import LeadConverted, LeadScoreChanged
from .lead_pipeline import check_transition, record_status_change
from .lead_scoring import LeadFacts, account_weights, score_lead, transaction_now
from .models import Lead
from .schemas.leads import LeadCreate, LeadUpdate

# the columns of ``LeadOut``, in its order
LISTED = (
    Lead.id,
    Lead.name,
    Lead.email,
    Lead.phone,
    Lead.company,
    Lead.source,
    Lead.status,
    Lead.score,
    Lead.notes,
    Lead.tags,
    Lead.utm_source,
    Lead.utm_medium,
    Lead.utm_campaign,
    Lead.utm_term,
    Lead.utm_content,
    Lead.scored_at,
    Lead.user_id,
    Lead.created_by,
    Lead.created_at,
    Lead.updated_at,
    Lead.version,
)


LISTED_PAGE = NewestFirst(
    select(*LISTED).where(Lead.account_id == bindparam("account_id"), Lead.deleted_at.is_(None)),
    at=Lead.created_at,
    id_=Lead.id,
)


@dataclass(frozen=True)
class LeadFilters:
    status: str | None = None
    source: str | None = None
    score_min: int | None = None
    score_max: int | None = None
    tag: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    q: str | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(statement: Select[Any], filters: LeadFilters) -> Select[Any]:
    if filters.status is not None:
        statement = statement.where(Lead.status == filters.status)
    if filters.source is not None:
        statement = statement.where(func.lower(Lead.source) == filters.source.strip().lower())
    if filters.score_min is not None:
        statement = statement.where(Lead.score >= filters.score_min)
    if filters.score_max is not None:
        statement = statement.where(Lead.score <= filters.score_max)
    if filters.tag is not None:
        statement = statement.where(Lead.tags.contains([filters.tag]))
    if filters.created_after is not None:
        statement = statement.where(Lead.created_at >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(Lead.created_at < filters.created_before)
    if filters.q:
        pattern = _like(filters.q.strip())
        statement = statement.where(
            or_(
                Lead.name.ilike(pattern, escape="\\"),
                Lead.email.ilike(pattern, escape="\\"),
                Lead.company.ilike(pattern, escape="\\"),
            )
        )
    return statement


async def list_leads(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    filters: LeadFilters,
    limit: int,
    cursor: str | None,
) -> Page[Lead]:
    """The account's live leads matching every filter given, newest first."""
    if (
        filters.score_min is not None
        and filters.score_max is not None
        and filters.score_min > filters.score_max
    ):
        raise ValidationFailed(
            "score_min is above score_max",
            errors=[FieldError("query.score_min", "above score_max", "invalid_range")],
        )
    statement = _filtered(
        select(Lead).where(Lead.account_id == account_id, Lead.deleted_at.is_(None)), filters
    )
    statement = statement.order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit + 1)
    after = LISTED_PAGE.read_cursor(cursor)
    if after is not None:
        statement = statement.where(tuple_(Lead.created_at, Lead.id) < tuple_(*after))
    rows = list((await session.execute(statement)).scalars())
    return page_of(rows, limit, lambda lead: (lead.created_at.isoformat(), lead.id))


async def get_lead(
    session: AsyncSession, *, account_id: uuid.UUID, lead_id: int, lock: bool = False
) -> Lead:
    statement = select(Lead).where(
        Lead.account_id == account_id, Lead.id == lead_id, Lead.deleted_at.is_(None)
    )
    if lock:
        statement = statement.with_for_update()
    lead = (await session.execute(statement)).scalar_one_or_none()
    if lead is None:
        raise LeadNotFound
    return lead


async def create_lead(
    session: AsyncSession, *, account_id: uuid.UUID, created_by: int | None, fields: LeadCreate
) -> Lead:
    """A new lead, scored as it is created (``lead.created`` is written by the table's
    change capture; ``lead.converted`` too when it is created WON)."""
    weights = await account_weights(session, account_id=account_id)
    now = await transaction_now(session)
    values = fields.model_dump()
    facts = LeadFacts.of(
        None,
        **{
            **{name: values.get(name) for name in LeadFacts.__dataclass_fields__},
            "email_opens": 0,
            "email_clicks": 0,
            "form_submissions": 0,
            "last_engaged_at": None,
            "created_at": now,
        },
    )
    scored = score_lead(facts, weights.weights, now)
    lead = Lead(
        account_id=account_id,
        user_id=created_by,
        created_by=created_by,
        **values,
        score=scored.score,
        score_breakdown=scored.breakdown,
        scored_at=now,
    )
    session.add(lead)
    await session.flush()
    await session.refresh(lead)
    if lead.status == "WON":
        await record(
            session,
            LeadConverted(lead_id=lead.id, changed_by=created_by),
            account_id=account_id,
            aggregate_id=lead.id,
        )
    return lead


async def update_lead(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    lead_id: int,
    expected_version: int | None,
    fields: LeadUpdate,
    changed_by: int | None,
) -> Lead:
    """Change the lead if it is still at ``expected_version``; a new status must be one
    the pipeline allows from the current one; the lead is rescored."""
    current = await get_lead(session, account_id=account_id, lead_id=lead_id, lock=True)
    if expected_version is None:
        raise ValidationFailed(
            "send the version you read, as If-Match or in the body",
            errors=[FieldError("body.version", "required (or If-Match)", "missing")],
        )
    if current.version != expected_version:
        raise LeadVersionConflict(current.version)
    changes = fields.changes()
    if changes.get("status") == current.status:
        del changes["status"]
    from_status = current.status
    if "status" in changes:
        check_transition(from_status, changes["status"])
    if not changes:
        return current
    weights = await account_weights(session, account_id=account_id)
    now = await transaction_now(session)
    facts = LeadFacts.of(current, **changes)
    scored = score_lead(facts, weights.weights, now)
    from_score = current.score
    updated = (
        await session.execute(
            update(Lead)
            .where(
                Lead.account_id == account_id, Lead.id == lead_id, Lead.version == expected_version
            )
            .values(**changes, score=scored.score, score_breakdown=scored.breakdown, scored_at=now)
            .returning(Lead)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    ).scalar_one()
    if "status" in changes:
        await record_status_change(
            session,
            account_id=account_id,
            lead_id=lead_id,
            from_status=from_status,
            to_status=changes["status"],
            changed_by=changed_by,
        )
    await record_score_change(
        session,
        account_id=account_id,
        lead_id=lead_id,
        from_score=from_score,
        to_score=updated.score,
    )
    return updated


async def delete_lead(
    session: AsyncSession,
    *,
    account_id: uuid.UUID,
    lead_id: int,
    expected_version: int | None,
    deleted_by: int | None,
) -> None:
    """Soft-delete (at ``expected_version`` when given): its e-mail is free again."""
    current = await get_lead(session, account_id=account_id, lead_id=lead_id, lock=True)
    if expected_version is not None and current.version != expected_version:
        raise LeadVersionConflict(current.version)
    await session.execute(
        update(Lead)
        .where(Lead.account_id == account_id, Lead.id == lead_id)
        .values(deleted_at=func.now(), deleted_by=deleted_by)
    )


async def record_score_change(
    session: AsyncSession, *, account_id: uuid.UUID, lead_id: int, from_score: int, to_score: int
) -> None:
    if from_score != to_score:
        await record(
            session,
            LeadScoreChanged(lead_id=lead_id, from_score=from_score, to_score=to_score),
            account_id=account_id,
            aggregate_id=lead_id,
        )
