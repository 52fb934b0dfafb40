"""GET /v1/campaigns/{id}/summary: the campaign's posts by status, its tokens against its
budget, and its goals against the read models' actuals, stated with the refresh time
(none while the read model has not been refreshed since the campaign was created)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

ALL_POST_STATUSES = (
    "draft", "pending_approval", "scheduled", "publishing", "published", "failed", "cancelled",
)  # fmt: skip


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def new_campaign(client: httpx.AsyncClient, member: Member, **body: Any) -> str:
    response = await client.post(
        "/v1/campaigns", json={"name": "Launch", **body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


def new_post(
    db: DatabaseURLs, member: Member, campaign_id: str | None, status: str, *,
    deleted: bool = False,
) -> int:  # fmt: skip
    published = dt.datetime.now(dt.UTC) - dt.timedelta(days=1) if status == "published" else None
    ((post_id,),) = sql(
        db,
        "INSERT INTO scheduled_posts (account_id, user_id, content, status, campaign_id,"
        " published_at, deleted_at) VALUES (%s, %s, 'Hello', %s, %s, %s,"
        " CASE WHEN %s THEN now() END) RETURNING id",
        member.account_id, member.user_id, status, campaign_id, published, deleted,
    )  # fmt: skip
    return int(post_id)


def measure(db: DatabaseURLs, member: Member, post_id: int, platform: str, *, hours_ago: int,
            reach: int, engagement: int) -> None:  # fmt: skip
    sql(
        db,
        "INSERT INTO social_metrics (account_id, post_id, platform, reach, engagement_count,"
        " measured_at) VALUES (%s, %s, %s, %s, %s, now() - %s * interval '1 hour')",
        member.account_id, post_id, platform, reach, engagement, hours_ago,
    )  # fmt: skip


def refresh(db: DatabaseURLs) -> dt.datetime:
    ((refreshed_at,),) = sql(
        db, "SELECT refreshed_at FROM refresh_read_model('mv_content_performance')"
    )
    assert isinstance(refreshed_at, dt.datetime)
    return refreshed_at


async def summary(client: httpx.AsyncClient, member: Member, campaign_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/campaigns/{campaign_id}/summary", headers=member.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def goals(body: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    return {
        g["goal"]: (g["target"], g["actual"], g["progress"], g["source"]) for g in body["goals"]
    }


class TestSummary:
    async def test_posts_by_status_and_tokens_against_the_budget(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await new_campaign(client, owner, budget_tokens=100)
        other = await new_campaign(client, owner)
        for status in ("draft", "draft", "scheduled", "published", "failed"):
            new_post(db, owner, campaign, status)
        new_post(db, owner, campaign, "scheduled", deleted=True)
        new_post(db, owner, other, "scheduled")
        new_post(db, owner, None, "draft")
        sql(db, "UPDATE campaigns SET spent_tokens = 35 WHERE id = %s", campaign)
        body = await summary(client, owner, campaign)
        assert body["campaign_id"] == campaign and body["status"] == "planning"
        assert body["posts_by_status"] == {
            s: {"draft": 2, "scheduled": 1, "published": 1, "failed": 1}.get(s, 0)
            for s in ALL_POST_STATUSES
        }
        assert body["tokens"] == {"budget": 100, "spent": 35, "remaining": 65}

    async def test_without_a_budget_nothing_remains_to_count(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        body = await summary(client, owner, await new_campaign(client, owner))
        assert body["tokens"] == {"budget": None, "spent": 0, "remaining": None}
        assert set(body["posts_by_status"].values()) == {0}

    async def test_no_actuals_until_the_read_model_is_refreshed_after_the_campaign_began(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        ((last_refresh,),) = sql(
            db,
            "SELECT refreshed_at FROM read_model_refreshes"
            " WHERE view_name = 'mv_content_performance'",
        )
        campaign = await new_campaign(client, owner, target_reach=1000, target_leads=5)
        post = new_post(db, owner, campaign, "published")
        measure(db, owner, post, "instagram", hours_ago=1, reach=400, engagement=40)
        body = await summary(client, owner, campaign)
        assert body["actuals"]["state"] == "not_yet_refreshed"
        assert dt.datetime.fromisoformat(body["actuals"]["refreshed_at"]) == last_refresh
        assert goals(body) == {
            "reach": (1000, None, None, None),
            "engagement": (None, None, None, None),
            "conversions": (None, None, None, None),
            "leads": (5, None, None, None),
        }

    async def test_actuals_from_the_refreshed_read_model_with_its_time(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await new_campaign(
            client, owner, target_reach=1000, target_engagement=200, target_conversions=3
        )
        first = new_post(db, owner, campaign, "published")
        second = new_post(db, owner, campaign, "published")
        elsewhere = new_post(db, owner, None, "published")
        # each platform's latest measurement counts (metrics are running totals)
        measure(db, owner, first, "instagram", hours_ago=5, reach=100, engagement=10)
        measure(db, owner, first, "instagram", hours_ago=1, reach=300, engagement=30)
        measure(db, owner, first, "linkedin", hours_ago=2, reach=150, engagement=15)
        measure(db, owner, second, "instagram", hours_ago=1, reach=50, engagement=55)
        measure(db, owner, elsewhere, "instagram", hours_ago=1, reach=9999, engagement=999)
        refreshed_at = refresh(db)
        body = await summary(client, owner, campaign)
        assert body["actuals"] == {"state": "refreshed", "refreshed_at": body["actuals"][
            "refreshed_at"]}  # fmt: skip
        assert dt.datetime.fromisoformat(body["actuals"]["refreshed_at"]) == refreshed_at
        source = "v_content_performance"
        assert goals(body) == {
            "reach": (1000, 500, 0.5, source),
            "engagement": (200, 100, 0.5, source),
            "conversions": (3, None, None, None),
            "leads": (None, None, None, None),
        }
        # measured since the refresh: not in the summary until the next one
        measure(db, owner, second, "instagram", hours_ago=0, reach=550, engagement=55)
        assert goals(await summary(client, owner, campaign))["reach"][1] == 500
        refresh(db)
        assert goals(await summary(client, owner, campaign))["reach"][1] == 1000

    async def test_a_viewer_may_read_it_and_a_deleted_campaign_has_none(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await new_campaign(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        await summary(client, viewer, campaign)
        deleted = await client.delete(f"/v1/campaigns/{campaign}", headers=owner.headers)
        assert deleted.status_code == 204
        response = await client.get(f"/v1/campaigns/{campaign}/summary", headers=owner.headers)
        problem(response, 404, "campaign_not_found")
