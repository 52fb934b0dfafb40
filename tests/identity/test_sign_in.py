"""Sign-in over HTTP against a real database: registration, verification, login throttling,
refresh-token rotation and reuse, logout, password reset and the profile."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from typing import Any

import httpx

from markettina.identity.principal import ACCESS_AUDIENCE
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import digest, read_token
from tests.support.emails import queued_emails
from tests.support.identity import TEST_SECRET_KEY, new_account, new_key

PASSWORD = "correct horse battery"
OTHER_PASSWORD = "another long secret"
MAX_FAILURES = 5  # the settings' default login_max_failures


# --- helpers ----------------------------------------------------------------------------------


def sql(urls: DatabaseURLs, statement: str, *params: object) -> list[tuple[Any, ...]]:
    """As the owner: sees every row, whatever the tenant."""
    with bootstrap.connect(urls.owner) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def fields(response: httpx.Response) -> set[str]:
    return {error["field"] for error in response.json().get("errors", [])}


def emails_to(urls: DatabaseURLs, address: str) -> list[dict[str, Any]]:
    """The e-mail jobs queued for ``address``, oldest first, with their queue and body."""
    return queued_emails(urls, address)


def link_token(urls: DatabaseURLs, address: str, path: str) -> str:
    """The token in the link of the last e-mail sent to ``address``."""
    text = emails_to(urls, address)[-1]["text"]
    found = re.search(rf"/{path}\?token=([A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


async def register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/auth/register", json={"email": email, "password": password, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/v1/auth/login", json={"email": email, "password": password})


async def signed_in(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await login(client, email)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def family_of(access_token: str) -> uuid.UUID:
    claims = read_token(access_token, secret=TEST_SECRET_KEY, audience=ACCESS_AUDIENCE)
    return uuid.UUID(claims.extra["fam"])


def user_row(urls: DatabaseURLs, email: str) -> dict[str, Any]:
    """The person, with the failed sign-ins counted from the test client's address."""
    rows = sql(
        urls,
        "SELECT u.id, u.password_hash, u.is_verified, coalesce(f.failures, 0), f.locked_until, "
        "u.last_login_at FROM users u LEFT JOIN login_failures f ON f.user_id = u.id "
        "AND f.client_address = '127.0.0.1' WHERE lower(u.email) = lower(%s)",
        email,
    )
    keys = ("id", "password_hash", "is_verified", "failed_login_count", "locked_until",
            "last_login_at")  # fmt: skip
    return dict(zip(keys, rows[0], strict=True))


# --- registration -----------------------------------------------------------------------------


class TestRegister:
    async def test_creates_user_account_owner_membership_wallet_and_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        body = await register(client, email, full_name="Ada Lovelace")

        user, account, tokens = body["user"], body["account"], body["tokens"]
        assert user["email"] == email and user["full_name"] == "Ada Lovelace"
        assert user["is_verified"] is False
        assert account["name"] == "Ada Lovelace"
        assert account["slug"] == email.split("@")[0]
        assert tokens["token_type"] == "bearer" and tokens["account_id"] == account["id"]
        assert "password" not in response_text(body) and PASSWORD not in response_text(body)

        # as the owner, past row-level security: everything exists and belongs together
        row = user_row(db, email)
        assert row["id"] == user["id"] and row["password_hash"].startswith("$argon2")
        assert sql(db, "SELECT name, slug FROM accounts WHERE id = %s", account["id"]) == [
            ("Ada Lovelace", account["slug"])
        ]
        memberships = sql(
            db, "SELECT account_id::text, role, accepted_at IS NOT NULL "
            "FROM account_memberships WHERE user_id = %s", user["id"],
        )  # fmt: skip
        assert memberships == [(account["id"], "owner", True)]
        wallets = sql(
            db, "SELECT account_id::text, balance, total_purchased FROM token_wallets "
            "WHERE user_id = %s", user["id"],
        )  # fmt: skip
        assert wallets == [(account["id"], 0, 0)]
        sessions = sql(
            db, "SELECT session_account_id::text, family_id FROM refresh_tokens "
            "WHERE user_id = %s", user["id"],
        )  # fmt: skip
        assert sessions == [(account["id"], family_of(tokens["access_token"]))]

        # the verification link: only its digest is stored, the e-mail waits in its queue
        [mail] = emails_to(db, email)
        assert mail["queue"] == "email" and "Confirm your e-mail" in mail["subject"]
        assert "http://127.0.0.1:8000/verify-email?token=" in mail["text"]
        token = link_token(db, email, "verify-email")
        stored = sql(
            db, "SELECT token_hash, expires_at - now() FROM user_tokens "
            "WHERE user_id = %s AND purpose = 'verify_email'", user["id"],
        )  # fmt: skip
        assert stored[0][0] == digest(token) != token
        assert dt.timedelta(hours=23, minutes=59) < stored[0][1] < dt.timedelta(hours=24)

    async def test_signed_in_at_once_though_not_verified(self, client: httpx.AsyncClient) -> None:
        body = await register(client, new_email())
        response = await client.get("/v1/me", headers=bearer(body["tokens"]["access_token"]))
        assert response.status_code == 200, response.text
        me = response.json()
        assert me["is_verified"] is False and me["role"] == "owner"
        assert me["account_id"] == body["account"]["id"]

    async def test_same_address_in_another_case_is_409(self, client: httpx.AsyncClient) -> None:
        local = f"case-{uuid.uuid4().hex[:8]}"
        await register(client, f"{local}@example.com")
        response = await client.post(
            "/v1/auth/register",
            json={"email": f"{local.upper()}@EXAMPLE.com", "password": PASSWORD},
        )
        assert_problem(response, 409, "email_taken")
        assert fields(response) == {"body.email"}

    async def test_a_race_for_one_address_is_a_409_not_a_500(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        payload = {"email": email, "password": PASSWORD}
        responses = await asyncio.gather(
            client.post("/v1/auth/register", json=payload),
            client.post("/v1/auth/register", json=payload),
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        assert len(sql(db, "SELECT 1 FROM users WHERE lower(email) = %s", email)) == 1

    async def test_slug_from_the_local_part_made_unique(self, client: httpx.AsyncClient) -> None:
        local = f"Jo.Doe+{uuid.uuid4().hex[:6]}"
        first = await register(client, f"{local}@one.example")
        second = await register(client, f"{local}@two.example")
        base = re.sub(r"[^a-z0-9]+", "-", local.lower())
        assert first["account"]["slug"] == base
        assert re.fullmatch(rf"{base}-[0-9a-f]{{6}}", second["account"]["slug"])
        assert first["account"]["name"] == f"{local}@one.example"  # no name given

    async def test_bad_input_is_422_naming_each_field(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/auth/register", json={"email": "not-an-address", "password": "short"}
        )
        assert_problem(response, 422, "validation_failed")
        assert fields(response) == {"body.email", "body.password"}

        too_long = await client.post(
            "/v1/auth/register", json={"email": new_email(), "password": "x" * 129}
        )
        assert fields(too_long) == {"body.password"}
        missing = await client.post("/v1/auth/register", json={"full_name": "Nobody"})
        assert fields(missing) == {"body.email", "body.password"}
        unknown = await client.post(
            "/v1/auth/register",
            json={"email": new_email(), "password": PASSWORD, "role": "admin"},
        )
        assert fields(unknown) == {"body.role"}


def response_text(body: dict[str, Any]) -> str:
    return repr(body).lower()


# --- e-mail verification ----------------------------------------------------------------------


class TestVerifyEmail:
    async def test_the_link_verifies_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        body = await register(client, email)
        token = link_token(db, email, "verify-email")

        response = await client.post("/v1/auth/verify-email", json={"token": token})
        assert response.status_code == 204, response.text
        me = await client.get("/v1/me", headers=bearer(body["tokens"]["access_token"]))
        assert me.json()["is_verified"] is True

        again = await client.post("/v1/auth/verify-email", json={"token": token})
        assert_problem(again, 422, "link_used")
        assert fields(again) == {"body.token"}

    async def test_an_expired_link_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        token = link_token(db, email, "verify-email")
        sql(db, "UPDATE user_tokens SET expires_at = now() - interval '1 second' "
                "WHERE token_hash = %s", digest(token))  # fmt: skip

        response = await client.post("/v1/auth/verify-email", json={"token": token})
        assert_problem(response, 422, "link_expired")
        assert user_row(db, email)["is_verified"] is False

    async def test_an_unknown_or_reset_token_is_not_a_verification(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        response = await client.post("/v1/auth/verify-email", json={"token": "x" * 43})
        assert_problem(response, 422, "invalid_link")

        email = new_email()
        await register(client, email)
        await client.post("/v1/auth/password-reset", json={"email": email})
        reset_token = link_token(db, email, "reset-password")
        wrong_purpose = await client.post("/v1/auth/verify-email", json={"token": reset_token})
        assert_problem(wrong_purpose, 422, "invalid_link")

    async def test_resend_sends_a_new_link_until_verified(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        headers = bearer((await register(client, email))["tokens"]["access_token"])

        response = await client.post("/v1/auth/verify-email/resend", headers=headers)
        assert response.status_code == 202, response.text
        assert len(emails_to(db, email)) == 2
        token = link_token(db, email, "verify-email")
        await client.post("/v1/auth/verify-email", json={"token": token})

        done = await client.post("/v1/auth/verify-email/resend", headers=headers)
        assert_problem(done, 409, "already_verified")


# --- login and throttling ---------------------------------------------------------------------


class TestLogin:
    async def test_right_password_opens_a_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        registered = await register(client, email)
        response = await login(client, email.upper())  # the address is found in any case
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert set(tokens) == {
            "access_token", "refresh_token", "token_type", "expires_in", "account_id",
        }  # fmt: skip
        assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
        assert tokens["account_id"] == registered["account"]["id"]
        # a new family, beside the registration's
        assert family_of(tokens["access_token"]) != family_of(registered["tokens"]["access_token"])
        me = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200 and me.json()["last_login_at"] is not None

    async def test_wrong_password_and_unknown_address_get_the_same_answer(
        self, client: httpx.AsyncClient
    ) -> None:
        email = new_email()
        await register(client, email)
        wrong = await login(client, email, "not the password")
        unknown = await login(client, new_email(), PASSWORD)
        for response in (wrong, unknown):
            assert_problem(response, 401, "invalid_credentials")
        keep = ("status", "code", "title", "detail", "type")
        assert {k: wrong.json()[k] for k in keep} == {k: unknown.json()[k] for k in keep}

    async def test_lockout_after_max_failures_refuses_even_the_right_password(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        for _ in range(MAX_FAILURES):
            assert_problem(await login(client, email, "wrong password"), 401, "invalid_credentials")
        # each failure was recorded though each request answered with an error
        row = user_row(db, email)
        assert row["failed_login_count"] == MAX_FAILURES and row["locked_until"] is not None

        locked = await login(client, email, PASSWORD)
        assert_problem(locked, 429, "login_locked")
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60

        sql(db, "UPDATE login_failures SET locked_until = now() - interval '1 second', "
                "window_ends_at = now() - interval '1 second' WHERE user_id = %s",
            row["id"])  # fmt: skip
        response = await login(client, email, PASSWORD)
        assert response.status_code == 200, response.text
        row = user_row(db, email)
        assert row["failed_login_count"] == 0 and row["locked_until"] is None

    async def test_a_success_resets_the_count(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        for _ in range(MAX_FAILURES - 1):
            await login(client, email, "wrong password")
        assert (await login(client, email)).status_code == 200
        assert (await login(client, email, "wrong password")).status_code == 401
        assert user_row(db, email)["failed_login_count"] == 1

    async def test_an_unknown_address_never_locks(self, client: httpx.AsyncClient) -> None:
        email = new_email()
        for _ in range(MAX_FAILURES + 1):
            assert_problem(await login(client, email), 401, "invalid_credentials")

    async def test_bad_input_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/login", json={"email": "a@b.c"})
        assert_problem(response, 422, "validation_failed")
        assert fields(response) == {"body.password"}


# --- refresh-token rotation -------------------------------------------------------------------


class TestRefresh:
    async def test_rotation_issues_the_next_token_of_the_family(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        first = await signed_in(client, email)
        response = await client.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert response.status_code == 200, response.text
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["account_id"] == first["account_id"]
        family = family_of(first["access_token"])
        assert family_of(second["access_token"]) == family

        rows = sql(
            db, "SELECT token_hash, used_at IS NOT NULL, revoked_at IS NOT NULL "
            "FROM refresh_tokens WHERE family_id = %s ORDER BY issued_at, used_at", family,
        )  # fmt: skip
        assert sorted(rows) == sorted(
            [(digest(first["refresh_token"]), True, False),
             (digest(second["refresh_token"]), False, False)]
        )  # fmt: skip
        me = await client.get("/v1/me", headers=bearer(second["access_token"]))
        assert me.status_code == 200

    async def test_reuse_revokes_the_family_and_its_access_tokens(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        other_session = await signed_in(client, email)
        first = await signed_in(client, email)
        second = (
            await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()

        replay = await client.post(
            "/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert_problem(replay, 401, "refresh_token_reused")
        family = family_of(first["access_token"])
        assert sql(
            db, "SELECT bool_and(revoked_at IS NOT NULL) FROM refresh_tokens "
            "WHERE family_id = %s", family,
        ) == [(True,)]  # fmt: skip

        # the newest token of the family is dead too, and so is its access token
        after = await client.post(
            "/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
        )
        assert_problem(after, 401, "refresh_token_reused")
        me = await client.get("/v1/me", headers=bearer(second["access_token"]))
        assert_problem(me, 401, "session_revoked")
        # another session of the same person is untouched
        other = await client.get("/v1/me", headers=bearer(other_session["access_token"]))
        assert other.status_code == 200

    async def test_unknown_and_expired_tokens_are_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        unknown = await client.post("/v1/auth/refresh", json={"refresh_token": "y" * 43})
        assert_problem(unknown, 401, "invalid_refresh_token")

        email = new_email()
        await register(client, email)
        tokens = await signed_in(client, email)
        sql(db, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second' "
                "WHERE token_hash = %s", digest(tokens["refresh_token"]))  # fmt: skip
        expired = await client.post(
            "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert_problem(expired, 401, "refresh_token_expired")

    async def test_bad_input_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/auth/refresh", json={"refresh_token": "short"})
        assert_problem(response, 422, "validation_failed")
        assert fields(response) == {"body.refresh_token"}


# --- logout -----------------------------------------------------------------------------------


class TestLogout:
    async def test_logout_ends_this_session_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        kept = await signed_in(client, email)
        ended = await signed_in(client, email)

        response = await client.post("/v1/auth/logout", headers=bearer(ended["access_token"]))
        assert response.status_code == 204, response.text
        me = await client.get("/v1/me", headers=bearer(ended["access_token"]))
        assert_problem(me, 401, "session_revoked")
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": ended["refresh_token"]}
        )
        assert_problem(refreshed, 401, "refresh_token_reused")
        assert (await client.get("/v1/me", headers=bearer(kept["access_token"]))).status_code == 200

    async def test_logout_needs_a_person(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        assert_problem(await client.post("/v1/auth/logout"), 401, "unauthorized")
        key = new_key(db, new_account(db), ["account:read"])
        response = await client.post("/v1/auth/logout", headers=key.headers)
        assert_problem(response, 403, "not_a_user")


# --- password reset ---------------------------------------------------------------------------


class TestPasswordReset:
    async def test_always_202_and_a_link_only_for_a_user(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        stranger = new_email()
        response = await client.post("/v1/auth/password-reset", json={"email": stranger})
        assert response.status_code == 202 and emails_to(db, stranger) == []

        email = new_email()
        await register(client, email)
        known = await client.post("/v1/auth/password-reset", json={"email": email})
        assert known.status_code == 202
        assert (known.content, known.headers["content-type"]) == (
            response.content, response.headers["content-type"]
        )  # fmt: skip
        mail = emails_to(db, email)[-1]
        assert mail["subject"] == "Reset your Markettina password"
        token = link_token(db, email, "reset-password")
        [(lifetime,)] = sql(
            db, "SELECT expires_at - now() FROM user_tokens WHERE token_hash = %s",
            digest(token),
        )  # fmt: skip
        assert dt.timedelta(minutes=59) < lifetime < dt.timedelta(hours=1)

    async def test_confirm_sets_the_password_and_ends_every_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        registered = await register(client, email)
        sessions = [registered["tokens"], await signed_in(client, email)]
        await client.post("/v1/auth/password-reset", json={"email": email})
        token = link_token(db, email, "reset-password")

        response = await client.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": OTHER_PASSWORD}
        )
        assert response.status_code == 204, response.text
        for tokens in sessions:
            me = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
            assert_problem(me, 401, "session_revoked")
            refreshed = await client.post(
                "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            )
            assert_problem(refreshed, 401, "refresh_token_reused")
        assert_problem(await login(client, email, PASSWORD), 401, "invalid_credentials")
        assert (await login(client, email, OTHER_PASSWORD)).status_code == 200

        again = await client.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": PASSWORD}
        )
        assert_problem(again, 422, "link_used")
        assert fields(again) == {"body.token"}

    async def test_an_expired_link_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        await register(client, email)
        await client.post("/v1/auth/password-reset", json={"email": email})
        token = link_token(db, email, "reset-password")
        sql(db, "UPDATE user_tokens SET expires_at = now() - interval '1 second' "
                "WHERE token_hash = %s", digest(token))  # fmt: skip

        response = await client.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": OTHER_PASSWORD}
        )
        assert_problem(response, 422, "link_expired")
        assert (await login(client, email, PASSWORD)).status_code == 200

    async def test_a_reset_ends_the_lock(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        email = new_email()
        await register(client, email)
        for _ in range(MAX_FAILURES):
            await login(client, email, "wrong password")
        assert_problem(await login(client, email, PASSWORD), 429, "login_locked")
        await client.post("/v1/auth/password-reset", json={"email": email})
        token = link_token(db, email, "reset-password")
        await client.post(
            "/v1/auth/password-reset/confirm", json={"token": token, "new_password": OTHER_PASSWORD}
        )
        assert (await login(client, email, OTHER_PASSWORD)).status_code == 200

    async def test_a_weak_new_password_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/auth/password-reset/confirm", json={"token": "z" * 43, "new_password": "short"}
        )
        assert_problem(response, 422, "validation_failed")
        assert fields(response) == {"body.new_password"}


# --- profile ----------------------------------------------------------------------------------


class TestProfile:
    async def test_me_shows_the_person_never_the_hash(self, client: httpx.AsyncClient) -> None:
        email = new_email()
        registered = await register(client, email, full_name="Grace")
        response = await client.get("/v1/me", headers=bearer(registered["tokens"]["access_token"]))
        assert response.status_code == 200
        me = response.json()
        assert set(me) == {
            "id", "email", "full_name", "is_verified", "created_at", "last_login_at",
            "account_id", "role",
        }  # fmt: skip
        assert me["email"] == email and me["full_name"] == "Grace"
        assert me["created_at"].endswith("Z")
        assert "argon2" not in response.text

    async def test_rename(self, client: httpx.AsyncClient) -> None:
        headers = bearer((await register(client, new_email()))["tokens"]["access_token"])
        response = await client.patch("/v1/me", json={"full_name": "  New Name "}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["full_name"] == "New Name"
        assert (await client.get("/v1/me", headers=headers)).json()["full_name"] == "New Name"

    async def test_change_password_with_the_current_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = new_email()
        current = (await register(client, email))["tokens"]
        other = await signed_in(client, email)
        headers = bearer(current["access_token"])

        missing = await client.patch("/v1/me", json={"new_password": OTHER_PASSWORD},
                                      headers=headers)  # fmt: skip
        assert_problem(missing, 422, "validation_failed")
        assert fields(missing) == {"body.current_password"}
        wrong = await client.patch(
            "/v1/me",
            json={"current_password": "not it at all", "new_password": OTHER_PASSWORD,
                  "full_name": "Unchanged?"},
            headers=headers,
        )  # fmt: skip
        assert_problem(wrong, 403, "wrong_password")
        assert fields(wrong) == {"body.current_password"}
        assert user_row(db, email)["failed_login_count"] == 1
        assert (await client.get("/v1/me", headers=headers)).json()["full_name"] is None

        response = await client.patch(
            "/v1/me",
            json={"current_password": PASSWORD, "new_password": OTHER_PASSWORD},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        assert_problem(await login(client, email, PASSWORD), 401, "invalid_credentials")
        assert (await login(client, email, OTHER_PASSWORD)).status_code == 200
        # this session goes on; the person's other sessions end
        assert (await client.get("/v1/me", headers=headers)).status_code == 200
        ended = await client.get("/v1/me", headers=bearer(other["access_token"]))
        assert_problem(ended, 401, "session_revoked")

    async def test_guessing_the_current_password_locks_too(self, client: httpx.AsyncClient) -> None:
        email = new_email()
        headers = bearer((await register(client, email))["tokens"]["access_token"])
        guess = {"current_password": "a wrong guess", "new_password": OTHER_PASSWORD}
        for _ in range(MAX_FAILURES):
            assert_problem(await client.patch("/v1/me", json=guess, headers=headers), 403,
                           "wrong_password")  # fmt: skip
        right = {"current_password": PASSWORD, "new_password": OTHER_PASSWORD}
        locked = await client.patch("/v1/me", json=right, headers=headers)
        assert_problem(locked, 429, "login_locked")
        assert_problem(await login(client, email), 429, "login_locked")

    async def test_bad_input_is_422(self, client: httpx.AsyncClient) -> None:
        headers = bearer((await register(client, new_email()))["tokens"]["access_token"])
        response = await client.patch(
            "/v1/me", json={"full_name": "", "new_password": "short"}, headers=headers
        )
        assert_problem(response, 422, "validation_failed")
        assert fields(response) == {"body.full_name", "body.new_password"}

    async def test_an_api_key_has_no_profile(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        key = new_key(db, new_account(db), ["account:read"])
        assert_problem(await client.get("/v1/me", headers=key.headers), 403, "not_a_user")
        assert_problem(await client.get("/v1/me"), 401, "unauthorized")
