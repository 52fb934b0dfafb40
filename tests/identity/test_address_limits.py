"""The anonymous routes that take credentials count attempts per client address: past the
limit they answer 429 with Retry-After whoever the caller claims to be, other addresses
and other groups are unaffected, and a daily job forgets idle addresses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from markettina.app import create_app
from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from tests.support.api import api_client, suite_settings
from tests.support.checks import problem

PER_MINUTE = 3


@pytest.fixture
async def strict(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    settings = suite_settings().model_copy(
        update={"address_limit_per_minute": PER_MINUTE, "address_limit_per_hour": 100}
    )
    async with api_client(create_app(urls=db, settings=settings)) as http:
        yield http


async def login(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": email, "password": "wrong-password"})


def forget(urls: DatabaseURLs) -> None:
    """A fresh count, with time to use it: the per-minute window ends on the minute, so a
    test that counts several attempts starts where no minute ends for the next 20 s."""
    with bootstrap.connect(urls.owner) as conn:
        conn.execute("DELETE FROM address_rate_limits")
    left = 60 - time.time() % 60
    if left < 20:
        time.sleep(left + 0.5)


class TestSignIn:
    async def test_an_address_gets_so_many_attempts_whatever_the_account(
        self, strict: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        forget(db)
        answers = await asyncio.gather(
            *(login(strict, f"someone-{i}@example.com") for i in range(PER_MINUTE + 2))
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [401] * PER_MINUTE + [429] * 2
        for answer in answers:
            assert answer.headers["RateLimit-Limit"] == str(PER_MINUTE)
        refused = next(a for a in answers if a.status_code == 429)
        problem(refused, 429, "rate_limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        # the reset link and registration share the group; malformed bodies count too
        reset = await strict.post("/v1/auth/password-reset", json={"email": "a@example.com"})
        problem(reset, 429, "rate_limited")
        malformed = await strict.post("/v1/auth/register", json={})
        problem(malformed, 429, "rate_limited")

    async def test_other_addresses_and_the_staff_group_are_counted_apart(
        self, strict: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        forget(db)
        for _ in range(PER_MINUTE):
            await login(strict, "a@example.com")
        problem(await login(strict, "a@example.com"), 429, "rate_limited")
        staff = await strict.post(
            "/v1/staff/login",
            json={"email": "ops@example.com", "password": "x" * 12, "totp_code": "000000"},
        )
        assert staff.status_code == 401, staff.text
        transport = httpx.ASGITransport(app=strict._transport.app, client=("203.0.113.9", 1))  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as elsewhere:
            assert (await login(elsewhere, "a@example.com")).status_code == 401

    async def test_signed_in_routes_are_not_counted_per_address(
        self, strict: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        forget(db)
        for _ in range(PER_MINUTE + 1):
            response = await strict.get("/v1/me")
            assert response.status_code == 401
            assert "RateLimit-Limit" not in response.headers


class TestStorage:
    def test_the_app_role_cannot_read_or_change_the_counts(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.app) as app:
            for statement in (
                "SELECT * FROM address_rate_limits",
                "DELETE FROM address_rate_limits",
                "SELECT purge_idle_address_rate_limits()",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    app.execute(statement)

    async def test_idle_addresses_are_purged_daily(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.owner) as conn:
            conn.execute("DELETE FROM address_rate_limits")
            conn.execute(
                "INSERT INTO address_rate_limits (address, endpoint, hour_reset_at) VALUES "
                "('198.51.100.1', 'auth', now() - interval '2 days'), "
                "('198.51.100.2', 'auth', now() + interval '1 hour')"
            )
        jobs.configure_maintenance(as_libpq_url(db.owner))
        assert await jobs.purge_address_rate_limits(timestamp=0) == 1
        with bootstrap.connect(db.owner) as conn:
            left = conn.execute("SELECT address FROM address_rate_limits").fetchall()
        assert left == [("198.51.100.2",)]
