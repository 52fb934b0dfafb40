"""The lead pipeline: allowed transitions only (409 naming both states), each change in
the append-only history with its events."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from markettina.content.lead_pipeline import TRANSITIONS
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.content.leads_support import change, new_lead
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

STATUSES = list(TRANSITIONS)


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def lead_at(client: httpx.AsyncClient, member: Member, status: str) -> dict:
    return await new_lead(client, member, status=status)


class TestTransitions:
    @pytest.mark.parametrize(
        ("from_status", "to_status"),
        [(a, b) for a in STATUSES for b in STATUSES if a != b],
    )
    async def test_only_the_documented_moves_are_allowed(
        self, client: httpx.AsyncClient, owner: Member, from_status: str, to_status: str
    ) -> None:
        lead = await lead_at(client, owner, from_status)
        response = await change(client, owner, lead, status=to_status)
        if to_status in TRANSITIONS[from_status]:
            assert response.status_code == 200, response.text
            assert response.json()["status"] == to_status
        else:
            body = problem(response, 409, "illegal_transition")
            assert from_status in body["detail"] and to_status in body["detail"]
            assert (body["from_status"], body["to_status"]) == (from_status, to_status)

    def test_the_table_is_the_documented_one(self) -> None:
        assert TRANSITIONS == {
            "NEW": ("CONTACTED", "LOST"),
            "CONTACTED": ("QUALIFIED", "LOST"),
            "QUALIFIED": ("PROPOSAL_SENT", "LOST"),
            "PROPOSAL_SENT": ("NEGOTIATION", "WON", "LOST"),
            "NEGOTIATION": ("PROPOSAL_SENT", "WON", "LOST"),
            "WON": (),
            "LOST": ("NEW",),
        }

    async def test_the_same_status_again_is_no_change(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(client, owner)
        response = await change(client, owner, lead, status="NEW")
        assert response.status_code == 200 and response.json()["version"] == 1


class TestHistory:
    async def test_every_change_is_recorded_with_who_and_when_and_listed_newest_first(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        lead = await new_lead(client, owner)
        for status in ("CONTACTED", "QUALIFIED", "PROPOSAL_SENT", "WON"):
            response = await change(client, owner, lead, status=status)
            assert response.status_code == 200, response.text
            lead = response.json()
        history = await client.get(f"/v1/leads/{lead['id']}/history?limit=3", headers=owner.headers)
        assert history.status_code == 200
        page = history.json()
        moves = [(c["from_status"], c["to_status"]) for c in page["items"]]
        assert moves == [
            ("PROPOSAL_SENT", "WON"),
            ("QUALIFIED", "PROPOSAL_SENT"),
            ("CONTACTED", "QUALIFIED"),
        ]
        assert {c["changed_by"] for c in page["items"]} == {owner.user_id}
        assert {c["via"] for c in page["items"]} == {"api"}
        rest = await client.get(
            f"/v1/leads/{lead['id']}/history",
            params={"cursor": page["next_cursor"]},
            headers=owner.headers,
        )
        assert [(c["from_status"], c["to_status"]) for c in rest.json()["items"]] == [
            ("NEW", "CONTACTED")
        ]
        events = sql(
            db,
            "SELECT event_type, event_data FROM domain_events WHERE account_id = %s "
            "AND aggregate_id = %s AND event_type IN ('lead.status_changed', 'lead.converted') "
            "ORDER BY created_at, id",
            owner.account_id,
            str(lead["id"]),
        )
        assert [t for t, _ in events].count("lead.status_changed") == 4
        converted = [d for t, d in events if t == "lead.converted"]
        assert converted == [{"lead_id": lead["id"], "changed_by": owner.user_id}]

    async def test_an_illegal_move_leaves_no_trace(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        lead = await new_lead(client, owner)
        problem(await change(client, owner, lead, status="WON", company="x"), 409)
        assert sql(
            db,
            "SELECT count(*) FROM lead_status_changes WHERE account_id = %s AND lead_id = %s",
            owner.account_id,
            lead["id"],
        ) == [(0,)]
        read = await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers)
        assert read.json()["company"] is None and read.json()["version"] == 1

    def test_the_history_is_append_only_for_the_application(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.app) as conn:
            for statement in (
                "UPDATE lead_status_changes SET via = 'api'",
                "DELETE FROM lead_status_changes",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
                conn.rollback()

    async def test_a_missing_lead_has_no_history(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        problem(await client.get("/v1/leads/2147483647/history", headers=owner.headers), 404)
