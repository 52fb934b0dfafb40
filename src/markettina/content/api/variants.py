"""A/B variants over HTTP: a parent's variants, its traffic split set at once, counters
recorded atomically, the statistics of the test and the declaration of its winner."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from markettina.identity.public import Actor, Transaction, not_plain, require
from markettina.kernel.pagination import Page

from .. import variants
from ..ab_statistics import Analysis
from ..schemas.variants import (
    AnalysisOut,
    Level,
    Metric,
    ParentId,
    ParentType,
    TrafficSplit,
    VariantCounts,
    VariantCreate,
    VariantOut,
    VariantUpdate,
    WinnerOut,
    WinnerRequest,
)

router = APIRouter(prefix="/variants", tags=["content"])

VariantsRead = Annotated[Actor, require("content:read")]
VariantsWrite = Annotated[Actor, require("content:write")]
ParentTypeQuery = Annotated[ParentType, Query(description="post or email_campaign")]
ParentIdQuery = Annotated[ParentId, Query()]


def _analysis(found: Analysis) -> AnalysisOut:
    return AnalysisOut.model_validate(variants.analysis_payload(found))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VariantOut,
    summary="Add a variant to a post or e-mail campaign (inactive until a split includes it)",
)
async def create_variant(
    body: VariantCreate, actor: VariantsWrite, session: Transaction
) -> VariantOut:
    made = await variants.create_variant(session, account_id=actor.account_id, fields=body)
    return VariantOut.model_validate(made)


@router.get(
    "",
    response_model=Page[VariantOut],
    summary="The variants of one post or e-mail campaign, oldest first (one page)",
)
@not_plain(
    "the variants of one parent: its two filters are required, and a test has a "
    "handful of arms, answered oldest first in one page"
)
async def list_variants(
    actor: VariantsRead,
    session: Transaction,
    parent_content_type: ParentTypeQuery,
    parent_content_id: ParentIdQuery,
) -> Page[VariantOut]:
    found = await variants.list_variants(
        session,
        account_id=actor.account_id,
        parent_type=parent_content_type,
        parent_id=parent_content_id,
    )
    return Page[VariantOut](items=[VariantOut.model_validate(v) for v in found], next_cursor=None)


@router.put(
    "/split",
    response_model=Page[VariantOut],
    summary="Set a parent's whole traffic split at once (the listed variants, summing to 100)",
)
async def set_split(
    body: TrafficSplit, actor: VariantsWrite, session: Transaction
) -> Page[VariantOut]:
    found = await variants.set_split(session, account_id=actor.account_id, split=body)
    return Page[VariantOut](items=[VariantOut.model_validate(v) for v in found], next_cursor=None)


@router.get(
    "/analysis",
    response_model=AnalysisOut,
    summary="The statistics of a parent's test: each arm, the z-tests, the decision and why",
)
async def analyse(
    actor: VariantsRead,
    session: Transaction,
    parent_content_type: ParentTypeQuery,
    parent_content_id: ParentIdQuery,
    metric: Annotated[Metric, Query()] = "conversions",
    level: Annotated[Level, Query(description="The significance level (two-sided).")] = "0.05",
) -> AnalysisOut:
    found = await variants.analyse(
        session,
        account_id=actor.account_id,
        parent_type=parent_content_type,
        parent_id=parent_content_id,
        metric=metric,
        level=float(level),
    )
    return _analysis(found)


@router.get("/{variant_id}", response_model=VariantOut, summary="One variant")
async def read_variant(
    variant_id: uuid.UUID, actor: VariantsRead, session: Transaction
) -> VariantOut:
    found = await variants.get_variant(session, account_id=actor.account_id, variant_id=variant_id)
    return VariantOut.model_validate(found)


@router.patch("/{variant_id}", response_model=VariantOut, summary="Change a variant's text")
async def update_variant(
    variant_id: uuid.UUID, body: VariantUpdate, actor: VariantsWrite, session: Transaction
) -> VariantOut:
    found = await variants.update_variant(
        session, account_id=actor.account_id, variant_id=variant_id, fields=body
    )
    return VariantOut.model_validate(found)


@router.delete(
    "/{variant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a variant that takes no part in the traffic split",
)
async def delete_variant(variant_id: uuid.UUID, actor: VariantsWrite, session: Transaction) -> None:
    await variants.delete_variant(session, account_id=actor.account_id, variant_id=variant_id)


@router.post(
    "/{variant_id}/counts",
    response_model=VariantOut,
    summary="Add impressions, clicks and conversions (atomically)",
)
async def record_counts(
    variant_id: uuid.UUID, body: VariantCounts, actor: VariantsWrite, session: Transaction
) -> VariantOut:
    found = await variants.record_counts(
        session, account_id=actor.account_id, variant_id=variant_id, counts=body
    )
    return VariantOut.model_validate(found)


@router.post(
    "/{variant_id}/declare-winner",
    response_model=WinnerOut,
    summary="End the test with this variant as winner, if the z-test says it is significant",
)
async def declare_winner(
    variant_id: uuid.UUID,
    actor: VariantsWrite,
    session: Transaction,
    body: WinnerRequest | None = None,
) -> WinnerOut:
    asked = body or WinnerRequest()
    winner, analysis = await variants.declare_winner(
        session,
        account_id=actor.account_id,
        variant_id=variant_id,
        metric=asked.metric,
        level=float(asked.level),
    )
    return WinnerOut(variant=VariantOut.model_validate(winner), analysis=_analysis(analysis))
