"""Staff: sign-in with password and TOTP, staff sessions, account look-up and suspension,
and the audit log every staff action leaves."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from markettina.identity import staff
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import Conflict, ValidationFailed
from markettina.kernel.security import SecretBox, digest, opaque_secret, totp_code
from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.checks import problem, sql
from tests.support.identity import new_account, new_key, new_member

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOX = SecretBox([TEST_ENCRYPTION_KEY])
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class StaffCredentials:
    admin_user_id: int
    email: str
    secret: str

    def body(self, *, password: str = PASSWORD, code: str | None = None) -> dict[str, str]:
        return {"email": self.email, "password": password,
                "totp_code": code if code is not None else totp_code(self.secret)}  # fmt: skip


@pytest.fixture(scope="module")
async def engine(db: DatabaseURLs) -> AsyncIterator[AsyncEngine]:
    app_engine = create_async_engine(db.app, poolclass=NullPool)
    yield app_engine
    await app_engine.dispose()


async def new_staff(engine: AsyncEngine, db: DatabaseURLs) -> StaffCredentials:
    """A staff member made the way the CLI makes one, secret read back from the URI."""
    email = f"staff-{uuid.uuid4().hex[:10]}@example.com"
    async with AsyncSession(engine) as session, session.begin():
        uri = await staff.create_staff_member(
            session, email=email, password=PASSWORD, full_name="Staff", superadmin=False, box=BOX
        )
    [(admin_user_id,)] = sql(db, "SELECT id FROM admin_users WHERE email = %s", email)
    return StaffCredentials(admin_user_id, email, pyotp.parse_uri(uri).secret)


def staff_session(
    db: DatabaseURLs, member: StaffCredentials, *, expires_in: dt.timedelta = dt.timedelta(hours=8)
) -> dict[str, str]:
    """Headers of a staff session made directly (no TOTP step is used up)."""
    token = opaque_secret()
    sql(
        db,
        "INSERT INTO admin_sessions (admin_user_id, token_hash, expires_at) VALUES (%s, %s, %s)",
        member.admin_user_id, digest(token), dt.datetime.now(dt.UTC) + expires_in,
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


async def signed_in(
    db: DatabaseURLs, engine: AsyncEngine
) -> tuple[StaffCredentials, dict[str, str]]:
    member = await new_staff(engine, db)
    return member, staff_session(db, member)


def fields_of(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def audit(db: DatabaseURLs, member: StaffCredentials) -> list[tuple[Any, ...]]:
    return sql(
        db,
        "SELECT action, target_type, target_id, details, host(ip) FROM admin_audit_logs "
        "WHERE admin_user_id = %s ORDER BY created_at, id",
        member.admin_user_id,
    )


def login_reasons(db: DatabaseURLs, member: StaffCredentials) -> list[str]:
    return [
        details.get("reason", details["outcome"])
        for action, _, _, details, _ in audit(db, member)
        if action == staff.LOGIN
    ]


def code_at(member: StaffCredentials, seconds: int) -> str:
    return totp_code(member.secret, at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds))


class TestCreateStaffMember:
    async def test_the_secret_is_stored_encrypted_and_shown_once_as_a_uri(
        self, engine: AsyncEngine, db: DatabaseURLs
    ) -> None:
        email = f"first-{uuid.uuid4().hex[:8]}@example.com"
        async with AsyncSession(engine) as session, session.begin():
            uri = await staff.create_staff_member(
                session, email=email, password=PASSWORD, full_name=None, superadmin=True, box=BOX
            )
        totp = pyotp.parse_uri(uri)
        assert uri.startswith("otpauth://totp/") and "issuer=Markettina" in uri
        [(stored, password_hash, superadmin)] = sql(
            db,
            "SELECT mfa_secret_encrypted, password_hash, is_superadmin FROM admin_users "
            "WHERE email = %s",
            email,
        )
        assert totp.secret not in stored and BOX.decrypt(stored) == totp.secret
        assert PASSWORD not in password_hash and superadmin is True

    async def test_an_address_is_taken_once_in_any_case(
        self, engine: AsyncEngine, db: DatabaseURLs
    ) -> None:
        member = await new_staff(engine, db)
        with pytest.raises(Conflict) as raised:
            async with AsyncSession(engine) as session, session.begin():
                await staff.create_staff_member(session, email=member.email.upper(),
                    password=PASSWORD, full_name=None, superadmin=False, box=BOX)  # fmt: skip
        assert raised.value.code == "staff_email_taken"

    @pytest.mark.parametrize(
        ("email", "password", "field"),
        [("not-an-address", PASSWORD, "email"), ("ok@example.com", "short", "password")],
    )
    async def test_bad_input_is_named(
        self, engine: AsyncEngine, email: str, password: str, field: str
    ) -> None:
        with pytest.raises(ValidationFailed) as raised:
            async with AsyncSession(engine) as session, session.begin():
                await staff.create_staff_member(session, email=email, password=password,
                    full_name=None, superadmin=False, box=BOX)  # fmt: skip
        assert [error.field for error in raised.value.errors] == [field]


class TestLogin:
    async def test_three_factors_open_an_eight_hour_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        response = await client.post("/v1/staff/login", json=member.body())
        assert response.status_code == 200, response.text
        body = response.json()
        expires_at = dt.datetime.fromisoformat(body["expires_at"])
        eight_hours = dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)
        assert abs((expires_at - eight_hours).total_seconds()) < 60
        headers = {"Authorization": f"Bearer {body['session_token']}"}
        assert (await client.get("/v1/staff/accounts", headers=headers)).status_code == 200
        [(token_hash, user_agent, ip, last_login)] = sql(
            db,
            "SELECT s.token_hash, s.user_agent, host(s.ip), u.last_login_at "
            "FROM admin_sessions s JOIN admin_users u ON u.id = s.admin_user_id "
            "WHERE s.admin_user_id = %s",
            member.admin_user_id,
        )
        assert token_hash == digest(body["session_token"])  # only the digest is kept
        assert user_agent is not None and ip == "127.0.0.1" and last_login is not None
        action, _, _, details, audit_ip = audit(db, member)[1]  # after staff.created
        assert action == staff.LOGIN and audit_ip == "127.0.0.1"
        assert details["outcome"] == "success" and isinstance(details["totp_step"], int)

    async def test_every_wrong_factor_gets_the_same_401_and_is_logged(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        wrong_code = str((int(totp_code(member.secret)) + 1) % 1_000_000).zfill(6)
        attempts = [
            member.body(password="not the password"),
            member.body(code=wrong_code),
            member.body(code=code_at(member, -120)),  # expired: four steps ago
            {**member.body(), "email": "nobody@example.com"},
        ]
        for attempt in attempts:
            response = await client.post("/v1/staff/login", json=attempt)
            body = problem(response, 401, "invalid_credentials")
            assert body["detail"] == "the e-mail address, the password or the code is wrong"
        assert login_reasons(db, member) == ["wrong_password", "wrong_totp", "wrong_totp"]
        assert sql(db, "SELECT count(*) FROM admin_sessions WHERE admin_user_id = %s",
                   member.admin_user_id) == [(0,)]  # fmt: skip

    async def test_a_code_is_accepted_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        code = totp_code(member.secret)
        assert (await client.post("/v1/staff/login", json=member.body(code=code))).is_success
        replayed = await client.post("/v1/staff/login", json=member.body(code=code))
        problem(replayed, 401, "invalid_credentials")
        assert login_reasons(db, member) == ["success", "totp_replayed"]

    async def test_two_sign_ins_at_once_with_one_code_open_one_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        body = member.body()
        responses = await asyncio.gather(
            *(client.post("/v1/staff/login", json=body) for _ in range(2))
        )
        assert sorted(r.status_code for r in responses) == [200, 401]
        assert sorted(login_reasons(db, member)) == ["success", "totp_replayed"]

    async def test_after_a_later_code_an_earlier_one_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        later = await client.post("/v1/staff/login", json=member.body(code=code_at(member, 30)))
        assert later.is_success, later.text
        earlier = await client.post("/v1/staff/login", json=member.body())
        problem(earlier, 401, "invalid_credentials")
        assert login_reasons(db, member) == ["success", "totp_replayed"]

    async def test_a_disabled_member_cannot_sign_in(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        sql(db, "UPDATE admin_users SET is_active = false WHERE id = %s", member.admin_user_id)
        problem(await client.post("/v1/staff/login", json=member.body()), 401,
                "invalid_credentials")  # fmt: skip
        assert login_reasons(db, member) == ["disabled"]

    async def test_a_member_without_a_readable_secret_cannot_sign_in(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        sql(db, "UPDATE admin_users SET mfa_secret_encrypted = NULL WHERE id = %s",
            member.admin_user_id)  # fmt: skip
        response = await client.post("/v1/staff/login", json=member.body())
        problem(response, 401, "invalid_credentials")
        assert login_reasons(db, member) == ["mfa_unavailable"]

    async def test_repeated_failures_lock_sign_in(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        for _ in range(5):  # the suite's login_max_failures
            response = await client.post("/v1/staff/login", json=member.body(password="wrong!"))
            problem(response, 401, "invalid_credentials")
        locked = await client.post("/v1/staff/login", json=member.body())
        problem(locked, 429, "login_locked")
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
        assert login_reasons(db, member) == ["wrong_password"] * 5 + ["locked"]

    async def test_a_malformed_code_is_named(self, client: httpx.AsyncClient) -> None:
        body = {"email": "a@example.com", "password": "x", "totp_code": "12ab56"}
        response = await client.post("/v1/staff/login", json=body)
        problem(response, 422)
        assert fields_of(response) == ["body.totp_code"]


class TestStaffSessions:
    async def test_logout_revokes_the_session(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        other = staff_session(db, member)
        assert (await client.post("/v1/staff/logout", headers=headers)).status_code == 204
        problem(await client.get("/v1/staff/accounts", headers=headers), 401,
                "staff_session_revoked")  # fmt: skip
        problem(await client.post("/v1/staff/logout", headers=headers), 401)
        assert (await client.get("/v1/staff/accounts", headers=other)).status_code == 200
        assert [row[0] for row in audit(db, member)][-2:] == [staff.LOGOUT, staff.ACCOUNT_SEARCH]

    async def test_an_expired_session_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member = await new_staff(engine, db)
        headers = staff_session(db, member, expires_in=dt.timedelta(seconds=-1))
        response = await client.get("/v1/staff/accounts", headers=headers)
        problem(response, 401, "staff_session_expired")
        assert response.headers["www-authenticate"].startswith("Bearer")

    async def test_disabling_a_member_ends_their_sessions_at_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        sql(db, "UPDATE admin_users SET is_active = false WHERE id = %s", member.admin_user_id)
        problem(await client.get("/v1/staff/accounts", headers=headers), 401,
                "invalid_staff_session")  # fmt: skip

    @pytest.mark.parametrize(
        ("headers", "code"),
        [
            ({}, "staff_sign_in_required"),
            ({"Authorization": "Bearer not-a-staff-token"}, "invalid_staff_session"),
            ({"Authorization": "Basic c3RhZmY6c3RhZmY="}, "staff_sign_in_required"),
        ],
    )
    async def test_no_session_no_entry(
        self, client: httpx.AsyncClient, headers: dict[str, str], code: str
    ) -> None:
        problem(await client.get("/v1/staff/accounts", headers=headers), 401, code)

    async def test_user_credentials_do_not_open_staff_routes(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account_id = new_account(db)
        member = new_member(db, account_id, "owner")
        key = new_key(db, account_id, ["account:read"])
        assert (await client.get("/v1/account", headers=member.headers)).status_code == 200
        problem(await client.get("/v1/staff/accounts", headers=member.headers), 401,
                "invalid_staff_session")  # fmt: skip
        problem(await client.get("/v1/staff/accounts", headers=key.headers), 401,
                "staff_sign_in_required")  # fmt: skip
        problem(await client.post("/v1/staff/logout", headers=member.headers), 401)

    async def test_a_staff_token_does_not_open_user_routes(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        _, headers = await signed_in(db, engine)
        assert (await client.get("/v1/staff/accounts", headers=headers)).status_code == 200
        problem(await client.get("/v1/me", headers=headers), 401, "invalid_token")
        problem(await client.get("/v1/account", headers=headers), 401, "invalid_token")


def named_account(db: DatabaseURLs, name: str, slug: str) -> uuid.UUID:
    [(account_id,)] = sql(
        db, "INSERT INTO accounts (name, slug) VALUES (%s, %s) RETURNING id", name, slug
    )
    return account_id  # type: ignore[no-any-return]


class TestAccountLookup:
    async def test_finds_by_name_or_slug_prefix_in_any_case_and_by_id(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        tag = uuid.uuid4().hex[:8]
        bakery = named_account(db, f"Zeta{tag} Bakery", f"bakery-{tag}")
        florist = named_account(db, f"zeta{tag} Florist", f"florist-{tag}")
        named_account(db, f"Other {tag}", f"other-{tag}")

        async def found(query: str) -> list[str]:
            response = await client.get(
                "/v1/staff/accounts", params={"query": query}, headers=headers
            )
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await found(f"ZETA{tag} BAKERY") == [str(bakery)]
        assert await found(f"florist-{tag}") == [str(florist)]
        assert await found(str(florist)) == [str(florist)]
        assert await found(f"Zeta{tag}") == [str(bakery), str(florist)]
        assert await found("%") == [] and await found("_eta") == []  # no wildcards
        assert await found(str(uuid.uuid4())) == []
        searches = [row for row in audit(db, member) if row[0] == staff.ACCOUNT_SEARCH]
        assert searches[0][3] == {"query": f"ZETA{tag} BAKERY", "results": 1}

    async def test_pages_with_a_cursor(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        _, headers = await signed_in(db, engine)
        tag = uuid.uuid4().hex[:8]
        made = [str(named_account(db, f"page{tag} {n}", f"page{tag}-{n}")) for n in range(3)]
        seen: list[str] = []
        params: dict[str, Any] = {"query": f"page{tag}", "limit": 2}
        while True:
            page = (await client.get("/v1/staff/accounts", params=params, headers=headers)).json()
            seen += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == made

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"limit": 201}, "query.limit"),
            ({"limit": 0}, "query.limit"),
            ({"cursor": "not-a-cursor"}, "query.cursor"),
            ({"query": "x" * 201}, "query.query"),
        ],
    )
    async def test_bad_paging_is_named(
        self,
        client: httpx.AsyncClient,
        db: DatabaseURLs,
        engine: AsyncEngine,
        params: dict[str, Any],
        field: str,
    ) -> None:
        _, headers = await signed_in(db, engine)
        response = await client.get("/v1/staff/accounts", params=params, headers=headers)
        problem(response, 422)
        assert fields_of(response) == [field]

    async def test_one_account_with_its_member_count(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        account_id = new_account(db)
        new_member(db, account_id, "owner")
        new_member(db, account_id, "viewer")
        new_member(db, new_account(db), "owner")  # another tenant's member is not counted
        response = await client.get(f"/v1/staff/accounts/{account_id}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == str(account_id) and body["member_count"] == 2
        assert body["suspended_at"] is None and "settings" not in body
        assert audit(db, member)[-1][:3] == (staff.ACCOUNT_VIEW, "account", str(account_id))

    async def test_an_unknown_account_is_404(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        _, headers = await signed_in(db, engine)
        response = await client.get(f"/v1/staff/accounts/{uuid.uuid4()}", headers=headers)
        problem(response, 404, "account_not_found")
        problem(await client.get("/v1/staff/accounts/not-a-uuid", headers=headers), 422)


class TestSuspension:
    async def test_suspending_stops_tokens_and_keys_at_once_and_unsuspending_restores(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        account_id = new_account(db)
        owner = new_member(db, account_id, "owner")
        key = new_key(db, account_id, ["account:read"])
        bystander = new_member(db, new_account(db), "owner")
        for credentials in (owner.headers, key.headers, bystander.headers):
            assert (await client.get("/v1/account", headers=credentials)).status_code == 200

        suspended = await client.post(
            f"/v1/staff/accounts/{account_id}/suspend",
            json={"reason": "  chargeback fraud  "},
            headers=headers,
        )
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["suspended_at"] is not None
        for credentials in (owner.headers, key.headers):
            response = await client.get("/v1/account", headers=credentials)
            problem(response, 403, "account_suspended")
        assert (await client.get("/v1/account", headers=bystander.headers)).status_code == 200
        again = await client.post(f"/v1/staff/accounts/{account_id}/suspend",
                                  json={"reason": "again"}, headers=headers)  # fmt: skip
        problem(again, 409, "account_already_suspended")

        lifted = await client.post(f"/v1/staff/accounts/{account_id}/unsuspend", headers=headers)
        assert lifted.status_code == 200 and lifted.json()["suspended_at"] is None
        for credentials in (owner.headers, key.headers):
            assert (await client.get("/v1/account", headers=credentials)).status_code == 200
        problem(
            await client.post(f"/v1/staff/accounts/{account_id}/unsuspend", headers=headers),
            409,
            "account_not_suspended",
        )
        changes = [row for row in audit(db, member) if row[2] == str(account_id)]
        assert changes == [
            (staff.ACCOUNT_SUSPEND, "account", str(account_id), {"reason": "chargeback fraud"},
             "127.0.0.1"),
            (staff.ACCOUNT_UNSUSPEND, "account", str(account_id), {}, "127.0.0.1"),
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("body", "field"), [({}, "body.reason"), ({"reason": "   "}, "body.reason")]
    )
    async def test_a_reason_is_required(
        self,
        client: httpx.AsyncClient,
        db: DatabaseURLs,
        engine: AsyncEngine,
        body: dict[str, Any],
        field: str,
    ) -> None:
        _, headers = await signed_in(db, engine)
        response = await client.post(
            f"/v1/staff/accounts/{new_account(db)}/suspend", json=body, headers=headers
        )
        problem(response, 422)
        assert fields_of(response) == [field]

    async def test_an_unknown_account_cannot_be_suspended(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        response = await client.post(
            f"/v1/staff/accounts/{uuid.uuid4()}/suspend", json={"reason": "x"}, headers=headers
        )
        problem(response, 404, "account_not_found")
        assert [row[0] for row in audit(db, member)] == [staff.CREATED]  # a refusal: no action


class TestAuditLog:
    async def test_the_app_cannot_change_or_remove_an_entry(
        self, client: httpx.AsyncClient, db: DatabaseURLs, engine: AsyncEngine
    ) -> None:
        member, headers = await signed_in(db, engine)
        assert (await client.get("/v1/staff/accounts", headers=headers)).status_code == 200
        with bootstrap.connect(db.app) as conn:
            [(count,)] = conn.execute(
                "SELECT count(*) FROM admin_audit_logs WHERE admin_user_id = %s",
                (member.admin_user_id,),
            ).fetchall()
            assert count == 2  # staff.created, account.search
            for statement in (
                "UPDATE admin_audit_logs SET action = 'nothing' WHERE admin_user_id = %s",
                "DELETE FROM admin_audit_logs WHERE admin_user_id = %s",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement, (member.admin_user_id,))
        assert [row[0] for row in audit(db, member)] == [staff.CREATED, staff.ACCOUNT_SEARCH]
