"""Rate limits per account and route group: exactly L of N concurrent requests get
through, the rest get 429 with Retry-After and RateLimit-* headers; windows roll over;
plan defaults apply without a row; accounts and groups are counted apart."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from markettina.kernel.db.autocommit import AutocommitPool
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.rate_limits import (
    PLAN_LIMITS,
    RateDecision,
    RateLimiter,
    RateLimitExceeded,
    route_group,
)
from markettina.kernel.rate_limits.plans import PLAN_LIMITS_JSON
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def set_limits(
    urls: DatabaseURLs,
    account: uuid.UUID,
    group: str,
    *,
    per_minute: int | None = None,
    per_hour: int | None = None,
    per_day: int | None = None,
) -> None:
    """A custom limit with a current minute window that cannot end during the test."""
    sql(
        urls,
        "INSERT INTO api_rate_limits (account_id, endpoint, limit_per_minute, limit_per_hour, "
        "limit_per_day, reset_minute_at) VALUES (%s, %s, %s, %s, %s, now() + interval '1 hour')",
        account, group, per_minute, per_hour, per_day,
    )  # fmt: skip


def counts(urls: DatabaseURLs, account: uuid.UUID, group: str) -> tuple[int, int, int]:
    (row,) = sql(
        urls,
        "SELECT current_minute_count, current_hour_count, current_day_count "
        "FROM api_rate_limits WHERE account_id = %s AND endpoint = %s",
        account, group,
    )  # fmt: skip
    return row


def list_keys(client: httpx.AsyncClient, member: Member) -> asyncio.Future[httpx.Response]:
    return asyncio.ensure_future(client.get("/v1/api-keys", headers=member.headers))


def test_route_groups_are_the_first_segment_after_the_version() -> None:
    assert route_group("/v1/api-keys") == "api-keys"
    assert route_group("/v1/api-keys/0b7c/x") == "api-keys"
    assert route_group("/v1/account/permissions") == "account"
    assert route_group("/v1/me") == "me"
    assert route_group("/healthz") == "healthz"


def test_every_plan_has_defaults(db: DatabaseURLs) -> None:
    (check,) = sql(
        db,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'ck_accounts_plan_tier'",
    )
    assert set(re.findall(r"'(\w+)'", check[0])) == set(PLAN_LIMITS)


def test_the_plan_table_in_the_docs_is_the_code_s() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for plan, limits in PLAN_LIMITS.items():
        row = f"| {plan} | {limits.per_minute:,} | {limits.per_hour:,} | {limits.per_day:,} |"
        assert row in docs, row


class TestConcurrency:
    async def test_exactly_the_limit_of_parallel_requests_get_through(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        limit, sent = 7, 20
        set_limits(db, owner.account_id, "api-keys", per_minute=limit)
        responses = await asyncio.gather(*(list_keys(client, owner) for _ in range(sent)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * limit + [429] * (sent - limit)
        assert counts(db, owner.account_id, "api-keys") == (limit, limit, limit)
        for response in responses:
            assert response.headers["RateLimit-Limit"] == str(limit)
            if response.status_code == 429:
                problem(response, 429, "rate_limited")
                assert response.headers["RateLimit-Remaining"] == "0"
                retry_after = int(response.headers["Retry-After"])
                assert 3500 <= retry_after <= 3600
                assert response.headers["RateLimit-Reset"] == str(retry_after)
        remaining = sorted(
            int(r.headers["RateLimit-Remaining"]) for r in responses if r.status_code == 200
        )
        assert remaining == list(range(limit))


class TestWindows:
    async def test_a_window_that_has_ended_starts_again(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=2)
        for _ in range(2):
            assert (await list_keys(client, owner)).status_code == 200
        problem(await list_keys(client, owner), 429, "rate_limited")
        sql(db, "UPDATE api_rate_limits SET reset_minute_at = now() - interval '1 second' "
                "WHERE account_id = %s", owner.account_id)  # fmt: skip
        response = await list_keys(client, owner)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit-Remaining"] == "1"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 60
        # the hour and the day kept counting: 2 before, 1 after (the refusal is not counted)
        assert counts(db, owner.account_id, "api-keys") == (1, 3, 3)

    async def test_the_tightest_window_is_the_one_reported(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=50, per_hour=3, per_day=1000)
        response = await list_keys(client, owner)
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Remaining"] == "2"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 3600
        await list_keys(client, owner)
        await list_keys(client, owner)
        refused = problem(await list_keys(client, owner), 429, "rate_limited")
        assert "per hour" in refused["detail"]


class TestDefaults:
    async def test_the_plan_default_applies_without_a_row(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        response = await list_keys(client, owner)
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == str(PLAN_LIMITS["free"].per_minute)
        assert response.headers["RateLimit-Remaining"] == str(PLAN_LIMITS["free"].per_minute - 1)
        (row,) = sql(
            db,
            "SELECT limit_per_minute, limit_per_hour, limit_per_day FROM api_rate_limits "
            "WHERE account_id = %s",
            owner.account_id,
        )
        assert row == (None, None, None)  # the plan's, so they follow a change of plan

    async def test_the_plan_decides_the_default(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        sql(db, "UPDATE accounts SET plan_tier = 'pro' WHERE id = %s", owner.account_id)
        response = await list_keys(client, owner)
        assert response.headers["RateLimit-Limit"] == str(PLAN_LIMITS["pro"].per_minute)

    async def test_a_custom_limit_overrides_one_window_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_day=5)
        response = await list_keys(client, owner)
        assert response.headers["RateLimit-Limit"] == "5"
        sql(db, "UPDATE api_rate_limits SET limit_per_day = NULL WHERE account_id = %s",
            owner.account_id)  # fmt: skip
        response = await list_keys(client, owner)
        assert response.headers["RateLimit-Limit"] == str(PLAN_LIMITS["free"].per_minute)


class TestIsolation:
    async def test_another_account_and_another_group_are_not_limited(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=1)
        assert (await list_keys(client, owner)).status_code == 200
        problem(await list_keys(client, owner), 429, "rate_limited")
        other = new_member(db, new_account(db), "owner")
        set_limits(db, other.account_id, "api-keys", per_minute=1)
        assert (await list_keys(client, other)).status_code == 200
        account = await client.get("/v1/account", headers=owner.headers)
        assert account.status_code == 200, account.text


class TestRefusedAndFailedRequests:
    async def test_a_refused_request_does_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=1)
        body = {"name": "CI", "scopes": ["content:read"]}
        assert (await client.post("/v1/api-keys", json=body, headers=owner.headers)).is_success
        refused = await client.post("/v1/api-keys", json=body, headers=owner.headers)
        problem(refused, 429, "rate_limited")
        assert sql(db, "SELECT count(*) FROM api_keys WHERE account_id = %s",
                   owner.account_id) == [(1,)]  # fmt: skip

    async def test_a_request_that_fails_still_counts(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        failed = await client.post("/v1/api-keys", json={"name": ""}, headers=owner.headers)
        problem(failed, 422)
        assert counts(db, owner.account_id, "api-keys") == (1, 1, 1)


class TestUsage:
    async def test_the_account_sees_its_limits_and_counts(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=10)
        await list_keys(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.get("/v1/account/rate-limits", headers=viewer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        free = PLAN_LIMITS["free"]
        assert body["plan_tier"] == "free"
        assert body["defaults"] == {
            "per_minute": free.per_minute, "per_hour": free.per_hour, "per_day": free.per_day,
        }  # fmt: skip
        groups = {group["group"]: group for group in body["groups"]}
        assert set(groups) == {"api-keys", "account"}
        keys = groups["api-keys"]
        assert keys["custom"] is True
        assert keys["minute"]["limit"] == 10 and keys["minute"]["used"] == 1
        assert keys["hour"] == {
            "limit": free.per_hour,
            "used": 1,
            "resets_at": keys["hour"]["resets_at"],
        }
        # this very request was counted before it read the figures
        assert groups["account"]["custom"] is False
        assert groups["account"]["minute"]["used"] == 1


class CountedPool(AutocommitPool):
    """The real pool, counting the statements it runs."""

    statements = 0

    async def fetch_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
        self.statements += 1
        return await super().fetch_one(sql, params)


class TestBatches:
    async def test_requests_arriving_together_are_counted_in_one_statement(
        self, db: DatabaseURLs, owner: Member
    ) -> None:
        limit, sent = 10, 30
        set_limits(db, owner.account_id, "api-keys", per_minute=limit)
        pool = CountedPool(as_libpq_url(db.app), max_size=2)
        await pool.open()
        try:
            limiter = RateLimiter(pool)
            outcomes = await asyncio.gather(
                *(limiter.take(owner.account_id, "api-keys") for _ in range(sent)),
                return_exceptions=True,
            )
        finally:
            await pool.close()
        allowed = [o for o in outcomes if isinstance(o, RateDecision)]
        refused = [o for o in outcomes if isinstance(o, RateLimitExceeded)]
        assert (len(allowed), len(refused)) == (limit, sent - limit)
        assert pool.statements < sent
        assert sorted(d.windows[0].remaining for d in allowed) == list(range(limit))
        assert {e.decision.windows[0].remaining for e in refused} == {0}
        assert counts(db, owner.account_id, "api-keys") == (limit, limit, limit)

    async def test_the_next_batch_waits_for_the_one_in_flight(
        self, db: DatabaseURLs, owner: Member
    ) -> None:
        pool = CountedPool(as_libpq_url(db.app), max_size=2)
        await pool.open()
        try:
            limiter = RateLimiter(pool)
            first = asyncio.ensure_future(limiter.take(owner.account_id, "api-keys"))
            await asyncio.sleep(0)  # the first statement is on its way
            later = [limiter.take(owner.account_id, "api-keys") for _ in range(5)]
            decisions = [await first, *await asyncio.gather(*later)]
        finally:
            await pool.close()
        assert pool.statements == 2
        free = PLAN_LIMITS["free"].per_minute
        assert [d.windows[0].remaining for d in decisions] == [free - n for n in range(1, 7)]
        assert counts(db, owner.account_id, "api-keys") == (6, 6, 6)

    async def test_a_failed_statement_fails_its_batch_only(
        self, db: DatabaseURLs, owner: Member
    ) -> None:
        pool = CountedPool(as_libpq_url(db.app), max_size=1)
        await pool.open()
        try:
            limiter = RateLimiter(pool)
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                await limiter.take(uuid.uuid4(), "api-keys")  # no such account
            decision = await limiter.take(owner.account_id, "api-keys")
        finally:
            await pool.close()
        assert decision.allowed

    def test_a_batch_grants_what_every_window_has_room_for(
        self, db: DatabaseURLs, owner: Member
    ) -> None:
        set_limits(db, owner.account_id, "api-keys", per_minute=100, per_hour=4)
        (row,) = sql(
            db, "SELECT * FROM rate_limit_take(%s, 'api-keys', %s::jsonb, 6)",
            owner.account_id, PLAN_LIMITS_JSON,
        )  # fmt: skip
        assert row[0] == 4  # granted: the hour's room
        assert counts(db, owner.account_id, "api-keys") == (4, 4, 4)
        (again,) = sql(
            db, "SELECT granted FROM rate_limit_take(%s, 'api-keys', %s::jsonb, 1)",
            owner.account_id, PLAN_LIMITS_JSON,
        )  # fmt: skip
        assert again == (0,)
        assert counts(db, owner.account_id, "api-keys") == (4, 4, 4)
