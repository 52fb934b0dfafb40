"""The posts list: the plain read (newest first, keyset pages) and every filter (status,
campaign, social account, platform, scheduled time, hashtag, full-text in Italian and
English), filtered pages keyset-paged too."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from tests.content.posts_support import new_social_account
from tests.support.api import api_client, make_app, suite_settings
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def post(client: httpx.AsyncClient, member: Member, content: str, **body: Any) -> int:
    response = await client.post(
        "/v1/posts", json={"content": content, **body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def ids(client: httpx.AsyncClient, member: Member, **params: Any) -> list[int]:
    response = await client.get("/v1/posts", params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def scheduled(
    client: httpx.AsyncClient, member: Member, post_id: int, social: uuid.UUID, at: dt.datetime
) -> None:
    response = await client.post(
        f"/v1/posts/{post_id}/schedule",
        json={"scheduled_at": at.isoformat(), "timezone": "Europe/Rome",
              "social_account_ids": [str(social)]},
        headers=member.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.text


class TestPlainList:
    async def test_newest_first_in_keyset_pages_of_this_account_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        mine = [await post(client, owner, f"post {n}") for n in range(5)]
        await post(client, new_member(db, new_account(db)), "someone else's")
        first = await client.get("/v1/posts?limit=3", headers=owner.headers)
        page = first.json()
        assert [item["id"] for item in page["items"]] == mine[::-1][:3]
        assert page["items"][0]["content"] == "post 4"
        rest = await client.get(
            "/v1/posts", params={"limit": 3, "cursor": page["next_cursor"]}, headers=owner.headers
        )
        assert [item["id"] for item in rest.json()["items"]] == mine[::-1][3:]
        assert rest.json()["next_cursor"] is None

    async def test_a_bad_cursor_is_422(self, client: httpx.AsyncClient, owner: Member) -> None:
        response = await client.get("/v1/posts?cursor=nonsense", headers=owner.headers)
        assert fields(problem(response, 422)) == ["query.cursor"]


class TestReadLane:
    async def test_the_lane_answers_every_page_as_the_router_would(
        self, db: DatabaseURLs, owner: Member
    ) -> None:
        """Posts have integer ids: the lane reads their cursors as such (a cursor it
        could not read would go to the routed pipeline, twice the work)."""
        lane_app = make_app(db)
        routed_app = create_app(
            urls=db, settings=suite_settings().model_copy(update={"read_lane": False})
        )
        async with api_client(lane_app) as lane, api_client(routed_app) as routed:
            for n in range(3):
                await post(lane, owner, f"post {n}")
            url = "/v1/posts?limit=2"
            for _ in range(2):
                before = lane_app.state.read_pool.checkouts
                answered = await lane.get(url, headers=owner.headers)
                assert lane_app.state.read_pool.checkouts == before + 1  # the lane answered
                expected = await routed.get(url, headers=owner.headers)
                assert answered.json() == expected.json()
                cursor = answered.json()["next_cursor"]
                url = f"/v1/posts?limit=2&cursor={cursor}"
            assert len(answered.json()["items"]) == 1


class TestFilters:
    async def test_each_filter(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        (campaign,) = sql(
            db, "INSERT INTO campaigns (account_id, name) VALUES (%s, 'Estate') RETURNING id",
            owner.account_id,
        )  # fmt: skip
        insta = new_social_account(db, owner.account_id, "instagram")
        linked = new_social_account(db, owner.account_id, "linkedin")
        now = dt.datetime.now(dt.UTC)
        summer = await post(
            client, owner, "Le nostre offerte estive sono arrivate", hashtags=["Estate"],
            campaign_id=str(campaign[0]),
        )  # fmt: skip
        shoes = await post(client, owner, "New running shoes for the marathon", hashtags=["run"])
        draft = await post(client, owner, "Una bozza qualunque")
        await scheduled(client, owner, summer, insta, now + dt.timedelta(days=2))
        await scheduled(client, owner, shoes, linked, now + dt.timedelta(days=10))

        assert await ids(client, owner, status="draft") == [draft]
        assert await ids(client, owner, status="scheduled") == [shoes, summer]
        assert await ids(client, owner, campaign_id=str(campaign[0])) == [summer]
        assert await ids(client, owner, social_account_id=str(linked)) == [shoes]
        assert await ids(client, owner, platform="instagram") == [summer]
        window = {
            "scheduled_from": (now + dt.timedelta(days=1)).isoformat(),
            "scheduled_until": (now + dt.timedelta(days=3)).isoformat(),
        }
        assert await ids(client, owner, **window) == [summer]
        assert await ids(client, owner, tag="#Estate") == [summer]
        assert await ids(client, owner, tag="estate") == []  # hashtags match as written
        # Italian stemming: "offerta" finds "offerte"; English: "run" finds "running"
        assert await ids(client, owner, q="offerta estiva") == [summer]
        assert await ids(client, owner, q="run") == [shoes]
        assert await ids(client, owner, q='"running shoes" -bozza') == [shoes]
        assert await ids(client, owner, q="bozza or marathon") == [draft, shoes]
        assert await ids(client, owner, q="pizza") == []
        # filters combine
        assert await ids(client, owner, status="scheduled", q="offerte", platform="linkedin") == []

    async def test_filtered_pages_are_keyset_pages(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        made = [
            await post(client, owner, f"caffè numero {n}", hashtags=["caffe"]) for n in range(5)
        ]
        await post(client, owner, "tè", hashtags=["te"])
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"tag": "caffe", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/posts", params=params, headers=owner.headers)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == made[::-1]

    async def test_filtered_items_read_as_the_plain_ones(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        await post(client, owner, "uguale", hashtags=["x"])
        plain = (await client.get("/v1/posts", headers=owner.headers)).json()["items"]
        filtered = (await client.get("/v1/posts?tag=x", headers=owner.headers)).json()["items"]
        assert plain == filtered

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"status": "lost"}, "query.status"),
            ({"scheduled_from": "yesterday"}, "query.scheduled_from"),
            ({"campaign_id": "nope"}, "query.campaign_id"),
            ({"platform": "Insta Gram"}, "query.platform"),
            ({"tag": "two words"}, "query.tag"),
            ({"q": "   "}, "query.q"),
        ],
    )
    async def test_bad_filters_are_422(
        self, client: httpx.AsyncClient, owner: Member, params: dict[str, str], field: str
    ) -> None:
        response = await client.get("/v1/posts", params=params, headers=owner.headers)
        assert field in fields(problem(response, 422))
