"""The sign-in lockout counts wrong passwords per (person, client address), under a cap
across all addresses: an attacker who knows an address locks out only its own client
address, the person still signs in from theirs; guessing spread over many addresses
locks everyone out; counts and locks end with their window; a daily job forgets them.
Staff sign-in locks the same way."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from markettina.app import create_app
from markettina.identity import staff
from markettina.identity.tasks import purge_sign_in_tokens
from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.security import SecretBox, totp_code
from tests.support.api import TEST_ENCRYPTION_KEY, suite_settings
from tests.support.checks import problem, sql
from tests.support.emails import queued_emails
from tests.support.identity import new_account, new_member

PER_CLIENT = 3
ALL_CLIENTS = 8
WINDOW_MINUTES = 15
PASSWORD = "correct horse battery"
OWNER_AT = "192.0.2.10"
ATTACKER_AT = "203.0.113.66"


@pytest.fixture
async def app(db: DatabaseURLs) -> AsyncIterator[FastAPI]:
    settings = suite_settings().model_copy(
        update={
            "login_max_failures": PER_CLIENT,
            "login_max_failures_all_clients": ALL_CLIENTS,
            "login_lockout_minutes": WINDOW_MINUTES,
        }
    )
    application = create_app(urls=db, settings=settings)
    async with application.router.lifespan_context(application):
        yield application


def client_at(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def sign_in(app: FastAPI, address: str, email: str, password: str) -> httpx.Response:
    async with client_at(app, address) as client:
        return await client.post("/v1/auth/login", json={"email": email, "password": password})


async def person(app: FastAPI, email: str) -> dict[str, Any]:
    async with client_at(app, OWNER_AT) as client:
        response = await client.post(
            "/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def fail(app: FastAPI, address: str, email: str, times: int) -> None:
    for _ in range(times):
        problem(await sign_in(app, address, email, "a wrong guess"), 401, "invalid_credentials")


def locked(response: httpx.Response) -> None:
    problem(response, 429, "login_locked")
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW_MINUTES * 60


def counts(db: DatabaseURLs, user_id: int) -> dict[str, tuple[int, bool]]:
    """Per client address ('*': all of them): failures, and whether a lock is on."""
    rows = sql(
        db,
        "SELECT client_address, failures, coalesce(locked_until > now(), false) "
        "FROM login_failures WHERE user_id = %s",
        user_id,
    )
    return {address: (failures, lock) for address, failures, lock in rows}


def time_passes(db: DatabaseURLs, user_id: int, minutes: int = WINDOW_MINUTES + 1) -> None:
    """Every window and lock of the person, ``minutes`` older."""
    sql(
        db,
        "UPDATE login_failures SET window_ends_at = window_ends_at - make_interval(mins => %s), "
        "locked_until = locked_until - make_interval(mins => %s) WHERE user_id = %s",
        minutes, minutes, user_id,
    )  # fmt: skip


def new_email() -> str:
    return f"lockout-{uuid.uuid4().hex[:10]}@example.com"


class TestPerClientAddress:
    async def test_an_attacker_locks_out_its_own_address_not_the_owner(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        await fail(app, ATTACKER_AT, email, PER_CLIENT)

        # the attacker's address is locked, even with the right password
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))
        assert counts(db, user_id) == {ATTACKER_AT: (PER_CLIENT, True), "*": (PER_CLIENT, False)}
        # the owner, from elsewhere, signs in
        owner = await sign_in(app, OWNER_AT, email, PASSWORD)
        assert owner.status_code == 200, owner.text
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))
        # a locked attempt is refused before the password is checked, and not counted
        assert counts(db, user_id)[ATTACKER_AT] == (PER_CLIENT, True)

    async def test_a_success_forgets_its_own_address_only(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        await fail(app, ATTACKER_AT, email, PER_CLIENT - 1)
        await fail(app, OWNER_AT, email, PER_CLIENT - 1)
        assert (await sign_in(app, OWNER_AT, email, PASSWORD)).status_code == 200

        await fail(app, OWNER_AT, email, PER_CLIENT - 1)  # counted from zero again
        assert (await sign_in(app, OWNER_AT, email, PASSWORD)).status_code == 200
        await fail(app, ATTACKER_AT, email, 1)  # the attacker's count went on
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))
        # the owner's success did not wipe the count across addresses either
        assert counts(db, user_id)["*"] == (3 * (PER_CLIENT - 1) + 1, False)
        assert 3 * (PER_CLIENT - 1) + 1 < ALL_CLIENTS

    async def test_wrong_current_passwords_lock_that_address_only(self, app: FastAPI) -> None:
        email = new_email()
        registered = await person(app, email)
        headers = {"Authorization": f"Bearer {registered['tokens']['access_token']}"}
        guess = {"current_password": "a wrong guess", "new_password": "another long secret"}
        async with client_at(app, ATTACKER_AT) as stolen_session:
            for _ in range(PER_CLIENT):
                answer = await stolen_session.patch("/v1/me", json=guess, headers=headers)
                problem(answer, 403, "wrong_password")
            locked(await stolen_session.patch("/v1/me", json=guess, headers=headers))
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))
        assert (await sign_in(app, OWNER_AT, email, PASSWORD)).status_code == 200


class TestAllClients:
    async def test_guessing_spread_over_addresses_locks_everyone(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        # each address stays under its own limit; together they reach the cap
        spread = [f"198.51.100.{i}" for i in range(ALL_CLIENTS)]
        for address in spread:
            await fail(app, address, email, 1)
        assert counts(db, user_id)["*"] == (ALL_CLIENTS, True)

        locked(await sign_in(app, OWNER_AT, email, PASSWORD))
        locked(await sign_in(app, "192.0.2.99", email, PASSWORD))

        time_passes(db, user_id)
        owner = await sign_in(app, OWNER_AT, email, PASSWORD)
        assert owner.status_code == 200, owner.text

    async def test_a_password_reset_lifts_every_lock(self, app: FastAPI, db: DatabaseURLs) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        for i in range(ALL_CLIENTS):
            await fail(app, f"198.51.100.{100 + i}", email, 1)
        locked(await sign_in(app, OWNER_AT, email, PASSWORD))
        async with client_at(app, OWNER_AT) as client:
            await client.post("/v1/auth/password-reset", json={"email": email})
            text = queued_emails(db, email)[-1]["text"]
            token = text.split("reset-password?token=", 1)[1].split()[0]
            confirmed = await client.post(
                "/v1/auth/password-reset/confirm",
                json={"token": token, "new_password": "another long secret"},
            )
            assert confirmed.status_code == 204, confirmed.text
        assert counts(db, user_id) == {}
        again = await sign_in(app, OWNER_AT, email, "another long secret")
        assert again.status_code == 200, again.text


class TestWindows:
    async def test_failures_count_within_their_window_only(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        await fail(app, ATTACKER_AT, email, PER_CLIENT - 1)
        time_passes(db, user_id)
        await fail(app, ATTACKER_AT, email, 1)  # a new window: one failure, not the limit
        assert counts(db, user_id) == {ATTACKER_AT: (1, False), "*": (1, False)}
        assert (await sign_in(app, ATTACKER_AT, email, PASSWORD)).status_code == 200

    async def test_a_lock_ends_and_counting_starts_again(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email = new_email()
        user_id = (await person(app, email))["user"]["id"]
        await fail(app, ATTACKER_AT, email, PER_CLIENT)
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))

        time_passes(db, user_id, minutes=WINDOW_MINUTES - 1)  # not over yet
        locked(await sign_in(app, ATTACKER_AT, email, PASSWORD))
        time_passes(db, user_id, minutes=2)
        await fail(app, ATTACKER_AT, email, PER_CLIENT - 1)  # a fresh allowance, not a relock
        assert counts(db, user_id)[ATTACKER_AT] == (PER_CLIENT - 1, False)
        assert (await sign_in(app, ATTACKER_AT, email, PASSWORD)).status_code == 200


async def new_staff(db: DatabaseURLs) -> tuple[str, str]:
    """A staff member (as the CLI makes one): their e-mail address and TOTP secret."""
    email = f"staff-{uuid.uuid4().hex[:10]}@example.com"
    engine = create_async_engine(db.app, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session, session.begin():
            uri = await staff.create_staff_member(
                session, email=email, password=PASSWORD, full_name="Staff", superadmin=False,
                box=SecretBox([TEST_ENCRYPTION_KEY]),
            )  # fmt: skip
    finally:
        await engine.dispose()
    return email, pyotp.parse_uri(uri).secret


async def staff_sign_in(
    app: FastAPI, address: str, email: str, secret: str, password: str = PASSWORD
) -> httpx.Response:
    body = {"email": email, "password": password, "totp_code": totp_code(secret)}
    async with client_at(app, address) as client:
        return await client.post("/v1/staff/login", json=body)


class TestStaff:
    async def test_refusals_lock_out_their_address_not_the_member(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email, secret = await new_staff(db)
        for _ in range(PER_CLIENT):
            refused = await staff_sign_in(app, ATTACKER_AT, email, secret, "a wrong guess")
            problem(refused, 401, "invalid_credentials")
        locked(await staff_sign_in(app, ATTACKER_AT, email, secret))
        member = await staff_sign_in(app, OWNER_AT, email, secret)
        assert member.status_code == 200, member.text

    async def test_refusals_spread_over_addresses_lock_everyone(
        self, app: FastAPI, db: DatabaseURLs
    ) -> None:
        email, secret = await new_staff(db)
        for i in range(ALL_CLIENTS):
            refused = await staff_sign_in(app, f"198.51.100.{200 + i}", email, secret, "wrong!")
            problem(refused, 401, "invalid_credentials")
        locked(await staff_sign_in(app, OWNER_AT, email, secret))


class TestStorage:
    async def test_ended_counts_are_purged_daily(self, db: DatabaseURLs) -> None:
        ended, live, locked_user = (new_member(db, new_account(db)).user_id for _ in range(3))
        sql(
            db,
            "INSERT INTO login_failures (user_id, client_address, failures, window_ends_at, "
            "locked_until) VALUES "
            "(%s, '*', 2, now() - interval '1 minute', now() - interval '1 minute'), "
            "(%s, '*', 1, now() + interval '5 minutes', NULL), "
            "(%s, '*', 9, now() - interval '1 minute', now() + interval '5 minutes')",
            ended, live, locked_user,
        )  # fmt: skip
        jobs.configure_maintenance(as_libpq_url(db.owner))
        assert await purge_sign_in_tokens(timestamp=0) >= 1
        rows = sql(
            db, "SELECT user_id FROM login_failures WHERE user_id IN (%s, %s, %s)",
            ended, live, locked_user,
        )  # fmt: skip
        assert {user_id for (user_id,) in rows} == {live, locked_user}

    def test_the_application_role_cannot_purge(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.app) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT purge_ended_login_failures()")
