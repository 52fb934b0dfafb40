"""Social accounts: connected through the real OAuth 2.0 adapter against a fake platform
served over HTTP on 127.0.0.1 (authorization code + PKCE S256, refresh, a bearer profile),
listed, one primary per platform, disconnected; tokens encrypted at rest, keys rotated; a
periodic check refreshing tokens about to expire and recording each account's health."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import psycopg
import pytest
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.adapters.social import OAuth2Config, OAuth2Platform, ProfileFields
from markettina.identity import social_accounts, social_health, social_ports
from markettina.identity.principal import Actor, Principal
from markettina.identity.social_ports import GrantRejected
from markettina.identity.social_tasks import check_social_accounts_job
from markettina.kernel import jobs
from markettina.kernel.db import bootstrap
from markettina.kernel.db.engine import Database, open_database
from markettina.kernel.db.job_database import bind_job_database
from markettina.kernel.db.reencryption import ReencryptionReport
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.jobs import configure_maintenance, job_queue
from markettina.kernel.security import SecretBox
from markettina.settings import Settings, get_settings
from tests.support.api import TEST_ENCRYPTION_KEY, api_client, make_app
from tests.support.checks import sql
from tests.support.fake_platform import (
    CLIENT_ID,
    PLATFORM,
    REDIRECT_URI,
    FakePlatform,
    FakeServer,
    FakeUser,
    connected,
    consent,
    s256,
    start,
)
from tests.support.identity import TEST_SECRET_KEY, Member, new_account, new_member

SUITE_BOX = SecretBox([TEST_ENCRYPTION_KEY])


# --- the API over one database for the module -------------------------------------------------


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def stored(urls: DatabaseURLs, social_account_id: str) -> dict[str, Any]:
    with bootstrap.connect(urls.owner) as conn:
        cursor = conn.execute("SELECT * FROM social_accounts WHERE id = %s", (social_account_id,))
        assert cursor.description is not None
        names = [column.name for column in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def health_rows(urls: DatabaseURLs, social_account_id: str) -> list[tuple[Any, ...]]:
    return sql(
        urls,
        "SELECT status, consecutive_failures, status_message, next_check_at "
        "FROM social_account_health WHERE social_account_id = %s",
        social_account_id,
    )


def assert_problem(response: httpx.Response, status: int, code: str, field: str | None = None):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code, body
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


def actor_of(member: Member) -> Actor:
    principal = Principal(kind="user", home_account_id=member.account_id, user_id=member.user_id)
    return Actor(principal=principal, account_id=member.account_id, role=member.role,
                 permissions=frozenset())  # fmt: skip


TOKEN_FIELDS = {
    "access_token",
    "refresh_token",
    "access_token_encrypted",
    "refresh_token_encrypted",
}


# --- connect ---------------------------------------------------------------------------------


class TestConnect:
    async def test_the_full_flow_connects_the_platform_account(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        started = await start(client, owner)
        assert started.status_code == 200, started.text
        url = urlsplit(started.json()["authorization_url"])
        query = dict(parse_qsl(url.query))
        assert query["display"] == "page"  # the configured URL's own query is kept
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == REDIRECT_URI
        assert query["scope"] == "profile publish"
        assert query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43

        returned = await consent(started.json()["authorization_url"])
        response = await client.post(
            "/v1/social-accounts/callback", json=returned, headers=owner.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["platform"] == PLATFORM
        assert body["platform_user_id"] == "1001"
        assert body["display_name"] == "Ada Lovelace"
        assert body["handle"] == "ada"
        assert body["profile_image_url"] == "https://img.example/ada.png"
        assert body["is_primary"] is True  # the first of its platform
        assert body["token_scope"] == ["profile", "publish"]
        assert body["user_id"] == owner.user_id
        assert body["health"]["status"] == "healthy"
        assert body["health"]["consecutive_failures"] == 0
        assert not TOKEN_FIELDS & set(body)
        expires = dt.datetime.fromisoformat(body["token_expires_at"])
        assert dt.timedelta(minutes=55) < expires - dt.datetime.now(dt.UTC) < dt.timedelta(hours=1)
        assert health_rows(db, body["id"])[0][:2] == ("healthy", 0)

    async def test_tokens_are_stored_encrypted_never_in_clear(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        body = await connected(client, owner)
        issued = fake.issued[-1]
        row = stored(db, body["id"])
        for column, token in (("access_token_encrypted", issued["access_token"]),
                              ("refresh_token_encrypted", issued["refresh_token"])):  # fmt: skip
            assert token not in row[column]
            assert SUITE_BOX.decrypt(row[column]) == token
        dump = json.dumps(sql(db, "SELECT to_jsonb(s) FROM social_accounts s"), default=str)
        assert issued["access_token"] not in dump and issued["refresh_token"] not in dump

    async def test_the_verifier_does_not_travel_in_clear(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        started = await start(client, owner)
        state = dict(parse_qsl(urlsplit(started.json()["authorization_url"]).query))["state"]
        payload = state.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["aud"] == "markettina-oauth-state"
        assert claims["exp"] - claims["iat"] == 600
        verifier = SUITE_BOX.decrypt(claims["pkv"])
        assert verifier not in state
        assert 43 <= len(verifier) <= 128

    async def test_connecting_the_same_platform_user_again_updates_it(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        first = await connected(client, owner)
        fake.user = FakeUser("1001", "Ada King", "ada_king")
        again = await connected(client, owner)
        assert again["id"] == first["id"]
        assert (again["display_name"], again["handle"]) == ("Ada King", "ada_king")
        assert again["is_primary"] is True
        listed = await client.get("/v1/social-accounts", headers=owner.headers)
        assert [a["id"] for a in listed.json()["items"]] == [first["id"]]

    async def test_a_second_account_of_the_platform_is_not_primary(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        await connected(client, owner)
        fake.user = FakeUser("2002", "Grace Hopper", "grace")
        second = await connected(client, owner)
        assert second["is_primary"] is False

    async def test_a_code_redeemed_with_another_connections_verifier_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        first = await start(client, owner)
        second = await start(client, owner)
        code = (await consent(first.json()["authorization_url"]))["code"]
        other_state = dict(parse_qsl(urlsplit(second.json()["authorization_url"]).query))["state"]
        response = await client.post(
            "/v1/social-accounts/callback",
            json={"state": other_state, "code": code},
            headers=owner.headers,
        )
        assert_problem(response, 422, "oauth_code_rejected", "body.code")
        assert "PKCE verification failed" in response.json()["detail"]
        assert (
            sql(db, "SELECT 1 FROM social_accounts WHERE account_id = %s", owner.account_id) == []
        )

    async def test_a_code_works_once(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        started = await start(client, owner)
        returned = await consent(started.json()["authorization_url"])
        ok = await client.post("/v1/social-accounts/callback", json=returned, headers=owner.headers)
        assert ok.status_code == 201
        replay = await client.post(
            "/v1/social-accounts/callback", json=returned, headers=owner.headers
        )
        assert_problem(replay, 422, "oauth_code_rejected", "body.code")

    async def test_a_tampered_state_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        started = await start(client, owner)
        returned = await consent(started.json()["authorization_url"])
        header, payload, signature = returned["state"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["ruri"] = "https://evil.example/steal"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
        for state in (f"{header}.{forged}.{signature}", "not-a-state"):
            response = await client.post(
                "/v1/social-accounts/callback",
                json={"state": state, "code": returned["code"]},
                headers=owner.headers,
            )
            assert_problem(response, 422, "oauth_state_invalid", "body.state")

    async def test_an_expired_state_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        url = social_accounts.start_connect(
            actor=actor_of(owner), platform=PLATFORM, redirect_uri=REDIRECT_URI,
            secret_key=TEST_SECRET_KEY, box=SUITE_BOX,
            now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=11),
        )  # fmt: skip
        returned = await consent(url)
        response = await client.post(
            "/v1/social-accounts/callback", json=returned, headers=owner.headers
        )
        assert_problem(response, 422, "oauth_state_expired", "body.state")

    async def test_a_state_started_by_someone_else_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        started = await start(client, owner)
        returned = await consent(started.json()["authorization_url"])
        colleague = new_member(db, owner.account_id, "editor")
        stranger = new_member(db, new_account(db), "owner")
        for member in (colleague, stranger):
            response = await client.post(
                "/v1/social-accounts/callback", json=returned, headers=member.headers
            )
            assert_problem(response, 422, "oauth_state_mismatch", "body.state")

    async def test_an_unknown_platform_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        response = await start(client, owner, platform="myspace")
        assert_problem(response, 422, "unknown_platform", "body.platform")

    @pytest.mark.parametrize(
        "redirect_uri", ["not a url", "ftp://app.example.com/cb", "https://app.example.com/#x", ""]
    )
    async def test_a_bad_redirect_uri_is_refused(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, redirect_uri: str
    ) -> None:
        response = await start(client, owner, redirect_uri=redirect_uri)
        assert_problem(response, 422, "validation_failed", "body.redirect_uri")

    async def test_a_viewer_cannot_connect(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        assert_problem(await start(client, viewer), 403, "permission_denied")
        listed = await client.get("/v1/social-accounts", headers=viewer.headers)
        assert listed.status_code == 200

    async def test_a_platform_that_fails_is_a_bad_gateway(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, fake_server: FakeServer
    ) -> None:
        started = await start(client, owner)
        returned = await consent(started.json()["authorization_url"])
        broken = fake_server.config(token_url=f"{fake_server.base_url}/missing")
        social_ports.bind_platform(PLATFORM, OAuth2Platform(broken))
        response = await client.post(
            "/v1/social-accounts/callback", json=returned, headers=owner.headers
        )
        assert_problem(response, 502, "platform_error")


# --- list, primary, disconnect ----------------------------------------------------------------


class TestManage:
    async def test_the_list_is_paginated_and_filtered(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform
    ) -> None:
        ids = []
        for n in range(3):
            fake.user = FakeUser(f"30{n}", f"User {n}", f"user{n}")
            ids.append((await connected(client, owner))["id"])
        first = await client.get("/v1/social-accounts?limit=2", headers=owner.headers)
        assert first.status_code == 200
        page = first.json()
        assert [a["id"] for a in page["items"]] == ids[::-1][:2]
        following = await client.get(
            f"/v1/social-accounts?limit=2&cursor={page['next_cursor']}", headers=owner.headers
        )
        assert [a["id"] for a in following.json()["items"]] == [ids[0]]
        assert following.json()["next_cursor"] is None
        other = await client.get("/v1/social-accounts?platform=linkedin", headers=owner.headers)
        assert other.json()["items"] == []
        for item in page["items"]:
            assert not TOKEN_FIELDS & set(item)

    async def test_set_primary_moves_it_within_the_platform(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        first = await connected(client, owner)
        fake.user = FakeUser("2002", "Grace Hopper", "grace")
        second = await connected(client, owner)
        response = await client.post(
            f"/v1/social-accounts/{second['id']}/primary", headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_primary"] is True
        assert response.json()["version"] > second["version"]
        primaries = sql(
            db, "SELECT id FROM social_accounts WHERE account_id = %s AND is_primary",
            owner.account_id,
        )  # fmt: skip
        assert primaries == [(uuid.UUID(second["id"]),)]
        again = await client.post(
            f"/v1/social-accounts/{second['id']}/primary", headers=owner.headers
        )
        assert again.json()["is_primary"] is True
        assert stored(db, first["id"])["is_primary"] is False

    async def test_disconnect_wipes_tokens_and_hands_primary_over(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        first = await connected(client, owner)
        fake.user = FakeUser("2002", "Grace Hopper", "grace")
        second = await connected(client, owner)
        response = await client.delete(f"/v1/social-accounts/{first['id']}", headers=owner.headers)
        assert response.status_code == 204
        row = stored(db, first["id"])
        assert row["deleted_at"] is not None and row["deleted_by"] == owner.user_id
        assert row["access_token_encrypted"] is None and row["refresh_token_encrypted"] is None
        assert row["is_primary"] is False
        assert stored(db, second["id"])["is_primary"] is True
        listed = await client.get("/v1/social-accounts", headers=owner.headers)
        assert [a["id"] for a in listed.json()["items"]] == [second["id"]]
        again = await client.delete(f"/v1/social-accounts/{first['id']}", headers=owner.headers)
        assert_problem(again, 404, "social_account_not_found")

    async def test_connecting_a_disconnected_account_again_revives_it(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        first = await connected(client, owner)
        await client.delete(f"/v1/social-accounts/{first['id']}", headers=owner.headers)
        revived = await connected(client, owner)
        assert revived["id"] == first["id"]
        assert revived["is_primary"] is True
        row = stored(db, first["id"])
        assert row["deleted_at"] is None and row["access_token_encrypted"] is not None

    async def test_another_accounts_social_account_is_not_found(
        self, client: httpx.AsyncClient, owner: Member, fake: FakePlatform, db: DatabaseURLs
    ) -> None:
        theirs = await connected(client, owner)
        stranger = new_member(db, new_account(db), "owner")
        for path in (f"/v1/social-accounts/{theirs['id']}", f"/v1/social-accounts/{uuid.uuid4()}"):
            assert_problem(
                await client.post(f"{path}/primary", headers=stranger.headers),
                404, "social_account_not_found",
            )  # fmt: skip
            assert_problem(
                await client.delete(path, headers=stranger.headers), 404, "social_account_not_found"
            )
        listed = await client.get("/v1/social-accounts", headers=stranger.headers)
        assert listed.json()["items"] == []
        assert stored(db, theirs["id"])["deleted_at"] is None


# --- key rotation ------------------------------------------------------------------------------


async def owner_session_run(urls: DatabaseURLs, work: Callable[[AsyncSession], Any]) -> Any:
    database = open_database(urls.owner)
    try:
        async with unit_of_work(database.sessions, account_id=None) as session:
            return await work(session)
    finally:
        await database.dispose()


class TestKeyRotation:
    async def test_rotation_reencrypts_every_token_with_the_new_key(
        self, fresh_db: DatabaseURLs
    ) -> None:
        old_key, new_key = SecretBox.new_key(), SecretBox.new_key()
        old = SecretBox([old_key])
        account = new_account(fresh_db)
        for n in range(5):
            sql(
                fresh_db,
                "INSERT INTO social_accounts (account_id, platform, platform_user_id, "
                "access_token_encrypted, refresh_token_encrypted) VALUES (%s, %s, %s, %s, %s)",
                account, PLATFORM, str(n), old.encrypt(f"access-{n}"),
                old.encrypt(f"refresh-{n}") if n % 2 else None,
            )  # fmt: skip
        stranger = SecretBox([SecretBox.new_key()]).encrypt("lost")
        sql(
            fresh_db,
            "INSERT INTO social_accounts (account_id, platform, platform_user_id, "
            "access_token_encrypted) VALUES (%s, %s, 'lost', %s)",
            account, PLATFORM, stranger,
        )  # fmt: skip
        batches: list[int] = []
        rotating = SecretBox([new_key, old_key])

        async def rotate(session: AsyncSession) -> ReencryptionReport:
            total = await social_health.count_social_tokens(session=session)
            assert total == 6
            return await social_health.rotate_social_tokens(
                session=session, box=rotating, batch_size=2, on_batch=batches.append
            )

        report = await owner_session_run(fresh_db, rotate)
        assert report.reencrypted == 5
        assert [platform_user_id for platform_user_id in [
            sql(fresh_db, "SELECT platform_user_id FROM social_accounts WHERE id = %s", i)[0][0]
            for _, i in report.unreadable
        ]] == ["lost"]  # fmt: skip
        assert sum(batches) == 6

        new_only, old_only = SecretBox([new_key]), SecretBox([old_key])
        rows = sql(
            fresh_db,
            "SELECT platform_user_id, access_token_encrypted, refresh_token_encrypted "
            "FROM social_accounts WHERE platform_user_id <> 'lost' ORDER BY platform_user_id",
        )
        for user, access, refresh in rows:
            assert new_only.decrypt(access) == f"access-{user}"
            with pytest.raises(ValueError):
                old_only.decrypt(access)
            if refresh is not None:
                assert new_only.decrypt(refresh) == f"refresh-{user}"
        lost = sql(fresh_db, "SELECT access_token_encrypted FROM social_accounts "
                             "WHERE platform_user_id = 'lost'")  # fmt: skip
        assert lost == [(stranger,)]  # left as it was


# --- the periodic health check -----------------------------------------------------------------


@pytest.fixture
async def app_db(fresh_db: DatabaseURLs) -> AsyncIterator[Database]:
    database = open_database(fresh_db.app)
    yield database
    await database.dispose()


@pytest.fixture
async def fresh_client(fresh_db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(make_app(fresh_db)) as http:
        yield http


class TestHealthCheck:
    async def check(self, urls: DatabaseURLs, app_db: Database) -> social_health.HealthReport:
        """As the job does: the sweep as the owner, the writes as the app."""
        now = dt.datetime.now(dt.UTC)
        owner = await psycopg.AsyncConnection.connect(as_libpq_url(urls.owner), autocommit=True)
        async with owner:
            due = await social_health.due_social_accounts(owner, now=now)
        return await social_health.check_social_accounts(
            due, sessions=app_db.sessions, box=SUITE_BOX, now=now
        )

    async def test_a_token_about_to_expire_is_refreshed(
        self, fresh_client: httpx.AsyncClient, fresh_db: DatabaseURLs, app_db: Database,
        fake: FakePlatform,
    ) -> None:  # fmt: skip
        member = new_member(fresh_db, new_account(fresh_db))
        body = await connected(fresh_client, member)
        before = stored(fresh_db, body["id"])
        fake.expires_in = 7 * 24 * 3600
        report = await self.check(fresh_db, app_db)
        assert report == social_health.HealthReport(refreshed=1)
        issued = fake.issued[-1]
        after = stored(fresh_db, body["id"])
        assert SUITE_BOX.decrypt(after["access_token_encrypted"]) == issued["access_token"]
        assert SUITE_BOX.decrypt(after["refresh_token_encrypted"]) == issued["refresh_token"]
        assert after["token_expires_at"] > before["token_expires_at"] + dt.timedelta(days=6)
        assert after["token_scope"] == ["profile", "publish"]
        status, failures, message, next_check = health_rows(fresh_db, body["id"])[0]
        assert (status, failures, message) == ("healthy", 0, None)
        assert next_check > dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
        # now a week away: not due again
        assert await self.check(fresh_db, app_db) == social_health.HealthReport()
        assert fake.refresh_requests == 1

    async def test_repeated_failures_make_it_unhealthy_and_a_success_heals_it(
        self, fresh_client: httpx.AsyncClient, fresh_db: DatabaseURLs, app_db: Database,
        fake: FakePlatform,
    ) -> None:  # fmt: skip
        member = new_member(fresh_db, new_account(fresh_db))
        body = await connected(fresh_client, member)
        fake.failing_refreshes = 3
        seen = []
        for _ in range(3):
            assert await self.check(fresh_db, app_db) == social_health.HealthReport(failed=1)
            status, failures, message, _next = health_rows(fresh_db, body["id"])[0]
            seen.append((status, failures))
            assert "503" in message
        assert seen == [("degraded", 1), ("degraded", 2), ("unhealthy", 3)]
        listed = await fresh_client.get("/v1/social-accounts", headers=member.headers)
        assert listed.json()["items"][0]["health"]["status"] == "unhealthy"
        assert await self.check(fresh_db, app_db) == social_health.HealthReport(refreshed=1)
        assert health_rows(fresh_db, body["id"])[0][:3] == ("healthy", 0, None)
        assert len(health_rows(fresh_db, body["id"])) == 1  # one record, kept current

    async def test_a_refused_refresh_token_marks_it_expired(
        self, fresh_client: httpx.AsyncClient, fresh_db: DatabaseURLs, app_db: Database,
        fake: FakePlatform,
    ) -> None:  # fmt: skip
        member = new_member(fresh_db, new_account(fresh_db))
        body = await connected(fresh_client, member)
        fake.refresh_revoked = True
        assert await self.check(fresh_db, app_db) == social_health.HealthReport(expired=1)
        status, _failures, message, next_check = health_rows(fresh_db, body["id"])[0]
        assert status == "expired" and "invalid_grant" in message and next_check is None
        # only connecting again helps: the check leaves it alone until then
        assert await self.check(fresh_db, app_db) == social_health.HealthReport()
        fake.refresh_revoked = False
        await connected(fresh_client, member)
        assert health_rows(fresh_db, body["id"])[0][0] == "healthy"

    async def test_disconnected_and_unconfigured_accounts_are_left_alone(
        self, fresh_client: httpx.AsyncClient, fresh_db: DatabaseURLs, app_db: Database,
        fake: FakePlatform,
    ) -> None:  # fmt: skip
        member = new_member(fresh_db, new_account(fresh_db))
        body = await connected(fresh_client, member)
        await fresh_client.delete(f"/v1/social-accounts/{body['id']}", headers=member.headers)
        fake.user = FakeUser("2002", "Grace Hopper", "grace")
        await connected(fresh_client, member)
        social_ports.platforms.pop(PLATFORM)
        assert await self.check(fresh_db, app_db) == social_health.HealthReport(skipped=1)
        assert fake.refresh_requests == 0

    async def test_the_worker_job_sweeps_as_the_owner_and_writes_as_each_tenant(
        self, fresh_client: httpx.AsyncClient, fresh_db: DatabaseURLs, app_db: Database,
        fake: FakePlatform, monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        ids = [
            (await connected(fresh_client, new_member(fresh_db, new_account(fresh_db))))["id"]
            for _ in range(2)  # two tenants
        ]
        monkeypatch.setattr(jobs, "_maintenance_conninfo", None)  # restored afterwards
        configure_maintenance(as_libpq_url(fresh_db.owner))
        # the only sessions the job has are the app role's (row-level security, no tenant)
        bind_job_database(app_db)
        monkeypatch.setenv("MARKETTINA_SECRET_KEY", TEST_SECRET_KEY)
        monkeypatch.setenv("MARKETTINA_ENCRYPTION_KEYS", json.dumps([TEST_ENCRYPTION_KEY]))
        get_settings.cache_clear()
        try:
            result = await check_social_accounts_job(timestamp=0)
        finally:
            bind_job_database(None)
            get_settings.cache_clear()
        assert result == {"refreshed": 2, "failed": 0, "expired": 0, "skipped": 0}
        assert [health_rows(fresh_db, i)[0][:2] for i in ids] == [("healthy", 0)] * 2

    def test_the_sweep_is_the_owners_alone(self, fresh_db: DatabaseURLs) -> None:
        with (
            bootstrap.connect(fresh_db.app) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("SELECT * FROM social_accounts_due(now(), '1 day', 10)")

    def test_the_check_is_scheduled_every_30_minutes_on_the_maintenance_queue(self) -> None:
        task = job_queue.tasks["identity.check_social_accounts"]
        assert task.queue == "maintenance"
        schedules = [
            p for p in job_queue.periodic_registry.periodic_tasks.values() if p.task is task
        ]
        assert [p.cron for p in schedules] == ["*/30 * * * *"]


# --- the adapter on its own --------------------------------------------------------------------


class TestOAuth2Adapter:
    async def test_http_basic_client_authentication(self, fake_server: FakeServer) -> None:
        fake_server.platform.reset()
        adapter = OAuth2Platform(fake_server.config(client_auth="basic"))
        verifier = secrets.token_urlsafe(48)
        url = adapter.authorization_url(state="s", code_challenge=s256(verifier),
                                        redirect_uri=REDIRECT_URI, scopes=["profile"])  # fmt: skip
        code = (await consent(url))["code"]
        tokens = await adapter.exchange_code(
            code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
        )
        assert tokens.scopes == ("profile",)
        assert "at-" not in repr(tokens)
        profile = await adapter.profile(tokens.access_token)
        assert profile.platform_user_id == "1001"
        assert tokens.refresh_token is not None
        refreshed = await adapter.refresh(tokens.refresh_token)
        assert refreshed.access_token != tokens.access_token
        with pytest.raises(GrantRejected):
            await adapter.refresh(tokens.refresh_token)  # rotated away
        with pytest.raises(GrantRejected):
            await adapter.profile("at-unknown")

    def test_configured_from_the_proposed_settings(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The settings model proposed for settings.py, read from the environment."""
        platforms = {
            "linkedin": {
                "authorize_url": "https://www.linkedin.com/oauth/v2/authorization",
                "token_url": "https://www.linkedin.com/oauth/v2/accessToken",
                "profile_url": "https://api.linkedin.com/v2/userinfo",
                "client_id": "abc",
                "client_secret": "xyz",
                "scopes": ["openid", "profile", "w_member_social"],
                "profile_fields": {"platform_user_id": "sub", "handle": "email"},
            }
        }
        monkeypatch.setenv("MARKETTINA_OAUTH_PLATFORMS", json.dumps(platforms))
        settings = ProposedSettings()
        config = OAuth2Config.from_settings(settings.oauth_platforms["linkedin"])
        assert config.client_secret == "xyz" and "xyz" not in repr(config)
        assert config.scopes == ("openid", "profile", "w_member_social")
        assert config.profile_fields == ProfileFields(platform_user_id="sub", handle="email")
        assert "xyz" not in repr(settings)


class OAuthPlatformSettings(BaseModel):
    """Proposed for settings.py: one platform spoken to through the generic OAuth 2.0 adapter."""

    authorize_url: str
    token_url: str
    profile_url: str
    client_id: str
    client_secret: SecretStr | None = None
    scopes: list[str] = Field(default_factory=list)
    scope_separator: str = " "
    client_auth: Literal["body", "basic"] = "body"
    profile_fields: dict[str, str] = Field(
        default_factory=dict,
        description="ProfileFields overrides, e.g. {'platform_user_id': 'sub'}",
    )
    revocation_url: str | None = None


class ProposedSettings(Settings):
    oauth_platforms: dict[str, OAuthPlatformSettings] = Field(default_factory=dict)
