"""The request pipeline (principal.py, dependencies.py) through a probe router: who may
call, for which account, with which permissions, and what the tenant then lets them see."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import text

from markettina.identity.dependencies import CurrentActor, Transaction, require
from markettina.identity.permissions import Resource
from markettina.identity.principal import ACCESS_AUDIENCE, Actor
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import issue_token, new_api_key, read_token
from tests.support.api import api_client, make_app
from tests.support.checks import sql
from tests.support.identity import (
    TEST_SECRET_KEY,
    Member,
    access_token,
    new_account,
    new_key,
    new_member,
)


def _probe() -> APIRouter:
    probe = APIRouter(prefix="/probe")

    @probe.get("/leads")
    async def leads(
        actor: Annotated[Actor, require("content:read")], session: Transaction
    ) -> dict[str, Any]:
        rows = await session.execute(text("SELECT name FROM leads ORDER BY name"))
        return {
            "account_id": str(actor.account_id),
            "role": actor.role,
            "kind": actor.principal.kind,
            "leads": [row.name for row in rows],
        }

    @probe.post("/publish")
    async def publish(actor: Annotated[Actor, require("content:publish")]) -> dict[str, str]:
        return {"account_id": str(actor.account_id)}

    @probe.post("/write/{resource_type}/{resource_id}")
    async def write(resource_type: str, resource_id: str, actor: CurrentActor) -> dict[str, str]:
        actor.authorize("content:write", Resource(resource_type, resource_id))
        return {"written": f"{resource_type}/{resource_id}"}

    return probe


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(db)
    app.include_router(_probe())
    async with api_client(app) as http:
        yield http


def add_lead(urls: DatabaseURLs, account_id: uuid.UUID, name: str) -> None:
    sql(urls, "INSERT INTO leads (account_id, name) VALUES (%s, %s)", account_id, name)


def grant(
    urls: DatabaseURLs,
    member: Member,
    permission: str,
    resource_type: str,
    resource_id: uuid.UUID | None = None,
    expires_in: dt.timedelta | None = None,
) -> None:
    expires = dt.datetime.now(dt.UTC) + expires_in if expires_in is not None else None
    sql(
        urls,
        "INSERT INTO user_permissions (account_id, user_id, permission, resource_type, "
        "resource_id, expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
        member.account_id, member.user_id, permission, resource_type, resource_id, expires,
    )  # fmt: skip


def family_of(member: Member) -> uuid.UUID:
    claims = read_token(member.token, secret=TEST_SECRET_KEY, audience=ACCESS_AUDIENCE)
    return uuid.UUID(claims.extra["fam"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.json()["code"] == code, response.json()


def assert_unauthorized(response: httpx.Response, code: str | None = None) -> None:
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"].startswith("Bearer")


class TestPeople:
    async def test_a_member_sees_their_accounts_leads_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        mine, theirs = new_account(db), new_account(db)
        add_lead(db, mine, "mine")
        add_lead(db, theirs, "theirs")
        member = new_member(db, mine, "viewer")
        response = await client.get("/probe/leads", headers=member.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "account_id": str(mine), "role": "viewer", "kind": "user", "leads": ["mine"],
        }  # fmt: skip

    async def test_anonymous_is_asked_to_authenticate(self, client: httpx.AsyncClient) -> None:
        assert_unauthorized(await client.get("/probe/leads"), "unauthorized")

    async def test_an_unknown_authorization_scheme_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get("/probe/leads", headers={"Authorization": "Basic dTpw"})
        assert_unauthorized(response)

    async def test_the_role_limits_a_member(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        assert_problem(
            await client.post("/probe/publish", headers=viewer.headers), 403, "permission_denied"
        )
        editor = new_member(db, new_account(db), "editor")
        assert (await client.post("/probe/publish", headers=editor.headers)).status_code == 200


class TestRefusedTokens:
    @pytest.fixture
    def member(self, db: DatabaseURLs) -> Member:
        return new_member(db, new_account(db), "owner")

    async def test_expired(self, client: httpx.AsyncClient, member: Member) -> None:
        token = access_token(
            member.user_id, member.account_id, family_of(member), ttl=dt.timedelta(seconds=-5)
        )
        assert_unauthorized(
            await client.get("/probe/leads", headers=bearer(token)), "invalid_token"
        )

    async def test_tampered_signature(self, client: httpx.AsyncClient, member: Member) -> None:
        head, payload, signature = member.token.split(".")
        forged = (
            f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
        )
        response = await client.get("/probe/leads", headers=bearer(forged))
        assert_unauthorized(response, "invalid_token")

    async def test_signed_with_another_secret(
        self, client: httpx.AsyncClient, member: Member
    ) -> None:
        token = issue_token(
            secret="another-secret-" + "y" * 32, subject=str(member.user_id),
            audience=ACCESS_AUDIENCE, ttl=dt.timedelta(minutes=5), typ="access",
            acc=str(member.account_id), fam=str(family_of(member)),
        )  # fmt: skip
        assert_unauthorized(
            await client.get("/probe/leads", headers=bearer(token)), "invalid_token"
        )

    async def test_wrong_audience(self, client: httpx.AsyncClient, member: Member) -> None:
        token = issue_token(
            secret=TEST_SECRET_KEY, subject=str(member.user_id), audience="markettina-refresh",
            ttl=dt.timedelta(minutes=5), typ="access", acc=str(member.account_id),
            fam=str(family_of(member)),
        )  # fmt: skip
        assert_unauthorized(
            await client.get("/probe/leads", headers=bearer(token)), "invalid_token"
        )

    async def test_not_an_access_token(self, client: httpx.AsyncClient, member: Member) -> None:
        token = issue_token(
            secret=TEST_SECRET_KEY, subject=str(member.user_id), audience=ACCESS_AUDIENCE,
            ttl=dt.timedelta(minutes=5), typ="refresh", acc=str(member.account_id),
            fam=str(family_of(member)),
        )  # fmt: skip
        assert_unauthorized(
            await client.get("/probe/leads", headers=bearer(token)), "invalid_token"
        )

    async def test_revoked_session_family(
        self, client: httpx.AsyncClient, db: DatabaseURLs, member: Member
    ) -> None:
        assert (await client.get("/probe/leads", headers=member.headers)).status_code == 200
        sql(db, "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s",
            family_of(member))  # fmt: skip
        response = await client.get("/probe/leads", headers=member.headers)
        assert_unauthorized(response, "session_revoked")

    async def test_unknown_session_family(self, client: httpx.AsyncClient, member: Member) -> None:
        token = access_token(member.user_id, member.account_id, uuid.uuid4())
        response = await client.get("/probe/leads", headers=bearer(token))
        assert_unauthorized(response, "session_revoked")

    async def test_deactivated_user(
        self, client: httpx.AsyncClient, db: DatabaseURLs, member: Member
    ) -> None:
        sql(db, "UPDATE users SET is_active = false WHERE id = %s", member.user_id)
        response = await client.get("/probe/leads", headers=member.headers)
        assert_unauthorized(response, "invalid_token")

    async def test_removed_membership(
        self, client: httpx.AsyncClient, db: DatabaseURLs, member: Member
    ) -> None:
        sql(db, "DELETE FROM account_memberships WHERE user_id = %s", member.user_id)
        response = await client.get("/probe/leads", headers=member.headers)
        assert_unauthorized(response, "invalid_token")


class TestApiKeys:
    async def test_a_key_acts_for_its_account_within_its_scopes(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        add_lead(db, account, "seen by the key")
        key = new_key(db, account, ["content:read"])
        response = await client.get("/probe/leads", headers=key.headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "account_id": str(account), "role": None, "kind": "api_key",
            "leads": ["seen by the key"],
        }  # fmt: skip
        denied = await client.post("/probe/publish", headers=key.headers)
        assert_problem(denied, 403, "permission_denied")

    async def test_the_x_api_key_header_works_too(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        response = await client.get("/probe/leads", headers={"X-API-Key": key.key})
        assert response.status_code == 200, response.text

    async def test_use_is_recorded(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        before = dt.datetime.now(dt.UTC)
        last_used = "SELECT last_used_at FROM api_keys WHERE id = %s"
        assert sql(db, last_used, key.key_id) == [(None,)]
        assert (await client.get("/probe/leads", headers=key.headers)).status_code == 200
        [(used_at,)] = sql(db, last_used, key.key_id)
        assert used_at is not None and used_at >= before - dt.timedelta(seconds=1)

    async def test_revoked(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        sql(db, "UPDATE api_keys SET revoked_at = now() WHERE id = %s", key.key_id)
        assert_unauthorized(
            await client.get("/probe/leads", headers=key.headers), "invalid_api_key"
        )

    async def test_expired(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        sql(db, "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            key.key_id)  # fmt: skip
        assert_unauthorized(
            await client.get("/probe/leads", headers=key.headers), "invalid_api_key"
        )

    async def test_unknown(self, client: httpx.AsyncClient) -> None:
        never_stored = new_api_key().key
        response = await client.get("/probe/leads", headers={"X-API-Key": never_stored})
        assert_unauthorized(response, "invalid_api_key")

    async def test_a_known_prefix_with_the_wrong_secret(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        prefix = key.key.rsplit("_", 1)[0] if key.key.count("_") == 2 else key.key[:11]
        forged = f"{prefix}_{new_api_key().key.split('_', 2)[2]}"
        response = await client.get("/probe/leads", headers={"Authorization": f"ApiKey {forged}"})
        assert_unauthorized(response, "invalid_api_key")

    @pytest.mark.parametrize("malformed", ["nonsense", "mk_short_x", "xx_12345678_abc", "mk_"])
    async def test_malformed(self, client: httpx.AsyncClient, malformed: str) -> None:
        response = await client.get("/probe/leads", headers={"X-API-Key": malformed})
        assert_unauthorized(response, "invalid_api_key")


class TestSuspendedAccount:
    async def test_its_tokens_and_keys_stop(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        member = new_member(db, account, "owner")
        key = new_key(db, account, ["content:read"])
        sql(db, "UPDATE accounts SET suspended_at = now() WHERE id = %s", account)
        for headers in (member.headers, key.headers):
            response = await client.get("/probe/leads", headers=headers)
            assert_problem(response, 403, "account_suspended")

    async def test_a_parent_member_cannot_act_on_a_suspended_sub_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        member = new_member(db, agency, "owner")
        sql(db, "UPDATE accounts SET suspended_at = now() WHERE id = %s", client_account)
        response = await client.get(
            "/probe/leads", headers={**member.headers, "X-Account-Id": str(client_account)}
        )
        assert_problem(response, 403, "account_suspended")
        assert (await client.get("/probe/leads", headers=member.headers)).status_code == 200

    async def test_the_parents_key_cannot_act_on_a_suspended_sub_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        key = new_key(db, agency, ["content:read"])
        sql(db, "UPDATE accounts SET suspended_at = now() WHERE id = %s", client_account)
        response = await client.get(
            "/probe/leads", headers={**key.headers, "X-Account-Id": str(client_account)}
        )
        assert_problem(response, 403, "account_suspended")
        assert (await client.get("/probe/leads", headers=key.headers)).status_code == 200

    async def test_a_suspended_agency_lends_no_role_to_its_sub_accounts(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        """Signed in through another account, a member of a suspended agency still cannot
        reach the agency's sub-accounts."""
        agency, other = new_account(db), new_account(db)
        client_account = new_account(db, parent=agency)
        member = new_member(db, other, "owner")
        sql(
            db,
            "INSERT INTO account_memberships (account_id, user_id, role) VALUES (%s, %s, 'admin')",
            agency,
            member.user_id,
        )
        headers = {**member.headers, "X-Account-Id": str(client_account)}
        assert (await client.get("/probe/leads", headers=headers)).status_code == 200
        sql(db, "UPDATE accounts SET suspended_at = now() WHERE id = %s", agency)
        assert_problem(await client.get("/probe/leads", headers=headers), 403, "account_suspended")

    async def test_a_deleted_accounts_key_is_unauthorized(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        key = new_key(db, account, ["content:read"])
        sql(db, "UPDATE accounts SET deleted_at = now() WHERE id = %s", account)
        assert_unauthorized(
            await client.get("/probe/leads", headers=key.headers), "invalid_api_key"
        )


class TestActingAccount:
    async def test_a_malformed_header_names_the_header(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_member(db, new_account(db))
        response = await client.get(
            "/probe/leads", headers={**member.headers, "X-Account-Id": "not-a-uuid"}
        )
        assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in response.json()["errors"]] == ["header.X-Account-Id"]

    async def test_only_the_documented_uuid_form_names_an_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        """The document types the header as a UUID: an empty header, braces or bare hex
        are refused, by a person and by a key alike, not read as no header."""
        member = new_member(db, new_account(db))
        key = new_key(db, member.account_id, ["content:read"])
        account = member.account_id
        for value in ("", f"{{{account}}}", account.hex, f"urn:uuid:{account}"):
            for headers in (member.headers, key.headers):
                response = await client.get(
                    "/probe/leads", headers={**headers, "X-Account-Id": value}
                )
                assert_problem(response, 422, "validation_failed")
                assert [e["field"] for e in response.json()["errors"]] == ["header.X-Account-Id"]
        upper = {**member.headers, "X-Account-Id": str(account).upper()}
        assert (await client.get("/probe/leads", headers=upper)).status_code == 200

    async def test_the_header_is_judged_only_for_a_good_key(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        """A bad key is refused as such whatever the header says; a good key with a
        malformed header is told about the header."""
        key = new_key(db, new_account(db), ["content:read"])
        bad = {"X-API-Key": key.key[:-4] + "xxxx", "X-Account-Id": "not-a-uuid"}
        assert_unauthorized(await client.get("/probe/leads", headers=bad), "invalid_api_key")
        response = await client.get(
            "/probe/leads", headers={**key.headers, "X-Account-Id": "not-a-uuid"}
        )
        assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in response.json()["errors"]] == ["header.X-Account-Id"]

    async def test_an_unrelated_account_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_member(db, new_account(db))
        key = new_key(db, member.account_id, ["content:read"])
        for other in (new_account(db), uuid.uuid4()):
            for headers in (member.headers, key.headers):
                response = await client.get(
                    "/probe/leads", headers={**headers, "X-Account-Id": str(other)}
                )
                assert_problem(response, 404, "account_not_found")

    async def test_a_parent_member_acts_on_a_sub_account_with_their_parent_role(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        add_lead(db, agency, "agency lead")
        add_lead(db, client_account, "client lead")
        editor = new_member(db, agency, "editor")
        headers = {**editor.headers, "X-Account-Id": str(client_account)}
        response = await client.get("/probe/leads", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {
            "account_id": str(client_account), "role": "editor", "kind": "user",
            "leads": ["client lead"],
        }  # fmt: skip
        assert (await client.post("/probe/publish", headers=headers)).status_code == 200

    async def test_the_parents_key_acts_on_a_sub_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        add_lead(db, client_account, "client lead")
        key = new_key(db, agency, ["content:read"])
        response = await client.get(
            "/probe/leads", headers={**key.headers, "X-Account-Id": str(client_account)}
        )
        assert response.status_code == 200, response.text
        assert response.json()["leads"] == ["client lead"]
        assert response.json()["account_id"] == str(client_account)
        [(used_at,)] = sql(db, "SELECT last_used_at FROM api_keys WHERE id = %s", key.key_id)
        assert used_at is not None

    async def test_nobody_acts_upwards_or_sideways(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        first, second = new_account(db, parent=agency), new_account(db, parent=agency)
        client_member = new_member(db, first, "owner")
        client_key = new_key(db, first, ["content:read"])
        for headers in (client_member.headers, client_key.headers):
            for target in (agency, second):
                response = await client.get(
                    "/probe/leads", headers={**headers, "X-Account-Id": str(target)}
                )
                assert_problem(response, 404, "account_not_found")


class TestGrants:
    async def test_a_type_grant_lets_a_viewer_write_that_type_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        campaign, post = uuid.uuid4(), uuid.uuid4()
        denied = await client.post(f"/probe/write/campaign/{campaign}", headers=viewer.headers)
        assert_problem(denied, 403, "permission_denied")
        grant(db, viewer, "content:write", "campaign")
        allowed = await client.post(f"/probe/write/campaign/{campaign}", headers=viewer.headers)
        assert allowed.status_code == 200, allowed.text
        other_type = await client.post(f"/probe/write/post/{post}", headers=viewer.headers)
        assert_problem(other_type, 403, "permission_denied")

    async def test_a_grant_made_through_the_api_takes_effect_and_ends_with_its_withdrawal(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        viewer = new_member(db, owner.account_id, "viewer")
        campaign = uuid.uuid4()
        made = await client.post(
            "/v1/account/permissions",
            json={"user_id": viewer.user_id, "permission": "content:write",
                  "resource_type": "campaign", "resource_id": str(campaign)},
            headers=owner.headers,
        )  # fmt: skip
        assert made.status_code == 201, made.text
        path = f"/probe/write/campaign/{campaign}"
        assert (await client.post(path, headers=viewer.headers)).status_code == 200
        withdrawn = await client.delete(
            f"/v1/account/permissions/{made.json()['id']}", headers=owner.headers
        )
        assert withdrawn.status_code == 204
        assert_problem(await client.post(path, headers=viewer.headers), 403, "permission_denied")

    async def test_a_resource_grant_covers_that_resource_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        campaign = uuid.uuid4()
        grant(db, viewer, "content:write", "campaign", campaign)
        ok = await client.post(f"/probe/write/campaign/{campaign}", headers=viewer.headers)
        assert ok.status_code == 200, ok.text
        other = await client.post(f"/probe/write/campaign/{uuid.uuid4()}", headers=viewer.headers)
        assert_problem(other, 403, "permission_denied")

    async def test_an_expired_grant_counts_for_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        grant(db, viewer, "content:write", "campaign", expires_in=dt.timedelta(seconds=-1))
        response = await client.post(
            f"/probe/write/campaign/{uuid.uuid4()}", headers=viewer.headers
        )
        assert_problem(response, 403, "permission_denied")

    async def test_a_grant_never_widens_an_account_wide_check(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        grant(db, viewer, "content:publish", "campaign")
        response = await client.post("/probe/publish", headers=viewer.headers)
        assert_problem(response, 403, "permission_denied")

    async def test_grants_do_not_follow_a_person_into_another_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        viewer = new_member(db, agency, "viewer")
        grant(db, viewer, "content:write", "campaign")
        response = await client.post(
            f"/probe/write/campaign/{uuid.uuid4()}",
            headers={**viewer.headers, "X-Account-Id": str(client_account)},
        )
        assert_problem(response, 403, "permission_denied")

    async def test_api_keys_have_no_grants(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        key = new_key(db, new_account(db), ["content:read"])
        response = await client.post(f"/probe/write/campaign/{uuid.uuid4()}", headers=key.headers)
        assert_problem(response, 403, "permission_denied")
