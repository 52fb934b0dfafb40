"""Grants to members beyond their role (user_permissions), and the role table in docs/api.md."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from markettina.identity.permissions import ROLE_PERMISSIONS, ROLES
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.identity import Member, new_account, new_key, new_member

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
TABLE_START, TABLE_END = "<!-- role-permissions:start -->", "<!-- role-permissions:end -->"
SHOWN = {
    "id", "user_id", "permission", "resource_type", "resource_id", "granted_at", "granted_by",
    "expires_at",
}  # fmt: skip


def role_permission_table() -> str:
    """The markdown table docs/api.md must show: a row per permission, a column per role."""
    lines = [
        "| permission | " + " | ".join(ROLES) + " |",
        "|---|" + "|".join(":-:" for _ in ROLES) + "|",
    ]
    for permission in sorted(frozenset().union(*ROLE_PERMISSIONS.values())):
        marks = ("✓" if permission in ROLE_PERMISSIONS[role] else " " for role in ROLES)
        lines.append(f"| `{permission}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def test_docs_show_the_role_permission_table() -> None:
    text = API_DOC.read_text(encoding="utf-8")
    found = re.search(re.escape(TABLE_START) + r"\n(.*?)\n" + re.escape(TABLE_END), text, re.S)
    assert found, f"docs/api.md has no table between {TABLE_START} and {TABLE_END}"
    assert found.group(1).strip() == role_permission_table(), (
        "docs/api.md's role table differs from ROLE_PERMISSIONS; put this there:\n"
        + role_permission_table()
    )


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


@pytest.fixture
def viewer(db: DatabaseURLs, owner: Member) -> Member:
    return new_member(db, owner.account_id, "viewer")


def in_a_day() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()


async def grant(
    client: httpx.AsyncClient, by: Member, to: Member | int, **body: Any
) -> httpx.Response:
    user_id = to if isinstance(to, int) else to.user_id
    payload = {"user_id": user_id, "permission": "content:write", "resource_type": "campaign"}
    return await client.post(
        "/v1/account/permissions", json={**payload, **body}, headers=by.headers
    )


def fields_of(response: httpx.Response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


class TestGrant:
    async def test_grants_a_member_a_permission_on_a_type(
        self, client: httpx.AsyncClient, owner: Member, viewer: Member
    ) -> None:
        expires = in_a_day()
        response = await grant(client, owner, viewer, expires_at=expires)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == SHOWN
        assert body["user_id"] == viewer.user_id and body["granted_by"] == owner.user_id
        assert (body["permission"], body["resource_type"], body["resource_id"]) == (
            "content:write", "campaign", None,
        )  # fmt: skip
        assert dt.datetime.fromisoformat(body["expires_at"]) == dt.datetime.fromisoformat(expires)

    async def test_grants_on_one_resource(
        self, client: httpx.AsyncClient, owner: Member, viewer: Member
    ) -> None:
        campaign = str(uuid.uuid4())
        response = await grant(client, owner, viewer, resource_id=campaign)
        assert response.status_code == 201, response.text
        assert response.json()["resource_id"] == campaign

    async def test_only_to_members_of_the_acting_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        outsider = new_member(db, new_account(db), "viewer")
        for user_id in (outsider.user_id, 987_654_321):
            response = await grant(client, owner, user_id)
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "not_a_member"
            assert fields_of(response) == ["body.user_id"]

    async def test_the_same_grant_twice_conflicts(
        self, client: httpx.AsyncClient, owner: Member, viewer: Member
    ) -> None:
        campaign = str(uuid.uuid4())
        for body in ({}, {"resource_id": campaign}):
            assert (await grant(client, owner, viewer, **body)).status_code == 201
            again = await grant(client, owner, viewer, **body)
            assert again.status_code == 409, again.text
        other_permission = await grant(client, owner, viewer, permission="content:publish")
        assert other_permission.status_code == 201

    async def test_an_expired_grant_does_not_block_granting_again(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, viewer: Member
    ) -> None:
        with bootstrap.connect(db.owner) as conn:
            conn.execute(
                "INSERT INTO user_permissions (account_id, user_id, permission, resource_type, "
                "expires_at) VALUES (%s, %s, 'content:write', 'campaign', now() - interval '1h')",
                (owner.account_id, viewer.user_id),
            )
        response = await grant(client, owner, viewer)
        assert response.status_code == 201, response.text
        assert response.json()["expires_at"] is None

    async def test_nobody_grants_more_than_they_hold(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        admin = new_member(db, new_account(db), "admin")
        editor = new_member(db, admin.account_id, "editor")
        response = await grant(client, admin, editor, permission="account:delete",
                               resource_type="account")  # fmt: skip
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "grant_exceeds_role"
        assert fields_of(response) == ["body.permission"]

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_only_permission_managers_grant(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, role: str
    ) -> None:
        member = new_member(db, owner.account_id, role)
        response = await grant(client, member, member)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"permission": "content:destroy"}, "body.permission"),
            ({"resource_type": "Campaign!"}, "body.resource_type"),
            ({"resource_type": ""}, "body.resource_type"),
            ({"resource_id": "not-a-uuid"}, "body.resource_id"),
            ({"expires_at": "2020-01-01T00:00:00+00:00"}, "body.expires_at"),
            ({"user_id": "me"}, "body.user_id"),
        ],
    )
    async def test_bad_input_is_named(
        self,
        client: httpx.AsyncClient,
        owner: Member,
        viewer: Member,
        body: dict[str, Any],
        field: str,
    ) -> None:
        response = await grant(client, owner, viewer, **body)
        assert response.status_code == 422, response.text
        assert fields_of(response) == [field]


class TestList:
    async def test_lists_the_accounts_grants_newest_first_by_page(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, viewer: Member
    ) -> None:
        editor = new_member(db, owner.account_id, "editor")
        elsewhere = new_member(db, new_account(db), "owner")
        await grant(client, elsewhere, elsewhere, permission="content:publish")
        made = [
            (await grant(client, owner, member, permission=permission)).json()["id"]
            for member, permission in (
                (viewer, "content:write"), (viewer, "content:publish"), (editor, "billing:read"),
            )
        ]  # fmt: skip
        first = await client.get(
            "/v1/account/permissions", params={"limit": 2}, headers=owner.headers
        )
        assert first.status_code == 200, first.text
        assert set(first.json()["items"][0]) == SHOWN
        second = await client.get(
            "/v1/account/permissions",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=owner.headers,
        )
        assert second.json()["next_cursor"] is None
        listed = [item["id"] for item in first.json()["items"] + second.json()["items"]]
        assert listed == list(reversed(made))

    async def test_filters_by_member(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, viewer: Member
    ) -> None:
        editor = new_member(db, owner.account_id, "editor")
        await grant(client, owner, viewer)
        await grant(client, owner, editor)
        response = await client.get(
            "/v1/account/permissions", params={"user_id": editor.user_id}, headers=owner.headers
        )
        assert [item["user_id"] for item in response.json()["items"]] == [editor.user_id]

    async def test_needs_permissions_manage(
        self, client: httpx.AsyncClient, viewer: Member
    ) -> None:
        response = await client.get("/v1/account/permissions", headers=viewer.headers)
        assert response.status_code == 403


class TestRevoke:
    async def test_withdraws_a_grant(
        self, client: httpx.AsyncClient, owner: Member, viewer: Member
    ) -> None:
        grant_id = (await grant(client, owner, viewer)).json()["id"]
        gone = await client.delete(f"/v1/account/permissions/{grant_id}", headers=owner.headers)
        assert gone.status_code == 204, gone.text
        listed = await client.get("/v1/account/permissions", headers=owner.headers)
        assert listed.json()["items"] == []
        again = await client.delete(f"/v1/account/permissions/{grant_id}", headers=owner.headers)
        assert again.status_code == 404
        assert again.json()["code"] == "grant_not_found"

    async def test_another_accounts_grant_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        elsewhere = new_member(db, new_account(db), "owner")
        grant_id = (await grant(client, elsewhere, elsewhere, permission="content:publish")).json()[
            "id"
        ]
        response = await client.delete(f"/v1/account/permissions/{grant_id}", headers=owner.headers)
        assert response.status_code == 404
        still = await client.get("/v1/account/permissions", headers=elsewhere.headers)
        assert [item["id"] for item in still.json()["items"]] == [grant_id]

    async def test_a_key_with_the_scope_manages_grants(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, viewer: Member
    ) -> None:
        key = new_key(db, owner.account_id, ["permissions:manage", "content:write"])
        response = await client.post(
            "/v1/account/permissions",
            json={"user_id": viewer.user_id, "permission": "content:write",
                  "resource_type": "campaign"},
            headers=key.headers,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        assert response.json()["granted_by"] is None
