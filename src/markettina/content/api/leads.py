"""Leads over HTTP: CRUD with filters, the status history, the explained score, the
scoring weights and CSV imports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from markettina.identity.public import (
    Actor,
    Transaction,
    not_plain,
    of_acting_account,
    plain_read,
    require,
)
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.inputs import PositiveInt32Param, Timestamp

from .. import lead_import_job, lead_pipeline, lead_scoring, leads
from ..lead_tasks import defer_rescore, import_leads
from ..schemas.leads import (
    LeadCreate,
    LeadImportCreate,
    LeadImportStarted,
    LeadOut,
    LeadScoreOut,
    LeadStatus,
    LeadUpdate,
    RuleOut,
    ScoringWeights,
    ScoringWeightsOut,
    StatusChangeOut,
)

router = APIRouter(prefix="/leads", tags=["leads"])
scoring_router = APIRouter(prefix="/lead-scoring", tags=["leads"])
imports_router = APIRouter(prefix="/lead-imports", tags=["leads"])

LeadsRead = Annotated[Actor, require("content:read")]
LeadsWrite = Annotated[Actor, require("content:write")]
LeadId = PositiveInt32Param


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LeadOut,
    summary="Create a lead (scored at once)",
)
async def create_lead(
    body: LeadCreate, actor: LeadsWrite, session: Transaction, response: Response
) -> LeadOut:
    lead = await leads.create_lead(
        session, account_id=actor.account_id, created_by=actor.user_id, fields=body
    )
    response.headers["ETag"] = f'"{lead.version}"'
    return LeadOut.model_validate(lead)


@router.get(
    "",
    response_model=Page[LeadOut],
    summary="The account's leads, newest first, filtered by every parameter given",
)
@plain_read(leads.LISTED_PAGE, of_acting_account)
async def list_leads(
    actor: LeadsRead,
    session: Transaction,
    lead_status: Annotated[LeadStatus | None, Query(alias="status")] = None,
    source: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    score_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    score_max: Annotated[int | None, Query(ge=0, le=100)] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    created_after: Annotated[Timestamp | None, Query(description="Inclusive.")] = None,
    created_before: Annotated[Timestamp | None, Query(description="Exclusive.")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Part of the name, e-mail or company (case-insensitive).",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    filters = leads.LeadFilters(
        status=lead_status,
        source=source,
        score_min=score_min,
        score_max=score_max,
        tag=tag,
        created_after=created_after,
        created_before=created_before,
        q=q,
    )
    if filters == leads.LeadFilters():
        body = await leads.LISTED_PAGE.json_page(
            session, limit=limit, cursor=cursor, **of_acting_account(actor)
        )
        return Response(body, media_type="application/json")
    page = await leads.list_leads(
        session, account_id=actor.account_id, filters=filters, limit=limit, cursor=cursor
    )
    rendered = Page[LeadOut](
        items=[LeadOut.model_validate(lead) for lead in page.items], next_cursor=page.next_cursor
    )
    return Response(rendered.model_dump_json(), media_type="application/json")


@router.get("/{lead_id}", response_model=LeadOut, summary="One lead (its version is the ETag)")
async def read_lead(
    lead_id: LeadId, actor: LeadsRead, session: Transaction, response: Response
) -> LeadOut:
    lead = await leads.get_lead(session, account_id=actor.account_id, lead_id=lead_id)
    response.headers["ETag"] = f'"{lead.version}"'
    return LeadOut.model_validate(lead)


@router.patch(
    "/{lead_id}",
    response_model=LeadOut,
    summary="Change a lead (If-Match or body version); a status walks the pipeline",
)
async def update_lead(
    lead_id: LeadId,
    body: LeadUpdate,
    actor: LeadsWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> LeadOut:
    lead = await leads.update_lead(
        session,
        account_id=actor.account_id,
        lead_id=lead_id,
        expected_version=version_read(if_match, body.version, "lead"),
        fields=body,
        changed_by=actor.user_id,
    )
    response.headers["ETag"] = f'"{lead.version}"'
    return LeadOut.model_validate(lead)


@router.delete(
    "/{lead_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a lead (If-Match optional); its e-mail is free again",
)
async def delete_lead(
    lead_id: LeadId, actor: LeadsWrite, session: Transaction, if_match: IfMatch = None
) -> None:
    await leads.delete_lead(
        session,
        account_id=actor.account_id,
        lead_id=lead_id,
        expected_version=version_read(if_match, None, "lead"),
        deleted_by=actor.user_id,
    )


@router.get(
    "/{lead_id}/history",
    response_model=Page[StatusChangeOut],
    summary="A lead's status changes (who, when, from, to), newest first",
)
@not_plain("a path parameter (the lead): the read lane answers fixed paths")
async def lead_history(
    lead_id: LeadId,
    actor: LeadsRead,
    session: Transaction,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StatusChangeOut]:
    await leads.get_lead(session, account_id=actor.account_id, lead_id=lead_id)
    page = await lead_pipeline.list_history(
        session, account_id=actor.account_id, lead_id=lead_id, limit=limit, cursor=cursor
    )
    return Page[StatusChangeOut](
        items=[StatusChangeOut.model_validate(change) for change in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{lead_id}/score",
    response_model=LeadScoreOut,
    summary="Why a lead has its score: each rule's weight, fraction, points, reason",
)
async def lead_score(lead_id: LeadId, actor: LeadsRead, session: Transaction) -> LeadScoreOut:
    lead = await leads.get_lead(session, account_id=actor.account_id, lead_id=lead_id)
    breakdown = lead.score_breakdown or {}
    rules = breakdown.get("rules", {})
    return LeadScoreOut(
        lead_id=lead.id,
        score=lead.score,
        scored_at=lead.scored_at,
        total_weight=int(breakdown.get("total_weight", 0)),
        rules=[RuleOut(rule=name, **rules[name]) for name in lead_scoring.RULES if name in rules],
        engagement={
            "email_opens": lead.email_opens,
            "email_clicks": lead.email_clicks,
            "form_submissions": lead.form_submissions,
            "last_engaged_at": lead.last_engaged_at,
        },
    )


def _weights_out(weights: lead_scoring.Weights) -> ScoringWeightsOut:
    return ScoringWeightsOut(
        weights=weights.weights,
        version=weights.version,
        updated_at=weights.updated_at,
        defaults=dict(lead_scoring.DEFAULT_WEIGHTS),
    )


@scoring_router.get(
    "/weights",
    response_model=ScoringWeightsOut,
    summary="The account's lead scoring weights (the defaults until changed)",
)
async def read_weights(
    actor: LeadsRead, session: Transaction, response: Response
) -> ScoringWeightsOut:
    weights = await lead_scoring.account_weights(session, account_id=actor.account_id)
    response.headers["ETag"] = f'"{weights.version}"'
    return _weights_out(weights)


@scoring_router.put(
    "/weights",
    response_model=ScoringWeightsOut,
    summary="Replace the account's scoring weights; its leads are rescored in the background",
)
async def replace_weights(
    body: ScoringWeights,
    actor: LeadsWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> ScoringWeightsOut:
    weights = await lead_scoring.set_weights(
        session,
        account_id=actor.account_id,
        weights=body.weights(),
        expected_version=version_read(if_match, body.version, "weights"),
        updated_by=actor.user_id,
    )
    await defer_rescore(session, actor.account_id)
    response.headers["ETag"] = f'"{weights.version}"'
    return _weights_out(weights)


@imports_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LeadImportStarted,
    summary="Import leads from a CSV file, as a job (follow it at /v1/jobs/{job_id})",
)
async def import_leads_csv(
    body: LeadImportCreate, actor: LeadsWrite, session: Transaction
) -> LeadImportStarted:
    job_id, import_id, rows, columns = await lead_import_job.stage_import(
        session,
        account_id=actor.account_id,
        created_by=actor.user_id,
        csv_text=body.csv,
        mapping=dict(body.mapping),
        task=import_leads,
    )
    return LeadImportStarted(job_id=job_id, import_id=import_id, rows=rows, columns=columns)
