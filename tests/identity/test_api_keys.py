"""API keys: issued once, stored hashed behind a prefix, scoped within their creator's
permissions, expiring, revocable, listed without their secret."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import httpx
import pytest

from markettina.identity.schemas.keys import ApiKeyOut
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.pagination import Page
from markettina.kernel.security import digest
from tests.support.identity import Member, new_account, new_key, new_member

LISTED_ORDER = (
    "id", "name", "prefix", "scopes", "expires_at", "created_at", "last_used_at", "revoked_at",
    "created_by",
)  # fmt: skip
LISTED = {
    "id", "name", "prefix", "scopes", "expires_at", "created_at", "last_used_at", "revoked_at",
    "created_by",
}  # fmt: skip


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def stored_key(urls: DatabaseURLs, key_id: str) -> tuple[Any, ...]:
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute(
            "SELECT prefix, key_hash, scopes, created_by, revoked_at FROM api_keys WHERE id = %s",
            (key_id,),
        ).fetchone()
    assert row is not None
    return row


def in_an_hour() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()


async def create(client: httpx.AsyncClient, member: Member, **body: Any) -> httpx.Response:
    payload = {"name": "CI", "scopes": ["content:read"], **body}
    return await client.post("/v1/api-keys", json=payload, headers=member.headers)


def fields_of(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


class TestCreate:
    async def test_the_full_key_is_shown_once_and_stored_hashed(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        expires = in_an_hour()
        response = await create(
            client, owner, name=" Zapier ", scopes=["content:write", "content:read"],
            expires_at=expires,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "name", "prefix", "scopes", "expires_at", "created_at", "key"}
        assert body["name"] == "Zapier"
        assert body["scopes"] == ["content:read", "content:write"]
        assert body["key"].startswith(body["prefix"] + "_")
        assert dt.datetime.fromisoformat(body["expires_at"]) == dt.datetime.fromisoformat(expires)
        assert body["created_at"].endswith("Z")
        prefix, key_hash, scopes, created_by, revoked_at = stored_key(db, body["id"])
        assert prefix == body["prefix"] and key_hash == digest(body["key"])
        assert key_hash != body["key"] and body["key"] not in key_hash
        assert scopes == ["content:read", "content:write"]
        assert (created_by, revoked_at) == (owner.user_id, None)

    async def test_the_new_key_works_within_its_scopes(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        key = (await create(client, owner, scopes=["api_keys:read"])).json()["key"]
        listed = await client.get("/v1/api-keys", headers={"Authorization": f"ApiKey {key}"})
        assert listed.status_code == 200, listed.text
        refused = await client.post(
            "/v1/api-keys", json={"name": "x", "scopes": ["api_keys:read"]},
            headers={"X-API-Key": key},
        )  # fmt: skip
        assert refused.status_code == 403
        assert refused.json()["code"] == "permission_denied"

    async def test_an_unknown_scope_is_named(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await create(client, owner, scopes=["content:read", "content:destroy"])
        assert response.status_code == 422, response.text
        assert fields_of(response) == ["body.scopes.1"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"scopes": []}, "body.scopes"),
            ({"name": "  "}, "body.name"),
            ({"name": "n" * 101}, "body.name"),
            ({"expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
            ({"expires_at": "2999-01-01T00:00:00"}, "body.expires_at"),  # no offset
            ({"owner": "me"}, "body.owner"),
        ],
    )
    async def test_bad_input_is_named(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, Any], field: str
    ) -> None:
        response = await create(client, owner, **body)
        assert response.status_code == 422, response.text
        assert fields_of(response) == [field]

    async def test_a_key_cannot_do_more_than_its_creator(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        admin = new_member(db, new_account(db), "admin")
        response = await create(client, admin, scopes=["content:read", "account:delete"])
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "scope_exceeds_role"
        assert fields_of(response) == ["body.scopes.1"]

    async def test_a_key_that_creates_keys_passes_on_no_more_than_its_scopes(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        manager = new_key(db, account, ["api_keys:manage", "content:read"])
        narrower = await client.post(
            "/v1/api-keys", json={"name": "child", "scopes": ["content:read"]},
            headers=manager.headers,
        )  # fmt: skip
        assert narrower.status_code == 201, narrower.text
        assert stored_key(db, narrower.json()["id"])[3] is None  # no person created it
        wider = await client.post(
            "/v1/api-keys", json={"name": "child", "scopes": ["content:write"]},
            headers=manager.headers,
        )  # fmt: skip
        assert wider.status_code == 403
        assert wider.json()["code"] == "scope_exceeds_role"

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_only_managers_create_keys(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        member = new_member(db, new_account(db), role)
        response = await create(client, member)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"

    async def test_a_key_made_on_a_sub_account_belongs_to_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        admin = new_member(db, agency, "admin")
        response = await client.post(
            "/v1/api-keys", json={"name": "client", "scopes": ["content:read"]},
            headers={**admin.headers, "X-Account-Id": str(client_account)},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        with bootstrap.connect(db.owner) as conn:
            row = conn.execute(
                "SELECT account_id FROM api_keys WHERE id = %s", (response.json()["id"],)
            ).fetchone()
        assert row == (client_account,)


class TestList:
    async def test_never_shows_the_key_or_its_hash(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        created = (await create(client, owner)).json()
        response = await client.get("/v1/api-keys", headers=owner.headers)
        assert response.status_code == 200, response.text
        [item] = response.json()["items"]
        assert set(item) == LISTED
        assert item["id"] == created["id"] and item["prefix"] == created["prefix"]
        assert item["last_used_at"] is None and item["revoked_at"] is None
        assert item["created_by"] == owner.user_id
        assert created["key"] not in response.text and "key_hash" not in response.text

    async def test_shows_when_a_key_was_last_used(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        key = (await create(client, owner, scopes=["api_keys:read"])).json()["key"]
        await client.get("/v1/api-keys", headers={"X-API-Key": key})
        [item] = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
        assert item["last_used_at"] is not None

    async def test_a_viewer_may_read_and_sees_only_their_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        await create(client, owner)
        elsewhere = new_member(db, new_account(db), "owner")
        await create(client, elsewhere)
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.get("/v1/api-keys", headers=viewer.headers)
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 1

    async def test_pages_newest_first(self, client: httpx.AsyncClient, owner: Member) -> None:
        ids = [(await create(client, owner, name=f"k{i}")).json()["id"] for i in range(5)]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/api-keys", params=params, headers=owner.headers)).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(ids))

    async def test_the_page_postgresql_renders_is_the_response_models_own(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        for i in range(3):
            await create(client, owner, name=f"k{i}", expires_at=in_an_hour())
        with bootstrap.connect(db.owner) as conn:  # every timestamp set, one on a whole second
            conn.execute(
                "UPDATE api_keys SET last_used_at = now(), revoked_at = date_trunc('second', now())"
                " WHERE account_id = %s",
                (owner.account_id,),
            )
            rows = conn.execute(
                "SELECT id, name, prefix, scopes, expires_at, created_at, last_used_at,"
                " revoked_at, created_by FROM api_keys WHERE account_id = %s"
                " ORDER BY created_at DESC, id DESC",
                (owner.account_id,),
            ).fetchall()
        response = await client.get("/v1/api-keys?limit=2", headers=owner.headers)
        assert (
            response.status_code == 200 and response.headers["content-type"] == "application/json"
        )
        body = response.json()
        expected = Page[ApiKeyOut](
            items=[
                ApiKeyOut.model_validate(dict(zip(LISTED_ORDER, row, strict=True)))
                for row in rows[:2]
            ],
            next_cursor=body["next_cursor"],
        )
        assert Page[ApiKeyOut].model_validate(body) == expected
        assert body["next_cursor"] is not None
        for item in body["items"]:  # RFC 3339 in UTC, as the models write it
            for name in ("expires_at", "created_at", "last_used_at", "revoked_at"):
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", item[name])
        rest = await client.get(
            "/v1/api-keys",
            params={"limit": 2, "cursor": body["next_cursor"]},
            headers=owner.headers,
        )
        assert [item["id"] for item in rest.json()["items"]] == [str(rows[2][0])]
        assert rest.json()["next_cursor"] is None

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"cursor": "nonsense"}, "query.cursor"),
            ({"cursor": "WyJub3QgYSB0aW1lIiwieCJd"}, "query.cursor"),  # ["not a time","x"]
            ({"limit": 201}, "query.limit"),
            ({"limit": 0}, "query.limit"),
        ],
    )
    async def test_bad_paging_is_named(
        self, client: httpx.AsyncClient, owner: Member, params: dict[str, Any], field: str
    ) -> None:
        response = await client.get("/v1/api-keys", params=params, headers=owner.headers)
        assert response.status_code == 422, response.text
        assert fields_of(response) == [field]


class TestRevoke:
    async def test_revoking_stops_the_key_and_is_idempotent(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        created = (await create(client, owner, scopes=["api_keys:read"])).json()
        key_headers = {"X-API-Key": created["key"]}
        assert (await client.get("/v1/api-keys", headers=key_headers)).status_code == 200
        first = await client.delete(f"/v1/api-keys/{created['id']}", headers=owner.headers)
        assert first.status_code == 204 and first.content == b""
        revoked_at = stored_key(db, created["id"])[4]
        assert revoked_at is not None
        again = await client.delete(f"/v1/api-keys/{created['id']}", headers=owner.headers)
        assert again.status_code == 204
        assert stored_key(db, created["id"])[4] == revoked_at
        refused = await client.get("/v1/api-keys", headers=key_headers)
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_api_key"
        [item] = (await client.get("/v1/api-keys", headers=owner.headers)).json()["items"]
        assert item["revoked_at"] is not None

    async def test_another_accounts_key_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        other = new_key(db, new_account(db), ["content:read"])
        for key_id in (other.key_id, uuid.uuid4()):
            response = await client.delete(f"/v1/api-keys/{key_id}", headers=owner.headers)
            assert response.status_code == 404
            assert response.json()["code"] == "api_key_not_found"
        assert stored_key(db, str(other.key_id))[4] is None

    async def test_a_malformed_id_is_named(self, client: httpx.AsyncClient, owner: Member) -> None:
        response = await client.delete("/v1/api-keys/abc", headers=owner.headers)
        assert response.status_code == 422
        assert fields_of(response) == ["path.key_id"]

    async def test_a_viewer_cannot_revoke(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        created = (await create(client, owner)).json()
        viewer = new_member(db, owner.account_id, "viewer")
        response = await client.delete(f"/v1/api-keys/{created['id']}", headers=viewer.headers)
        assert response.status_code == 403
        assert stored_key(db, created["id"])[4] is None
