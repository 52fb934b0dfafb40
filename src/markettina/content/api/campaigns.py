"""Campaigns over HTTP: create, list (filters), read, change (If-Match), delete, summary."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from markettina.identity.public import Actor, Transaction, plain_read, require
from markettina.kernel.errors import FieldError, ValidationFailed
from markettina.kernel.pagination import Cursor, Limit, Page
from markettina.kernel.web.if_match import IfMatch, version_read
from markettina.kernel.web.inputs import CalendarDay

from .. import campaign_listing, campaign_summary, campaigns
from ..schemas.campaigns import (
    CampaignCreate,
    CampaignOut,
    CampaignStatus,
    CampaignSummary,
    CampaignUpdate,
)

router = APIRouter(prefix="/campaigns", tags=["content"])

CampaignsRead = Annotated[Actor, require("content:read")]
CampaignsWrite = Annotated[Actor, require("content:write")]


def _tagged(response: Response, campaign: CampaignOut) -> CampaignOut:
    response.headers["ETag"] = f'"{campaign.version}"'
    return campaign


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CampaignOut,
    summary="Create a campaign (it starts in planning)",
)
async def create_campaign(
    body: CampaignCreate, actor: CampaignsWrite, session: Transaction, response: Response
) -> CampaignOut:
    created = await campaigns.create_campaign(
        session, account_id=actor.account_id, created_by=actor.user_id,
        fields=body.model_dump(),
    )  # fmt: skip
    return _tagged(response, CampaignOut.model_validate(created))


@router.get(
    "",
    response_model=Page[CampaignOut],
    summary="The account's campaigns, newest first (filters: status, tag, a range of days)",
)
@plain_read(campaign_listing.LISTED_PAGE, campaign_listing.listed_of)
async def list_campaigns(
    actor: CampaignsRead,
    session: Transaction,
    campaign_status: Annotated[
        CampaignStatus | None, Query(alias="status", description="Only campaigns in this status.")
    ] = None,
    tag: Annotated[
        str | None, Query(min_length=1, max_length=50, description="Only campaigns with this tag.")
    ] = None,
    from_date: Annotated[
        CalendarDay | None,
        Query(description="Only campaigns running on or after this day (YYYY-MM-DD)."),
    ] = None,
    to_date: Annotated[
        CalendarDay | None,
        Query(description="Only campaigns running on or before this day (YYYY-MM-DD)."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    if from_date is not None and to_date is not None and from_date > to_date:
        raise ValidationFailed(
            "the range of days ends before it starts",
            errors=[FieldError("query.to_date", "before from_date", "date_range")],
        )
    filters = campaign_listing.CampaignFilters(
        status=campaign_status, tag=tag, from_date=from_date, to_date=to_date
    )
    body = await campaign_listing.campaigns_page(
        session, actor=actor, filters=filters, limit=limit, cursor=cursor
    )
    return Response(body, media_type="application/json")  # the page as PostgreSQL rendered it


@router.get(
    "/{campaign_id}", response_model=CampaignOut, summary="One campaign (its version is the ETag)"
)
async def read_campaign(
    campaign_id: uuid.UUID, actor: CampaignsRead, session: Transaction, response: Response
) -> CampaignOut:
    found = await campaigns.get_campaign(
        session, account_id=actor.account_id, campaign_id=campaign_id
    )
    return _tagged(response, CampaignOut.model_validate(found))


@router.patch(
    "/{campaign_id}",
    response_model=CampaignOut,
    summary="Change a campaign or move its status (If-Match or body version)",
)
async def update_campaign(
    campaign_id: uuid.UUID,
    body: CampaignUpdate,
    actor: CampaignsWrite,
    session: Transaction,
    response: Response,
    if_match: IfMatch = None,
) -> CampaignOut:
    updated = await campaigns.update_campaign(
        session, account_id=actor.account_id, campaign_id=campaign_id,
        expected_version=version_read(if_match, body.version, "campaign"), changes=body.changes(),
        changed_by=actor.user_id,
    )  # fmt: skip
    return _tagged(response, CampaignOut.model_validate(updated))


@router.delete(
    "/{campaign_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a campaign (If-Match optional); its posts and charges stay",
)
async def delete_campaign(
    campaign_id: uuid.UUID, actor: CampaignsWrite, session: Transaction, if_match: IfMatch = None
) -> None:
    await campaigns.delete_campaign(
        session, account_id=actor.account_id, campaign_id=campaign_id,
        expected_version=version_read(if_match, None, "campaign"), deleted_by=actor.user_id,
    )  # fmt: skip


@router.get(
    "/{campaign_id}/summary",
    response_model=CampaignSummary,
    summary="Posts by status, tokens against the budget, goals against the read models",
)
async def summarize_campaign(
    campaign_id: uuid.UUID, actor: CampaignsRead, session: Transaction
) -> CampaignSummary:
    return await campaign_summary.campaign_summary(
        session, account_id=actor.account_id, campaign_id=campaign_id
    )
