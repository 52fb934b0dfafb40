"""Campaigns over HTTP: creation and its validation naming the field, optimistic locking
(If-Match or body.version; of two editors saving the same version one gets 409), the
status machine and its events, lists with filters and cursors, soft delete, permissions."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_key, new_member

SHOWN = {
    "id", "name", "description", "start_date", "end_date", "status", "target_reach",
    "target_engagement", "target_conversions", "target_leads", "budget_tokens",
    "spent_tokens", "tags", "created_by", "created_at", "updated_at", "version",
}  # fmt: skip


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def create(client: httpx.AsyncClient, member: Member, **body: Any) -> httpx.Response:
    return await client.post(
        "/v1/campaigns", json={"name": "Spring launch", **body}, headers=member.headers
    )


async def created(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    response = await create(client, member, **body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def patch(
    client: httpx.AsyncClient, member: Member, campaign: dict[str, Any], if_match: int | None,
    **body: Any,
) -> httpx.Response:  # fmt: skip
    headers = dict(member.headers)
    if if_match is not None:
        headers["If-Match"] = f'"{if_match}"'
    return await client.patch(f"/v1/campaigns/{campaign['id']}", json=body, headers=headers)


def events(db: DatabaseURLs, campaign_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = sql(
        db,
        "SELECT event_type, event_data FROM domain_events WHERE aggregate_type = 'campaign'"
        " AND aggregate_id = %s AND event_type NOT IN ('campaign.updated') ORDER BY created_at, id",
        campaign_id,
    )
    return [(r[0], r[1]) for r in rows]


class TestCreate:
    async def test_a_new_campaign_is_planning_with_its_version_as_etag(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        response = await create(
            client, owner, description="Q2", start_date="2027-03-01", end_date="2027-03-31",
            target_reach=10000, target_leads=50, budget_tokens=500,
            tags=["spring", "launch", "spring"],
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == SHOWN
        assert response.headers["ETag"] == '"1"'
        assert (body["status"], body["spent_tokens"], body["version"]) == ("planning", 0, 1)
        assert body["tags"] == ["spring", "launch"]
        assert (body["start_date"], body["end_date"]) == ("2027-03-01", "2027-03-31")
        assert body["created_by"] == owner.user_id
        assert [e for e, _ in events(db, body["id"])] == ["campaign.created"]

    async def test_a_start_after_the_end_is_422_naming_the_end(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        response = await create(client, owner, start_date="2027-04-02", end_date="2027-04-01")
        assert fields(problem(response, 422)) == ["body.end_date"]
        assert sql(db, "SELECT count(*) FROM campaigns WHERE account_id = %s",
                   owner.account_id) == [(0,)]  # fmt: skip

    async def test_a_one_day_campaign_is_fine(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        await created(client, owner, start_date="2027-04-01", end_date="2027-04-01")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"target_reach": -1}, "body.target_reach"),
            ({"budget_tokens": -5}, "body.budget_tokens"),
            ({"name": "  "}, "body.name"),
            ({"start_date": "2027-13-01"}, "body.start_date"),
            ({"tags": ["x" * 51]}, "body.tags.0"),
            ({"spent_tokens": 3}, "body.spent_tokens"),
            ({"status": "active"}, "body.status"),
        ],
    )
    async def test_invalid_input_is_422_naming_the_field(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, Any], field: str
    ) -> None:
        assert field in fields(problem(await create(client, owner, **body), 422))

    async def test_a_viewer_or_a_read_only_key_cannot_create(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        problem(await create(client, viewer), 403)
        key = new_key(db, owner.account_id, ["content:read"])
        response = await client.post("/v1/campaigns", json={"name": "x"}, headers=key.headers)
        problem(response, 403)
        writer = new_key(db, owner.account_id, ["content:write"])
        response = await client.post("/v1/campaigns", json={"name": "x"}, headers=writer.headers)
        assert response.status_code == 201 and response.json()["created_by"] is None


class TestRead:
    async def test_one_campaign_with_its_etag(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.get(f"/v1/campaigns/{campaign['id']}", headers=viewer.headers)
        assert response.status_code == 200 and response.json() == campaign
        assert response.headers["ETag"] == '"1"'

    async def test_an_unknown_campaign_is_404(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.get(f"/v1/campaigns/{uuid.uuid4()}", headers=owner.headers)
        problem(response, 404, "campaign_not_found")


class TestUpdate:
    async def test_if_match_changes_it_and_moves_the_version(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner, description="old", target_reach=5)
        response = await patch(client, owner, campaign, 1, name="Summer", description=None,
                               target_reach=9000, tags=["summer"])  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["description"], body["target_reach"], body["tags"]) == (
            "Summer", None, 9000, ["summer"],
        )  # fmt: skip
        assert body["version"] == 2 and response.headers["ETag"] == '"2"'

    async def test_the_version_may_come_in_the_body(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        response = await patch(client, owner, campaign, None, name="B", version=1)
        assert response.status_code == 200 and response.json()["version"] == 2

    async def test_no_version_is_422(self, client: httpx.AsyncClient, owner: Member) -> None:
        campaign = await created(client, owner)
        response = await patch(client, owner, campaign, None, name="B")
        assert fields(problem(response, 422)) == ["body.version"]

    async def test_if_match_and_body_version_must_agree(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        response = await patch(client, owner, campaign, 1, name="B", version=2)
        assert fields(problem(response, 422)) == ["body.version"]

    async def test_a_stale_version_is_409_and_changes_nothing(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        assert (await patch(client, owner, campaign, 1, name="B")).status_code == 200
        body = problem(await patch(client, owner, campaign, 1, name="C"), 409, "version_conflict")
        assert body["current_version"] == 2
        now = await client.get(f"/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert now.json()["name"] == "B"

    async def test_two_editors_saving_the_same_version_one_gets_409(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        anna = new_member(db, owner.account_id, "editor")
        bruno = new_member(db, owner.account_id, "editor")
        answers = await asyncio.gather(
            patch(client, anna, campaign, 1, name="Anna's"),
            patch(client, bruno, campaign, 1, name="Bruno's"),
        )
        assert sorted(a.status_code for a in answers) == [200, 409]
        [winner] = [a for a in answers if a.status_code == 200]
        [loser] = [a for a in answers if a.status_code == 409]
        problem(loser, 409, "version_conflict")
        now = await client.get(f"/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert now.json()["name"] == winner.json()["name"] and now.json()["version"] == 2

    async def test_a_start_after_the_stored_end_is_422_naming_the_start(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner, start_date="2027-03-01", end_date="2027-03-31")
        response = await patch(client, owner, campaign, 1, start_date="2027-04-01")
        assert fields(problem(response, 422)) == ["body.start_date"]
        response = await patch(client, owner, campaign, 1, end_date="2027-02-01")
        assert fields(problem(response, 422)) == ["body.end_date"]
        response = await patch(client, owner, campaign, 1, end_date=None, start_date="2027-05-01")
        assert response.status_code == 200, response.text

    async def test_the_budget_cannot_go_below_what_is_spent(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner, budget_tokens=100)
        sql(db, "UPDATE campaigns SET spent_tokens = 40 WHERE id = %s", campaign["id"])
        response = await patch(client, owner, campaign, 1, budget_tokens=39)
        assert fields(problem(response, 422)) == ["body.budget_tokens"]
        response = await patch(client, owner, campaign, 1, budget_tokens=40)
        assert response.status_code == 200 and response.json()["budget_tokens"] == 40
        response = await patch(client, owner, campaign, 2, budget_tokens=None)
        assert response.status_code == 200 and response.json()["budget_tokens"] is None

    async def test_null_is_refused_where_a_field_cannot_be_cleared(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        for body in ({"name": None}, {"status": None}, {"tags": None}):
            response = await patch(client, owner, campaign, 1, **body)
            assert fields(problem(response, 422)) == [f"body.{next(iter(body))}"]

    async def test_a_viewer_cannot_change_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        problem(await patch(client, viewer, campaign, 1, name="x"), 403)


class TestStatusMachine:
    async def test_a_campaign_runs_its_course_with_an_event_per_move(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner, start_date="2027-03-01")
        version = 1
        for status in ("active", "paused", "active", "completed", "archived"):
            response = await patch(client, owner, campaign, version, status=status)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status
            version = response.json()["version"]
        moves = events(db, campaign["id"])
        assert [e for e, _ in moves] == [
            "campaign.created", "campaign.activated", "campaign.paused", "campaign.activated",
            "campaign.completed", "campaign.archived",
        ]  # fmt: skip
        assert [data["previous_status"] for _, data in moves[1:]] == [
            "planning", "active", "paused", "active", "completed",
        ]  # fmt: skip
        activated = moves[1][1]
        assert activated["start_date"] == "2027-03-01"
        assert activated["changed_by"] == owner.user_id
        assert moves[4][1]["spent_tokens"] == 0

    @pytest.mark.parametrize(
        ("path", "refused"),
        [
            ((), "completed"),
            ((), "paused"),
            ((), "archived"),
            (("active",), "planning"),
            (("active",), "archived"),
            (("active", "completed"), "active"),
            (("active", "completed"), "paused"),
            (("active", "completed", "archived"), "completed"),
            (("active", "completed", "archived"), "planning"),
        ],
    )
    async def test_an_illegal_move_is_409_naming_both_statuses(
        self, client: httpx.AsyncClient, owner: Member, path: tuple[str, ...], refused: str
    ) -> None:
        campaign = await created(client, owner)
        version = 1
        for status in path:
            response = await patch(client, owner, campaign, version, status=status)
            version = response.json()["version"]
        current = path[-1] if path else "planning"
        response = await patch(client, owner, campaign, version, status=refused)
        body = problem(response, 409, "illegal_status_transition")
        assert (body["from"], body["to"]) == (current, refused)
        assert current in body["detail"] and refused in body["detail"]
        now = await client.get(f"/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert now.json()["status"] == current and now.json()["version"] == version

    async def test_staying_in_a_status_is_no_move(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        response = await patch(client, owner, campaign, 1, status="planning")
        assert response.status_code == 200 and response.json()["version"] == 1
        assert [e for e, _ in events(db, campaign["id"])] == ["campaign.created"]

    async def test_a_refused_move_changes_no_other_field_either(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        problem(await patch(client, owner, campaign, 1, name="B", status="archived"), 409)
        now = await client.get(f"/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert now.json()["name"] == "Spring launch"


class TestList:
    async def test_newest_first_in_cursor_pages_of_the_account_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        names = [f"c{n}" for n in range(5)]
        for name in names:
            await created(client, owner, name=name)
        await created(client, new_member(db, new_account(db), "owner"), name="theirs")
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            response = await client.get("/v1/campaigns", params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 2 and all(set(i) == SHOWN for i in page["items"])
            seen += [item["name"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == names[::-1]

    async def test_the_list_items_equal_the_campaigns_read_one_by_one(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(
            client, owner, start_date="2027-01-01", tags=["a"], budget_tokens=10
        )
        listed = (await client.get("/v1/campaigns", headers=owner.headers)).json()["items"]
        assert listed == [campaign]

    async def test_filters_by_status_tag_and_days(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        march = await created(client, owner, name="march", tags=["spring"],
                              start_date="2027-03-01", end_date="2027-03-31")  # fmt: skip
        april_on = await created(client, owner, name="april on", tags=["spring", "web"],
                                 start_date="2027-04-01")  # fmt: skip
        until_feb = await created(client, owner, name="until feb", end_date="2027-02-28")
        await created(client, owner, name="undated", tags=["web"])
        assert (await patch(client, owner, april_on, 1, status="active")).status_code == 200

        async def names(**params: Any) -> list[str]:
            response = await client.get("/v1/campaigns", params=params, headers=owner.headers)
            assert response.status_code == 200, response.text
            return sorted(item["name"] for item in response.json()["items"])

        assert await names(status="active") == ["april on"]
        assert await names(status="planning") == ["march", "undated", "until feb"]
        assert await names(tag="spring") == ["april on", "march"]
        assert await names(tag="web", status="planning") == ["undated"]
        assert await names(from_date="2027-03-15") == ["april on", "march"]
        assert await names(to_date="2027-03-01") == ["march", "until feb"]
        assert await names(from_date="2027-03-31", to_date="2027-04-01") == ["april on", "march"]
        assert await names(from_date="2027-02-01", to_date="2027-02-27") == ["until feb"]
        assert await names(tag="nothing") == []
        assert march["id"] and until_feb["id"]

    async def test_a_filtered_list_pages_too(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        for n in range(3):
            await created(client, owner, name=f"t{n}", tags=["t"])
        await created(client, owner, name="other")
        first = (
            await client.get(
                "/v1/campaigns", params={"tag": "t", "limit": 2}, headers=owner.headers
            )
        ).json()
        assert [i["name"] for i in first["items"]] == ["t2", "t1"] and first["next_cursor"]
        rest = (
            await client.get("/v1/campaigns", headers=owner.headers,
                             params={"tag": "t", "limit": 2, "cursor": first["next_cursor"]})
        ).json()  # fmt: skip
        assert [i["name"] for i in rest["items"]] == ["t0"] and rest["next_cursor"] is None

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from_date": "2027-03-02", "to_date": "2027-03-01"}, "query.to_date"),
            ({"status": "running"}, "query.status"),
            ({"from_date": "yesterday"}, "query.from_date"),
            ({"tag": ""}, "query.tag"),
        ],
    )
    async def test_a_bad_filter_is_422_naming_it(
        self, client: httpx.AsyncClient, owner: Member, params: dict[str, str], field: str
    ) -> None:
        response = await client.get("/v1/campaigns", params=params, headers=owner.headers)
        assert field in fields(problem(response, 422))


class TestDelete:
    async def test_a_deleted_campaign_is_gone_from_reads_and_lists(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        url = f"/v1/campaigns/{campaign['id']}"
        response = await client.delete(url, headers=owner.headers)
        assert response.status_code == 204
        problem(await client.get(url, headers=owner.headers), 404, "campaign_not_found")
        problem(await patch(client, owner, campaign, 1, name="x"), 404)
        assert (await client.get("/v1/campaigns", headers=owner.headers)).json()["items"] == []
        assert sql(db, "SELECT deleted_by FROM campaigns WHERE id = %s",
                   campaign["id"]) == [(owner.user_id,)]  # fmt: skip
        problem(await client.delete(url, headers=owner.headers), 404)

    async def test_a_stale_if_match_keeps_it(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        await patch(client, owner, campaign, 1, name="B")
        url = f"/v1/campaigns/{campaign['id']}"
        headers = {**owner.headers, "If-Match": '"1"'}
        problem(await client.delete(url, headers=headers), 409, "version_conflict")
        assert (await client.get(url, headers=owner.headers)).status_code == 200
        headers["If-Match"] = '"2"'
        assert (await client.delete(url, headers=headers)).status_code == 204

    async def test_a_viewer_cannot_delete(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.delete(f"/v1/campaigns/{campaign['id']}", headers=viewer.headers)
        problem(response, 403)


class TestChargesInTheLedger:
    async def test_a_campaign_charge_names_the_campaign_in_the_ledger_and_the_campaign(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        campaign = await created(client, owner, budget_tokens=50)
        [(wallet,)] = sql(db, "INSERT INTO token_wallets (account_id) VALUES (%s) RETURNING id",
                          owner.account_id)  # fmt: skip
        for kind, amount, campaign_id in (("purchase", 100, None), ("usage", -30, campaign["id"])):
            sql(db, "INSERT INTO token_transactions (account_id, wallet_id, type, amount,"
                " campaign_id) VALUES (%s, %s, %s, %s, %s)",
                owner.account_id, wallet, kind, amount, campaign_id)  # fmt: skip
        ledger = await client.get("/v1/billing/transactions", headers=owner.headers)
        assert [(e["type"], e["campaign_id"]) for e in ledger.json()["items"]] == [
            ("usage", campaign["id"]), ("purchase", None),
        ]  # fmt: skip
        now = await client.get(f"/v1/campaigns/{campaign['id']}", headers=owner.headers)
        assert (now.json()["spent_tokens"], now.json()["version"]) == (30, 1)
        # the budget left is the budget less what is spent, whatever edits come in between
        response = await patch(client, owner, campaign, 1, name="renamed")
        assert response.status_code == 200 and response.json()["spent_tokens"] == 30
