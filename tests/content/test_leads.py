"""Leads over the API: create, read, change under optimistic locking, delete; e-mails
normalised and unique among live leads; filters and cursor pages."""

from __future__ import annotations

import uuid

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.leads_support import change, leads_of, new_lead
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


class TestCreate:
    async def test_a_lead_is_created_normalised_scored_and_read_back(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(
            client,
            owner,
            name="Ada Lovelace",
            email="  Ada@Example.COM ",
            company="Engines",
            source="referral",
            tags=["vip", "vip", "2026"],
            utm_source="newsletter",
            utm_medium="email",
            utm_campaign="spring",
            utm_term="engines",
            utm_content="a",
        )
        assert lead["email"] == "ada@example.com"
        assert lead["tags"] == ["vip", "2026"]
        assert lead["status"] == "NEW" and lead["version"] == 1
        assert (
            lead["utm_source"],
            lead["utm_medium"],
            lead["utm_campaign"],
            lead["utm_term"],
            lead["utm_content"],
        ) == ("newsletter", "email", "spring", "engines", "a")
        assert 0 < lead["score"] <= 100 and lead["scored_at"] is not None
        assert lead["created_by"] == owner.user_id
        read = await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers)
        assert read.status_code == 200 and read.json() == lead
        assert read.headers["ETag"] == '"1"'

    async def test_a_name_is_required_and_an_email_must_be_an_address(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await client.post(
            "/v1/leads", json={"email": "x@example.com"}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.name"]
        response = await client.post(
            "/v1/leads", json={"name": "x", "email": "not-mail"}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.email"]
        response = await client.post(
            "/v1/leads", json={"name": "x", "status": "WONDERFUL"}, headers=owner.headers
        )
        assert fields(problem(response, 422)) == ["body.status"]

    async def test_an_email_is_unique_among_the_live_leads_of_an_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        first = await new_lead(client, owner, email="dup@example.com")
        again = await client.post(
            "/v1/leads", json={"name": "b", "email": "DUP@example.com "}, headers=owner.headers
        )
        problem(again, 409)
        other = new_member(db, new_account(db))
        await new_lead(client, other, email="dup@example.com")  # another account: its own
        deleted = await client.delete(f"/v1/leads/{first['id']}", headers=owner.headers)
        assert deleted.status_code == 204
        await new_lead(client, owner, email="dup@example.com")  # free again once deleted

    async def test_an_address_beyond_ascii_is_stored_lower_cased(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(client, owner, email="İnci.Çelik@Example.com")
        assert lead["email"] == "İnci.Çelik@Example.com".lower()

    async def test_a_lead_created_won_is_converted(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        lead = await new_lead(client, owner, status="WON")
        events = sql(
            db,
            "SELECT event_type FROM domain_events WHERE account_id = %s AND aggregate_id = %s"
            " ORDER BY created_at, event_type",
            owner.account_id,
            str(lead["id"]),
        )
        assert [e for (e,) in events] == ["lead.converted", "lead.created"]


class TestUpdate:
    async def test_a_change_needs_the_version_read(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(client, owner)
        missing = await client.patch(
            f"/v1/leads/{lead['id']}", json={"company": "c"}, headers=owner.headers
        )
        assert fields(problem(missing, 422)) == ["body.version"]
        changed = await change(client, owner, lead, company="Acme", phone="+39 02 1234")
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2 and changed.headers["ETag"] == '"2"'
        stale = await change(client, owner, lead, company="Stale")
        problem(stale, 409, "version_conflict")
        by_header = await client.patch(
            f"/v1/leads/{lead['id']}",
            json={"company": "Head"},
            headers={**owner.headers, "If-Match": '"2"'},
        )
        assert by_header.status_code == 200 and by_header.json()["company"] == "Head"

    async def test_null_clears_an_optional_field_and_is_refused_for_the_name(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(client, owner, company="Acme", email="clear@example.com")
        cleared = await change(client, owner, lead, company=None, email=None)
        assert cleared.status_code == 200
        assert (cleared.json()["company"], cleared.json()["email"]) == (None, None)
        refused = await change(client, owner, cleared.json(), name=None)
        assert fields(problem(refused, 422)) == ["body.name"]

    async def test_a_change_rescores_the_lead(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        lead = await new_lead(client, owner)
        richer = await change(
            client,
            owner,
            lead,
            email="rich@example.com",
            phone="1",
            company="c",
            source="referral",
            utm_source="x",
        )
        assert richer.json()["score"] > lead["score"]
        events = sql(
            db,
            "SELECT event_data FROM domain_events WHERE account_id = %s "
            "AND event_type = 'lead.score_changed' AND aggregate_id = %s",
            owner.account_id,
            str(lead["id"]),
        )
        assert [data for (data,) in events] == [
            {"lead_id": lead["id"], "from_score": lead["score"], "to_score": richer.json()["score"]}
        ]

    async def test_a_deleted_lead_is_gone(self, client: httpx.AsyncClient, owner: Member) -> None:
        lead = await new_lead(client, owner)
        stale = await client.delete(
            f"/v1/leads/{lead['id']}", headers={**owner.headers, "If-Match": '"7"'}
        )
        problem(stale, 409, "version_conflict")
        assert (
            await client.delete(f"/v1/leads/{lead['id']}", headers=owner.headers)
        ).status_code == 204
        problem(
            await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers),
            404,
            "lead_not_found",
        )
        assert lead["id"] not in [item["id"] for item in await leads_of(client, owner)]


class TestList:
    async def test_filters_combine(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        member = new_member(db, new_account(db))
        ada = await new_lead(
            client,
            member,
            name="Ada",
            email="ada@engines.io",
            company="Analytical Engines",
            source="Referral",
            tags=["vip"],
        )
        bob = await new_lead(
            client,
            member,
            name="Bob",
            email="bob@x.io",
            source="ads",
            tags=["cold"],
            status="QUALIFIED",
        )
        cat = await new_lead(client, member, name="Cat 100%_", company="Felines")

        async def ids(**params: object) -> list[int]:
            return [item["id"] for item in await leads_of(client, member, **params)]

        assert await ids() == [cat["id"], bob["id"], ada["id"]]
        assert await ids(status="QUALIFIED") == [bob["id"]]
        assert await ids(source="referral") == [ada["id"]]
        assert await ids(tag="vip") == [ada["id"]]
        assert await ids(q="ENGINE") == [ada["id"]]  # company, any case
        assert await ids(q="bob@") == [bob["id"]]  # e-mail
        assert await ids(q="%_") == [cat["id"]]  # wildcards are literal
        low = min(ada["score"], bob["score"], cat["score"])
        assert await ids(score_max=low) == [
            lead["id"] for lead in (cat, bob, ada) if lead["score"] == low
        ]
        problem(await client.get("/v1/leads?score_min=101", headers=member.headers), 422)
        bad = await client.get("/v1/leads?score_min=50&score_max=10", headers=member.headers)
        assert fields(problem(bad, 422)) == ["query.score_min"]
        after = ada["created_at"]
        assert ada["id"] not in await ids(created_after=bob["created_at"])
        assert await ids(created_before=after) == []
        assert await ids(created_after=after, source="ads") == [bob["id"]]

    async def test_cursor_pages_cover_every_lead_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_member(db, new_account(db))
        made = [(await new_lead(client, member, source="web"))["id"] for _ in range(5)]
        for params in ({}, {"source": "web"}):
            seen: list[int] = []
            cursor = None
            while True:
                query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
                response = await client.get("/v1/leads", params=query, headers=member.headers)
                assert response.status_code == 200, response.text
                seen += [item["id"] for item in response.json()["items"]]
                cursor = response.json()["next_cursor"]
                if cursor is None:
                    break
            assert seen == list(reversed(made))
        problem(await client.get("/v1/leads?cursor=bm9wZQ", headers=member.headers), 422)

    async def test_another_accounts_leads_are_never_listed(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        mine = await new_lead(client, owner, name=f"mine-{uuid.uuid4().hex[:6]}")
        stranger = new_member(db, new_account(db))
        assert mine["id"] not in [i["id"] for i in await leads_of(client, stranger)]
        assert await leads_of(client, stranger, q=mine["name"]) == []
