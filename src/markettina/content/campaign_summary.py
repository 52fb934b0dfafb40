"""A campaign's summary: its posts by status, its tokens against its budget, and its goals
against what the read models measured.

Posts and tokens are read live. The actuals come from the tenant view over
``mv_content_performance`` (each published post's latest reach and engagement, posts
published in the last 90 days), which is only as fresh as its last refresh: the summary
states that refresh's time, and reports no actuals (``not_yet_refreshed``) while the view
has not been refreshed since the campaign was created, since it cannot hold any of its
posts yet. No read model measures conversions or leads per campaign: those actuals are
null, with no source.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .campaigns import get_campaign
from .schemas.campaigns import (
    POST_STATUSES,
    ActualsFreshness,
    CampaignSummary,
    GoalProgress,
    TokensSummary,
)

READ_MODEL = "mv_content_performance"
_SOURCE = "v_content_performance"

_POSTS = text(
    "SELECT status, count(*) FROM scheduled_posts"
    " WHERE account_id = :account_id AND campaign_id = :campaign_id AND deleted_at IS NULL"
    " GROUP BY status"
)
_REFRESHED_AT = text("SELECT refreshed_at FROM read_model_refreshes WHERE view_name = :view")
_ACTUALS = text(
    f"SELECT coalesce(sum(reach), 0) AS reach, coalesce(sum(engagement), 0) AS engagement"
    f" FROM {_SOURCE} WHERE campaign_id = :campaign_id"
)


async def campaign_summary(
    session: AsyncSession, *, account_id: uuid.UUID, campaign_id: uuid.UUID
) -> CampaignSummary:
    """Posts by status, tokens against the budget, goals against the read model's actuals
    (with its refresh time); 404 ``campaign_not_found``."""
    campaign = await get_campaign(session, account_id=account_id, campaign_id=campaign_id)
    rows = await session.execute(_POSTS, {"account_id": account_id, "campaign_id": campaign_id})
    counted: dict[str, int] = {status: count for status, count in rows}
    posts = {status: int(counted.get(status, 0)) for status in POST_STATUSES}
    refreshed_at: dt.datetime | None = (
        await session.execute(_REFRESHED_AT, {"view": READ_MODEL})
    ).scalar_one_or_none()
    fresh = refreshed_at is not None and refreshed_at >= campaign.created_at
    reach = engagement = None
    if fresh:
        measured = (await session.execute(_ACTUALS, {"campaign_id": campaign_id})).one()
        reach, engagement = int(measured.reach), int(measured.engagement)
    budget = campaign.budget_tokens
    return CampaignSummary(
        campaign_id=campaign.id,
        status=campaign.status,  # type: ignore[arg-type]
        posts_by_status=posts,
        tokens=TokensSummary(
            budget=budget,
            spent=campaign.spent_tokens,
            remaining=None if budget is None else budget - campaign.spent_tokens,
        ),
        goals=[
            _goal("reach", campaign.target_reach, reach, _SOURCE if fresh else None),
            _goal("engagement", campaign.target_engagement, engagement, _SOURCE if fresh else None),
            _goal("conversions", campaign.target_conversions, None, None),
            _goal("leads", campaign.target_leads, None, None),
        ],
        actuals=ActualsFreshness(
            state="refreshed" if fresh else "not_yet_refreshed",
            refreshed_at=refreshed_at,
        ),
    )


def _goal(goal: str, target: int | None, actual: int | None, source: str | None) -> GoalProgress:
    progress = None
    if target and actual is not None:
        progress = round(actual / target, 4)
    return GoalProgress(
        goal=goal,  # type: ignore[arg-type]
        target=target,
        actual=actual,
        progress=progress,
        source=source,
    )
