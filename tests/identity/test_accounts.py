"""The acting account (read, optimistic update) and an agency's sub-accounts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.identity import accounts
from markettina.identity.permissions import ROLE_PERMISSIONS
from markettina.identity.principal import Actor, Principal
from markettina.kernel.db.tenant import current_tenant, enter_tenant
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import acting, fields, problem, sql
from tests.support.identity import new_account, new_key, new_member

pytestmark = pytest.mark.asyncio(loop_scope="session")


class TestReadAccount:
    async def test_a_member_reads_the_acting_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        viewer = new_member(db, account, "viewer")
        response = await client.get("/v1/account", headers=viewer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == str(account)
        assert body["plan_tier"] == "free" and body["parent_account_id"] is None
        assert body["settings"] == {} and body["version"] == 1
        assert set(body) == {
            "id", "name", "slug", "plan_tier", "parent_account_id", "settings", "created_at",
            "version",
        }  # fmt: skip
        assert response.headers["etag"] == '"1"'

    async def test_an_api_key_needs_the_scope(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        problem(
            await client.get("/v1/account", headers=new_key(db, account, ["content:read"]).headers),
            403,
            "permission_denied",
        )
        key = new_key(db, account, ["account:read"])
        response = await client.get("/v1/account", headers=key.headers)
        assert response.status_code == 200 and response.json()["id"] == str(account)

    async def test_anonymous_is_refused(self, client: httpx.AsyncClient) -> None:
        problem(await client.get("/v1/account"), 401)


class TestUpdateAccount:
    async def test_rename_with_if_match(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        owner = new_member(db, new_account(db), "owner")
        response = await client.patch(
            "/v1/account",
            json={"name": "  Acme Studio "},
            headers={**owner.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["name"] == "Acme Studio"
        assert response.json()["version"] == 2
        assert response.headers["etag"] == '"2"'

    async def test_settings_replace_with_the_version_in_the_body(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "admin")
        first = await client.patch(
            "/v1/account", json={"settings": {"tz": "UTC", "lang": "it"}, "version": 1},
            headers=owner.headers,
        )  # fmt: skip
        assert first.status_code == 200, first.text
        second = await client.patch(
            "/v1/account",
            json={"settings": {"tz": "Europe/Rome"}},
            headers={**owner.headers, "If-Match": "2"},
        )
        assert second.status_code == 200, second.text
        assert second.json()["settings"] == {"tz": "Europe/Rome"}
        assert second.json()["version"] == 3

    async def test_a_stale_version_conflicts_and_changes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner = new_member(db, account, "owner")
        sql(db, "UPDATE accounts SET name = 'moved on' WHERE id = %s", account)  # now version 2
        response = await client.patch(
            "/v1/account", json={"name": "mine", "version": 1}, headers=owner.headers
        )
        problem(response, 409, "version_conflict")
        assert sql(db, "SELECT name, version FROM accounts WHERE id = %s", account) == [
            ("moved on", 2)
        ]

    async def test_a_stale_version_conflicts_even_with_nothing_to_change(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner = new_member(db, account, "owner")
        headers = {**owner.headers, "If-Match": '"7"'}
        problem(
            await client.patch("/v1/account", json={}, headers=headers), 409, "version_conflict"
        )

    async def test_the_version_is_required(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        body = problem(
            await client.patch("/v1/account", json={"name": "x"}, headers=owner.headers), 422
        )
        assert fields(body) == ["body.version"]

    @pytest.mark.parametrize(
        ("payload", "if_match", "field"),
        [
            ({"name": ""}, "1", "body.name"),
            ({"name": "x" * 201}, "1", "body.name"),
            ({"name": "x", "plan_tier": "enterprise"}, "1", "body.plan_tier"),
            ({"settings": ["not", "an", "object"]}, "1", "body.settings"),
            ({"settings": {"blob": "x" * 20_000}}, "1", "body.settings"),
            ({"name": "x", "version": 0}, None, "body.version"),
            ({"name": "x"}, "abc", "header.If-Match"),
            ({"name": "x"}, "²", "header.If-Match"),
            ({"name": "x"}, "9" * 30, "header.If-Match"),
            ({"name": "x", "version": 10**30}, None, "body.version"),
            ({"name": "x", "version": 2}, "1", "body.version"),
        ],
    )
    async def test_bad_input_names_the_field(
        self,
        client: httpx.AsyncClient,
        db: DatabaseURLs,
        payload: dict[str, Any],
        if_match: str | None,
        field: str,
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        headers: dict[str, str | bytes] = {**owner.headers}
        if if_match is not None:
            headers["If-Match"] = if_match.encode("latin-1")  # as sent on the wire
        body = problem(await client.patch("/v1/account", json=payload, headers=headers), 422)
        assert field in fields(body)

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_editors_and_viewers_cannot_update(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        member = new_member(db, new_account(db), role)
        response = await client.patch(
            "/v1/account", json={"name": "x", "version": 1}, headers=member.headers
        )
        problem(response, 403, "permission_denied")


class TestCreateSubAccount:
    async def test_created_under_the_acting_account_with_a_wallet(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        admin = new_member(db, agency, "admin")
        response = await client.post(
            "/v1/account/sub-accounts", json={"name": "Café Rossi & Figli"}, headers=admin.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["parent_account_id"] == str(agency)
        assert body["name"] == "Café Rossi & Figli" and body["slug"] == "cafe-rossi-figli"
        assert body["version"] == 1 and body["plan_tier"] == "free"
        wallets = sql(db, "SELECT balance FROM token_wallets WHERE account_id = %s", body["id"])
        assert wallets == [(0,)]

    async def test_a_made_up_slug_avoids_a_taken_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        name = f"Bakery {uuid.uuid4().hex[:6]}"
        slugs = []
        for _ in range(2):
            response = await client.post(
                "/v1/account/sub-accounts", json={"name": name}, headers=owner.headers
            )
            assert response.status_code == 201, response.text
            slugs.append(response.json()["slug"])
        assert slugs[0] == name.lower().replace(" ", "-")
        assert slugs[1].startswith(slugs[0] + "-") and slugs[1] != slugs[0]

    async def test_a_given_slug_that_is_taken_conflicts(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        slug = f"client-{uuid.uuid4().hex[:8]}"
        payload = {"name": "Client", "slug": slug}
        first = await client.post("/v1/account/sub-accounts", json=payload, headers=owner.headers)
        assert first.status_code == 201 and first.json()["slug"] == slug
        second = await client.post("/v1/account/sub-accounts", json=payload, headers=owner.headers)
        assert fields(problem(second, 409, "slug_taken")) == ["body.slug"]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "body.name"),
            ({"name": "   "}, "body.name"),
            ({"name": "ok", "slug": "Not A Slug"}, "body.slug"),
            ({"name": "ok", "slug": "-leading-dash"}, "body.slug"),
            ({"name": "ok", "parent_account_id": str(uuid.uuid4())}, "body.parent_account_id"),
        ],
    )
    async def test_bad_input_names_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, payload: dict[str, Any], field: str
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        response = await client.post(
            "/v1/account/sub-accounts", json=payload, headers=owner.headers
        )
        assert field in fields(problem(response, 422, "validation_failed"))

    async def test_a_sub_account_has_no_sub_accounts(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        owner = new_member(db, agency, "owner")
        response = await client.post(
            "/v1/account/sub-accounts", json={"name": "Nested"},
            headers=acting(client_account, owner.headers),
        )  # fmt: skip
        problem(response, 422, "nested_sub_account")
        assert sql(db, "SELECT count(*) FROM accounts WHERE parent_account_id = %s",
                   client_account) == [(0,)]  # fmt: skip

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_editors_and_viewers_cannot_create(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        member = new_member(db, new_account(db), role)
        response = await client.post(
            "/v1/account/sub-accounts", json={"name": "x"}, headers=member.headers
        )
        problem(response, 403, "permission_denied")

    async def test_the_tenant_is_the_acting_account_again_afterwards(
        self, session: AsyncSession, shared_db: DatabaseURLs
    ) -> None:
        agency = new_account(shared_db)
        actor = Actor(
            principal=Principal(kind="user", home_account_id=agency, user_id=None),
            account_id=agency, role="owner", permissions=ROLE_PERMISSIONS["owner"],
        )  # fmt: skip
        await enter_tenant(session, agency)
        created = await accounts.create_sub_account(session, actor=actor, name="Client")
        assert created.parent_account_id == agency
        assert await current_tenant(session) == agency


class TestListSubAccounts:
    async def test_pages_through_this_accounts_live_sub_accounts_only(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency, other_agency = new_account(db), new_account(db)
        mine = [new_account(db, parent=agency) for _ in range(3)]
        deleted = new_account(db, parent=agency)
        sql(db, "UPDATE accounts SET deleted_at = now() WHERE id = %s", deleted)
        new_account(db, parent=other_agency)
        viewer = new_member(db, agency, "viewer")

        seen: list[str] = []
        cursor = None
        for _ in range(3):
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            response = await client.get(
                "/v1/account/sub-accounts", params=params, headers=viewer.headers
            )
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [item["id"] for item in page["items"]]
            assert all(item["parent_account_id"] == str(agency) for item in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(a) for a in mine]

    async def test_a_bad_cursor_or_limit_names_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        viewer = new_member(db, new_account(db), "viewer")
        for params, field in (
            ({"cursor": "nope"}, "query.cursor"),
            ({"limit": 201}, "query.limit"),
        ):
            response = await client.get(
                "/v1/account/sub-accounts", params=params, headers=viewer.headers
            )
            assert fields(problem(response, 422)) == [field]


class TestActingOnASubAccount:
    async def test_a_parent_admin_acts_there_as_admin(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        admin = new_member(db, agency, "admin")
        headers = acting(client_account, admin.headers)
        read = await client.get("/v1/account", headers=headers)
        assert read.status_code == 200 and read.json()["id"] == str(client_account)
        assert read.json()["parent_account_id"] == str(agency)
        update = await client.patch(
            "/v1/account", json={"name": "Client renamed", "version": 1}, headers=headers
        )
        assert update.status_code == 200, update.text
        assert sql(db, "SELECT name FROM accounts WHERE id = %s", client_account) == [
            ("Client renamed",)
        ]
        assert sql(db, "SELECT version FROM accounts WHERE id = %s", agency) == [(1,)]

    async def test_a_parent_viewer_only_reads_there(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        viewer = new_member(db, agency, "viewer")
        headers = acting(client_account, viewer.headers)
        assert (await client.get("/v1/account", headers=headers)).status_code == 200
        response = await client.patch(
            "/v1/account", json={"name": "x", "version": 1}, headers=headers
        )
        problem(response, 403, "permission_denied")

    async def test_someone_elses_account_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        stranger = new_member(db, new_account(db), "owner")
        elsewhere = new_account(db)
        their_client = new_account(db, parent=elsewhere)
        for target in (elsewhere, their_client, uuid.uuid4()):
            headers = acting(target, stranger.headers)
            problem(await client.get("/v1/account", headers=headers), 404, "account_not_found")
            response = await client.post(
                "/v1/account/sub-accounts", json={"name": "x"}, headers=headers
            )
            problem(response, 404, "account_not_found")
