"""Lead scoring: the documented rules, each one's contribution stored and explained, the
per-account weights, and rescoring when a lead engages (event handlers) or the weights
change (a job)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from markettina.content.lead_scoring import DEFAULT_WEIGHTS, RULES, LeadFacts, score_lead
from markettina.content.lead_tasks import count_engagement
from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.events import StoredEvent
from markettina.kernel.events.handlers import handlers_for
from markettina.worker import run_worker_async
from tests.content.leads_support import new_lead
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def facts(**changes: Any) -> LeadFacts:
    base: dict[str, Any] = {
        "status": "NEW",
        "source": None,
        "email": None,
        "phone": None,
        "company": None,
        "utm_source": None,
        "email_opens": 0,
        "email_clicks": 0,
        "form_submissions": 0,
        "last_engaged_at": None,
        "created_at": NOW,
    }
    return LeadFacts(**{**base, **changes})


def fraction(rule: str, **changes: Any) -> float:
    value: float = score_lead(facts(**changes), DEFAULT_WEIGHTS, NOW).breakdown["rules"][rule][
        "fraction"
    ]
    return value


class TestRules:
    @pytest.mark.parametrize(
        ("source", "expected"),
        [
            (None, 0.0),
            ("Referral", 1.0),
            ("website", 0.8),
            ("webinar", 0.7),
            ("LinkedIn", 0.6),
            ("Google Ads", 0.5),
            ("trade press", 0.3),
        ],
    )
    def test_source(self, source: str | None, expected: float) -> None:
        assert fraction("source", source=source) == expected

    def test_email_engagement_counts_opens_once_and_clicks_three_times_up_to_ten(self) -> None:
        assert fraction("email_engagement") == 0
        assert fraction("email_engagement", email_opens=2, email_clicks=1) == 0.5
        assert fraction("email_engagement", email_opens=40) == 1

    def test_forms(self) -> None:
        assert [fraction("form_submissions", form_submissions=n) for n in (0, 1, 2, 5)] == [
            0,
            0.5,
            1,
            1,
        ]

    def test_post_engagement_has_no_data_yet_and_says_so(self) -> None:
        rule = score_lead(facts(), {**DEFAULT_WEIGHTS, "post_engagement": 50}, NOW).breakdown
        assert rule["rules"]["post_engagement"]["points"] == 0
        assert "no data" in rule["rules"]["post_engagement"]["reason"]

    def test_recency_falls_from_seven_to_ninety_days(self) -> None:
        days = [0, 7, 48.5, 90, 400]
        values = [fraction("recency", created_at=NOW - dt.timedelta(days=d)) for d in days]
        assert values == [1, 1, 0.5, 0, 0]
        engaged = fraction(
            "recency",
            created_at=NOW - dt.timedelta(days=400),
            last_engaged_at=NOW - dt.timedelta(days=1),
        )
        assert engaged == 1

    def test_completeness(self) -> None:
        assert fraction("completeness") == 0
        assert fraction("completeness", email="a@b.c", company="c") == 0.4
        full = {"email": "a@b.c", "phone": "1", "company": "c", "source": "s", "utm_source": "u"}
        assert fraction("completeness", **full) == 1

    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            ("NEW", 0.1),
            ("CONTACTED", 0.3),
            ("QUALIFIED", 0.6),
            ("PROPOSAL_SENT", 0.8),
            ("NEGOTIATION", 0.9),
            ("WON", 1.0),
            ("LOST", 0.0),
        ],
    )
    def test_status(self, status: str, expected: float) -> None:
        assert fraction("status", status=status) == expected

    def test_the_score_is_the_weighted_share_and_the_points_add_up_to_it(self) -> None:
        scored = score_lead(
            facts(status="QUALIFIED", source="referral", email="a@b.c", email_opens=5),
            DEFAULT_WEIGHTS,
            NOW,
        )
        # source 20*1 + e-mail 20*0.5 + recency 15*1 + completeness 15*0.4 + status 20*0.6
        assert scored.score == 63
        points = sum(rule["points"] for rule in scored.breakdown["rules"].values())
        assert round(points) == scored.score
        assert list(scored.breakdown["rules"]) == list(RULES)

    def test_weights_reshape_the_score_within_0_to_100(self) -> None:
        only_status = dict.fromkeys(RULES, 0) | {"status": 7}
        assert score_lead(facts(status="WON"), only_status, NOW).score == 100
        assert score_lead(facts(status="LOST"), only_status, NOW).score == 0


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


class TestExplained:
    async def test_the_score_route_explains_the_stored_number(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        lead = await new_lead(client, owner, source="referral", email="why@example.com")
        response = await client.get(f"/v1/leads/{lead['id']}/score", headers=owner.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["score"] == lead["score"] and body["scored_at"] == lead["scored_at"]
        assert [rule["rule"] for rule in body["rules"]] == list(RULES)
        assert round(sum(rule["points"] for rule in body["rules"])) == body["score"]
        assert body["total_weight"] == sum(DEFAULT_WEIGHTS.values())
        source = next(rule for rule in body["rules"] if rule["rule"] == "source")
        assert source == {
            "rule": "source",
            "weight": 20,
            "fraction": 1.0,
            "points": 20.0,
            "reason": "source 'referral'",
        }
        assert body["engagement"]["email_opens"] == 0


class TestWeights:
    async def test_defaults_until_changed_then_the_accounts_own(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        read = await client.get("/v1/lead-scoring/weights", headers=owner.headers)
        assert read.status_code == 200
        assert read.json()["weights"] == DEFAULT_WEIGHTS and read.json()["version"] == 0
        new = dict.fromkeys(RULES, 10) | {"status": 60}
        put = await client.put(
            "/v1/lead-scoring/weights", json={**new, "version": 0}, headers=owner.headers
        )
        assert put.status_code == 200, put.text
        assert put.json()["weights"] == new and put.json()["version"] == 1
        stale = await client.put(
            "/v1/lead-scoring/weights", json={**new, "version": 0}, headers=owner.headers
        )
        problem(stale, 409, "version_conflict")
        by_header = await client.put(
            "/v1/lead-scoring/weights", json=new, headers={**owner.headers, "If-Match": '"1"'}
        )
        assert by_header.json()["version"] == 2
        other = new_member(db, new_account(db))
        theirs = await client.get("/v1/lead-scoring/weights", headers=other.headers)
        assert theirs.json()["weights"] == DEFAULT_WEIGHTS

    async def test_weights_are_bounded_and_not_all_zero(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        zero = await client.put(
            "/v1/lead-scoring/weights", json=dict.fromkeys(RULES, 0), headers=owner.headers
        )
        problem(zero, 422)
        big = await client.put(
            "/v1/lead-scoring/weights",
            json=dict.fromkeys(RULES, 10) | {"recency": 101},
            headers=owner.headers,
        )
        assert fields(problem(big, 422)) == ["body.recency"]
        partial = await client.put(
            "/v1/lead-scoring/weights", json={"status": 5}, headers=owner.headers
        )
        problem(partial, 422)

    async def test_changed_weights_rescore_the_accounts_leads_in_a_job(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        won = await new_lead(client, owner, status="WON")
        lost = await new_lead(client, owner, status="LOST")
        only_status = dict.fromkeys(RULES, 0) | {"status": 1}
        put = await client.put("/v1/lead-scoring/weights", json=only_status, headers=owner.headers)
        assert put.status_code == 200
        await run_worker_async(
            db, concurrency=1, queues=["content"], wait=False, install_signal_handlers=False
        )
        scores = {}
        for lead in (won, lost):
            read = await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers)
            scores[lead["id"]] = read.json()["score"]
            assert read.json()["version"] == lead["version"]  # rescoring is no new version
        assert scores == {won["id"]: 100, lost["id"]: 0}
        changed = sql(
            db,
            "SELECT count(*) FROM domain_events WHERE account_id = %s "
            "AND event_type = 'lead.score_changed'",
            owner.account_id,
        )
        assert changed == [(2,)]


def stored(account_id: uuid.UUID, event_type: str, data: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        id=uuid.uuid4(),
        account_id=account_id,
        created_at=dt.datetime.now(dt.UTC),
        event_type=event_type,
        version=1,
        aggregate_type="email",
        aggregate_id="x",
        aggregate_version=0,
        data=data,
        metadata={},
    )


class TestEngagement:
    def test_the_handler_takes_opens_clicks_and_forms(self) -> None:
        for event_type in ("email.opened", "email.clicked", "form.submitted"):
            assert "lead_engagement_scoring" in [h.name for h in handlers_for(event_type)]

    async def test_an_open_a_click_and_a_form_count_and_rescore_the_lead(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        lead = await new_lead(client, owner, email="engaged@example.com")
        database = open_database(db.app, pool_size=1)
        try:
            for event_type, data in (
                ("email.opened", {"lead_id": lead["id"]}),
                ("email.clicked", {"email": "Engaged@Example.com"}),
                ("form.submitted", {"lead_id": lead["id"]}),
                ("email.opened", {"email": "stranger@example.com"}),  # no such lead: nothing
            ):
                async with unit_of_work(database.sessions, account_id=owner.account_id) as s:
                    await count_engagement(s, stored(owner.account_id, event_type, data))
        finally:
            await database.dispose()
        score = (await client.get(f"/v1/leads/{lead['id']}/score", headers=owner.headers)).json()
        assert {
            k: score["engagement"][k] for k in ("email_opens", "email_clicks", "form_submissions")
        } == {
            "email_opens": 1,
            "email_clicks": 1,
            "form_submissions": 1,
        }
        assert score["engagement"]["last_engaged_at"] is not None
        assert score["score"] > lead["score"]
        rules = {rule["rule"]: rule for rule in score["rules"]}
        assert rules["email_engagement"]["fraction"] == 0.4
        assert rules["form_submissions"]["fraction"] == 0.5
        read = await client.get(f"/v1/leads/{lead['id']}", headers=owner.headers)
        assert read.json()["version"] == lead["version"]
