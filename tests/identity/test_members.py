"""Members of an account, their roles (never without an owner), and invitations by e-mail."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import digest
from tests.support.checks import acting, fields, problem, sql
from tests.support.emails import queued_emails
from tests.support.identity import Member, new_account, new_key, new_member

pytestmark = pytest.mark.asyncio(loop_scope="session")


def role_of(urls: DatabaseURLs, account_id: uuid.UUID, user_id: int) -> str | None:
    rows = sql(
        urls, "SELECT role FROM account_memberships WHERE account_id = %s AND user_id = %s",
        account_id, user_id,
    )  # fmt: skip
    return rows[0][0] if rows else None


def emailed_token(urls: DatabaseURLs, email: str) -> str:
    """The invitation link's token, from the newest e-mail job queued for ``email``."""
    emails = queued_emails(urls, email)
    assert emails, f"no e-mail was queued for {email}"
    match = re.search(r"[?&]token=(\S+)", emails[-1]["text"])
    assert match is not None, emails[-1]["text"]
    return match.group(1)


async def invite(
    client: httpx.AsyncClient, by: Member, email: str, role: str = "viewer"
) -> dict[str, Any]:
    response = await client.post(
        "/v1/account/invitations", json={"email": email, "role": role}, headers=by.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def fresh_email() -> str:
    return f"invitee-{uuid.uuid4().hex[:10]}@example.com"


class TestListMembers:
    async def test_pages_through_this_accounts_members(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        people = [new_member(db, account, role) for role in ("owner", "editor", "viewer")]
        new_member(db, new_account(db), "owner")  # someone else's
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            response = await client.get(
                "/v1/account/members", params=params, headers=people[2].headers
            )
            assert response.status_code == 200, response.text
            seen += response.json()["items"]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert [(m["user_id"], m["email"], m["role"]) for m in seen] == [
            (p.user_id, p.email, p.role) for p in people
        ]
        assert all(m["full_name"] == "Test" and m["accepted_at"] for m in seen)
        assert set(seen[0]) == {"user_id", "email", "full_name", "role", "accepted_at"}


class TestChangeRole:
    async def test_an_admin_changes_a_non_owner(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        admin, viewer = new_member(db, account, "admin"), new_member(db, account, "viewer")
        response = await client.patch(
            f"/v1/account/members/{viewer.user_id}", json={"role": "editor"}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "editor" and response.json()["email"] == viewer.email
        assert role_of(db, account, viewer.user_id) == "editor"

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_editors_and_viewers_cannot_manage(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        account = new_account(db)
        member, other = new_member(db, account, role), new_member(db, account, "viewer")
        response = await client.patch(
            f"/v1/account/members/{other.user_id}", json={"role": "editor"}, headers=member.headers
        )
        problem(response, 403, "permission_denied")
        assert role_of(db, account, other.user_id) == "viewer"

    @pytest.mark.parametrize(("target_role", "new_role"), [("owner", "admin"), ("editor", "owner")])
    async def test_an_admin_cannot_touch_the_owner_role(
        self, client: httpx.AsyncClient, db: DatabaseURLs, target_role: str, new_role: str
    ) -> None:
        account = new_account(db)
        new_member(db, account, "owner")
        admin, target = new_member(db, account, "admin"), new_member(db, account, target_role)
        response = await client.patch(
            f"/v1/account/members/{target.user_id}", json={"role": new_role}, headers=admin.headers
        )
        problem(response, 403, "permission_denied")
        assert role_of(db, account, target.user_id) == target_role

    async def test_an_admin_cannot_make_themself_owner(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        admin = new_member(db, new_account(db), "admin")
        response = await client.patch(
            f"/v1/account/members/{admin.user_id}", json={"role": "owner"}, headers=admin.headers
        )
        problem(response, 403, "permission_denied")

    async def test_an_owner_grants_and_takes_the_owner_role(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, admin = new_member(db, account, "owner"), new_member(db, account, "admin")
        path = f"/v1/account/members/{admin.user_id}"
        promoted = await client.patch(path, json={"role": "owner"}, headers=owner.headers)
        assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
        demoted = await client.patch(path, json={"role": "viewer"}, headers=owner.headers)
        assert demoted.status_code == 200 and demoted.json()["role"] == "viewer"

    async def test_the_last_owner_cannot_be_demoted(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner = new_member(db, account, "owner")
        response = await client.patch(
            f"/v1/account/members/{owner.user_id}", json={"role": "admin"}, headers=owner.headers
        )
        problem(response, 409, "last_owner")
        assert role_of(db, account, owner.user_id) == "owner"

    async def test_one_of_two_owners_may_step_down_then_not_the_other(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        first, second = new_member(db, account, "owner"), new_member(db, account, "owner")
        response = await client.patch(
            f"/v1/account/members/{first.user_id}", json={"role": "admin"}, headers=first.headers
        )
        assert response.status_code == 200, response.text
        response = await client.patch(
            f"/v1/account/members/{second.user_id}", json={"role": "admin"}, headers=second.headers
        )
        problem(response, 409, "last_owner")

    async def test_two_owners_stepping_down_at_once_leave_one_owner(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owners = [new_member(db, account, "owner") for _ in range(2)]
        responses = await asyncio.gather(
            *(
                client.patch(
                    f"/v1/account/members/{o.user_id}", json={"role": "admin"}, headers=o.headers
                )
                for o in owners
            )
        )
        assert sorted(r.status_code for r in responses) == [200, 409]
        assert sql(
            db, "SELECT count(*) FROM account_memberships WHERE account_id = %s AND role = 'owner'",
            account,
        ) == [(1,)]  # fmt: skip

    async def test_an_unknown_or_foreign_member_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        foreigner = new_member(db, new_account(db), "viewer")
        for user_id in (foreigner.user_id, 999_999):
            response = await client.patch(
                f"/v1/account/members/{user_id}", json={"role": "editor"}, headers=owner.headers
            )
            problem(response, 404, "member_not_found")
        assert role_of(db, foreigner.account_id, foreigner.user_id) == "viewer"

    @pytest.mark.parametrize(
        ("path", "payload", "field"),
        [
            ("/v1/account/members/{id}", {"role": "boss"}, "body.role"),
            ("/v1/account/members/{id}", {}, "body.role"),
            ("/v1/account/members/abc", {"role": "viewer"}, "path.user_id"),
            ("/v1/account/members/0", {"role": "viewer"}, "path.user_id"),
            ("/v1/account/members/99999999999", {"role": "viewer"}, "path.user_id"),
        ],
    )
    async def test_bad_input_names_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, path: str, payload: dict[str, Any],
        field: str,
    ) -> None:  # fmt: skip
        owner = new_member(db, new_account(db), "owner")
        response = await client.patch(
            path.format(id=owner.user_id), json=payload, headers=owner.headers
        )
        assert fields(problem(response, 422, "validation_failed")) == [field]


class TestRemoveMember:
    async def test_an_admin_removes_an_editor_with_their_grants(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        admin, editor = new_member(db, account, "admin"), new_member(db, account, "editor")
        sql(
            db, "INSERT INTO user_permissions (account_id, user_id, permission, resource_type) "
            "VALUES (%s, %s, 'content:publish', 'campaign')", account, editor.user_id,
        )  # fmt: skip
        response = await client.delete(
            f"/v1/account/members/{editor.user_id}", headers=admin.headers
        )
        assert response.status_code == 204, response.text
        assert role_of(db, account, editor.user_id) is None
        assert sql(db, "SELECT count(*) FROM user_permissions WHERE user_id = %s",
                   editor.user_id) == [(0,)]  # fmt: skip
        problem(await client.get("/v1/account", headers=editor.headers), 401, "invalid_token")

    async def test_an_admin_cannot_remove_an_owner(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, admin = new_member(db, account, "owner"), new_member(db, account, "admin")
        response = await client.delete(
            f"/v1/account/members/{owner.user_id}", headers=admin.headers
        )
        problem(response, 403, "permission_denied")
        assert role_of(db, account, owner.user_id) == "owner"

    async def test_an_owner_removes_another_owner_but_not_the_last(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        first, second = new_member(db, account, "owner"), new_member(db, account, "owner")
        response = await client.delete(
            f"/v1/account/members/{second.user_id}", headers=first.headers
        )
        assert response.status_code == 204, response.text
        response = await client.delete(
            f"/v1/account/members/{first.user_id}", headers=first.headers
        )
        problem(response, 409, "last_owner")
        assert role_of(db, account, first.user_id) == "owner"

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_editors_and_viewers_cannot_remove_others(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        account = new_account(db)
        member, other = new_member(db, account, role), new_member(db, account, "viewer")
        response = await client.delete(
            f"/v1/account/members/{other.user_id}", headers=member.headers
        )
        problem(response, 403, "permission_denied")
        assert role_of(db, account, other.user_id) == "viewer"

    async def test_a_viewer_may_leave(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        account = new_account(db)
        new_member(db, account, "owner")
        viewer = new_member(db, account, "viewer")
        response = await client.delete(
            f"/v1/account/members/{viewer.user_id}", headers=viewer.headers
        )
        assert response.status_code == 204, response.text
        assert role_of(db, account, viewer.user_id) is None

    async def test_an_unknown_or_foreign_member_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        foreigner = new_member(db, new_account(db), "viewer")
        for user_id in (foreigner.user_id, 999_999):
            response = await client.delete(f"/v1/account/members/{user_id}", headers=owner.headers)
            problem(response, 404, "member_not_found")
        assert role_of(db, foreigner.account_id, foreigner.user_id) == "viewer"


class TestInvite:
    async def test_an_admin_invites_and_the_token_goes_only_to_the_inbox(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        admin = new_member(db, account, "admin")
        email = fresh_email()
        response = await client.post(
            "/v1/account/invitations", json={"email": email, "role": "editor"},
            headers=admin.headers,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "email", "role", "invited_by", "expires_at", "created_at"}
        assert (body["email"], body["role"], body["invited_by"]) == (email, "editor", admin.user_id)

        token = emailed_token(db, email)
        assert token.startswith(f"{account}.") and token not in response.text
        stored = sql(
            db, "SELECT token_hash, expires_at - created_at FROM account_invitations WHERE id = %s",
            body["id"],
        )  # fmt: skip
        assert stored[0][0] == digest(token)
        assert stored[0][1].days == 7

    async def test_the_owner_role_is_for_owners_to_give(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, admin = new_member(db, account, "owner"), new_member(db, account, "admin")
        payload = {"email": fresh_email(), "role": "owner"}
        response = await client.post("/v1/account/invitations", json=payload, headers=admin.headers)
        problem(response, 403, "permission_denied")
        response = await client.post("/v1/account/invitations", json=payload, headers=owner.headers)
        assert response.status_code == 201, response.text

    async def test_one_pending_invitation_per_address(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        email = fresh_email()
        await invite(client, owner, email)
        response = await client.post(
            "/v1/account/invitations", json={"email": email.upper(), "role": "admin"},
            headers=owner.headers,
        )  # fmt: skip
        problem(response, 409, "invitation_pending")

    async def test_an_expired_invitation_makes_way_for_a_new_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        email = fresh_email()
        first = await invite(client, owner, email)
        sql(db, "UPDATE account_invitations SET expires_at = now() - interval '1 minute' "
                "WHERE id = %s", first["id"])  # fmt: skip
        second = await invite(client, owner, email)
        assert second["id"] != first["id"]
        assert sql(db, "SELECT revoked_at IS NOT NULL FROM account_invitations WHERE id = %s",
                   first["id"]) == [(True,)]  # fmt: skip

    async def test_an_existing_member_is_not_invited(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, editor = new_member(db, account, "owner"), new_member(db, account, "editor")
        response = await client.post(
            "/v1/account/invitations", json={"email": editor.email.upper(), "role": "viewer"},
            headers=owner.headers,
        )  # fmt: skip
        problem(response, 409, "already_member")

    @pytest.mark.parametrize("role", ["editor", "viewer"])
    async def test_editors_and_viewers_cannot_invite(
        self, client: httpx.AsyncClient, db: DatabaseURLs, role: str
    ) -> None:
        member = new_member(db, new_account(db), role)
        response = await client.post(
            "/v1/account/invitations", json={"email": fresh_email(), "role": "viewer"},
            headers=member.headers,
        )  # fmt: skip
        problem(response, 403, "permission_denied")

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"email": "not-an-address", "role": "viewer"}, "body.email"),
            ({"role": "viewer"}, "body.email"),
            ({"email": "a@example.com", "role": "boss"}, "body.role"),
            ({"email": "a@example.com", "role": "viewer", "token": "x"}, "body.token"),
        ],
    )
    async def test_bad_input_names_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, payload: dict[str, Any], field: str
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        response = await client.post("/v1/account/invitations", json=payload, headers=owner.headers)
        assert fields(problem(response, 422, "validation_failed")) == [field]


class TestListAndRevokeInvitations:
    async def test_only_pending_invitations_are_listed(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner = new_member(db, account, "owner")
        pending = [await invite(client, owner, fresh_email()) for _ in range(3)]
        revoked, expired = (
            await invite(client, owner, fresh_email()),
            await invite(client, owner, fresh_email()),
        )
        await client.delete(f"/v1/account/invitations/{revoked['id']}", headers=owner.headers)
        sql(db, "UPDATE account_invitations SET expires_at = now() - interval '1 second' "
                "WHERE id = %s", expired["id"])  # fmt: skip
        await invite(client, new_member(db, new_account(db), "owner"), fresh_email())  # elsewhere
        viewer = new_member(db, account, "viewer")

        first = await client.get("/v1/account/invitations", params={"limit": 2},
                                 headers=viewer.headers)  # fmt: skip
        assert first.status_code == 200, first.text
        cursor = first.json()["next_cursor"]
        second = await client.get(
            "/v1/account/invitations", params={"limit": 2, "cursor": cursor}, headers=viewer.headers
        )
        assert second.json()["next_cursor"] is None
        listed = [i["id"] for i in first.json()["items"] + second.json()["items"]]
        assert listed == [i["id"] for i in pending]

    async def test_revoke_then_not_found(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        account = new_account(db)
        admin = new_member(db, account, "admin")
        invitation = await invite(client, admin, fresh_email())
        path = f"/v1/account/invitations/{invitation['id']}"
        assert (await client.delete(path, headers=admin.headers)).status_code == 204
        assert sql(db, "SELECT revoked_at IS NOT NULL FROM account_invitations WHERE id = %s",
                   invitation["id"]) == [(True,)]  # fmt: skip
        problem(await client.delete(path, headers=admin.headers), 404, "invitation_not_found")

    async def test_an_admin_cannot_revoke_an_owners_invitation(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, admin = new_member(db, account, "owner"), new_member(db, account, "admin")
        invitation = await invite(client, owner, fresh_email(), "owner")
        response = await client.delete(
            f"/v1/account/invitations/{invitation['id']}", headers=admin.headers
        )
        problem(response, 403, "permission_denied")

    async def test_a_viewer_cannot_revoke(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        owner, viewer = new_member(db, account, "owner"), new_member(db, account, "viewer")
        invitation = await invite(client, owner, fresh_email())
        response = await client.delete(
            f"/v1/account/invitations/{invitation['id']}", headers=viewer.headers
        )
        problem(response, 403, "permission_denied")

    async def test_another_accounts_invitation_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        theirs = await invite(client, new_member(db, new_account(db), "owner"), fresh_email())
        owner = new_member(db, new_account(db), "owner")
        for invitation_id in (theirs["id"], str(uuid.uuid4())):
            response = await client.delete(
                f"/v1/account/invitations/{invitation_id}", headers=owner.headers
            )
            problem(response, 404, "invitation_not_found")
        assert sql(db, "SELECT revoked_at FROM account_invitations WHERE id = %s",
                   theirs["id"]) == [(None,)]  # fmt: skip


class TestAcceptInvitation:
    async def test_end_to_end_with_two_people(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        team = new_account(db)
        owner = new_member(db, team, "owner")
        guest = new_member(db, new_account(db), "owner")  # signed in, acting for their own account
        invitation = await invite(client, owner, guest.email.upper(), "editor")

        response = await client.post(
            "/v1/invitations/accept", json={"token": emailed_token(db, guest.email.upper())},
            headers=guest.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        assert response.json() == {
            "account_id": str(team), "user_id": guest.user_id, "role": "editor",
            "accepted_at": response.json()["accepted_at"],
        }  # fmt: skip
        assert sql(
            db, "SELECT accepted_by, accepted_at IS NOT NULL FROM account_invitations "
            "WHERE id = %s", invitation["id"],
        ) == [(guest.user_id, True)]  # fmt: skip
        assert sql(
            db, "SELECT invited_by FROM account_memberships WHERE account_id = %s AND user_id = %s",
            team, guest.user_id,
        ) == [(owner.user_id,)]  # fmt: skip

        # the guest now acts for the team as an editor
        as_team = acting(team, guest.headers)
        read = await client.get("/v1/account", headers=as_team)
        assert read.status_code == 200 and read.json()["id"] == str(team)
        response = await client.patch(
            "/v1/account", json={"name": "x", "version": 1}, headers=as_team
        )
        problem(response, 403, "permission_denied")
        members = (await client.get("/v1/account/members", headers=owner.headers)).json()["items"]
        assert [m["user_id"] for m in members] == [owner.user_id, guest.user_id]
        pending = (await client.get("/v1/account/invitations", headers=owner.headers)).json()
        assert pending["items"] == []

    async def test_a_token_is_used_once(self, client: httpx.AsyncClient, db: DatabaseURLs) -> None:
        owner = new_member(db, new_account(db), "owner")
        guest = new_member(db, new_account(db), "owner")
        await invite(client, owner, guest.email)
        payload = {"token": emailed_token(db, guest.email)}
        first = await client.post("/v1/invitations/accept", json=payload, headers=guest.headers)
        assert first.status_code == 200, first.text
        again = await client.post("/v1/invitations/accept", json=payload, headers=guest.headers)
        problem(again, 404, "invitation_not_found")

    async def test_a_member_already_cannot_join_twice(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        team = new_account(db)
        owner = new_member(db, team, "owner")
        guest = new_member(db, new_account(db), "owner")
        await invite(client, owner, guest.email)
        sql(db, "INSERT INTO account_memberships (account_id, user_id, role) "
                "VALUES (%s, %s, 'viewer')", team, guest.user_id)  # fmt: skip
        response = await client.post(
            "/v1/invitations/accept", json={"token": emailed_token(db, guest.email)},
            headers=guest.headers,
        )  # fmt: skip
        problem(response, 409, "already_member")
        assert role_of(db, team, guest.user_id) == "viewer"

    async def test_someone_else_cannot_accept(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        team = new_account(db)
        owner = new_member(db, team, "owner")
        guest, intruder = new_member(db, new_account(db)), new_member(db, new_account(db))
        await invite(client, owner, guest.email)
        response = await client.post(
            "/v1/invitations/accept", json={"token": emailed_token(db, guest.email)},
            headers=intruder.headers,
        )  # fmt: skip
        problem(response, 403, "invitation_for_someone_else")
        assert role_of(db, team, intruder.user_id) is None

    @pytest.mark.parametrize("spoil", ["expired", "revoked"])
    async def test_an_expired_or_revoked_invitation_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, spoil: str
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        guest = new_member(db, new_account(db))
        invitation = await invite(client, owner, guest.email)
        change = {
            "expired": "expires_at = now() - interval '1 second'",
            "revoked": "revoked_at = now()",
        }
        sql(db, f"UPDATE account_invitations SET {change[spoil]} WHERE id = %s", invitation["id"])
        response = await client.post(
            "/v1/invitations/accept", json={"token": emailed_token(db, guest.email)},
            headers=guest.headers,
        )  # fmt: skip
        problem(response, 404, "invitation_not_found")

    async def test_unknown_and_malformed_tokens_are_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        guest = new_member(db, new_account(db))
        await invite(client, owner, guest.email)
        real = emailed_token(db, guest.email)
        _, secret = real.split(".", 1)
        elsewhere = new_account(db)
        tokens = ["garbage", "not-a-uuid.secret", f"{owner.account_id}.",
                  f"{owner.account_id}.wrong", f"{elsewhere}.{secret}"]  # fmt: skip
        for token in tokens:
            response = await client.post(
                "/v1/invitations/accept", json={"token": token}, headers=guest.headers
            )
            problem(response, 404, "invitation_not_found")

    async def test_an_api_key_cannot_accept(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        owner = new_member(db, new_account(db), "owner")
        email = fresh_email()
        await invite(client, owner, email)
        key = new_key(db, new_account(db), ["members:read"])
        response = await client.post(
            "/v1/invitations/accept", json={"token": emailed_token(db, email)}, headers=key.headers
        )
        problem(response, 403, "users_only")

    async def test_anonymous_cannot_accept(self, client: httpx.AsyncClient) -> None:
        problem(await client.post("/v1/invitations/accept", json={"token": "x.y"}), 401)

    async def test_an_empty_token_names_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        guest = new_member(db, new_account(db))
        response = await client.post(
            "/v1/invitations/accept", json={"token": ""}, headers=guest.headers
        )
        assert fields(problem(response, 422)) == ["body.token"]


class TestParentMembersOnSubAccounts:
    async def test_a_parent_owner_manages_a_sub_accounts_people(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        agency_owner = new_member(db, agency, "owner")
        client_owner, client_viewer = (
            new_member(db, client_account, "owner"), new_member(db, client_account, "viewer"),
        )  # fmt: skip
        headers = acting(client_account, agency_owner.headers)

        listed = await client.get("/v1/account/members", headers=headers)
        assert [m["user_id"] for m in listed.json()["items"]] == [
            client_owner.user_id, client_viewer.user_id,
        ]  # fmt: skip
        changed = await client.patch(
            f"/v1/account/members/{client_viewer.user_id}", json={"role": "owner"}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        invited = await client.post(
            "/v1/account/invitations", json={"email": fresh_email(), "role": "owner"},
            headers=headers,
        )  # fmt: skip
        assert invited.status_code == 201, invited.text
        assert sql(db, "SELECT account_id FROM account_invitations WHERE id = %s",
                   invited.json()["id"]) == [(client_account,)]  # fmt: skip
        # the agency's own member list is untouched
        assert role_of(db, agency, client_viewer.user_id) is None

    async def test_a_parent_admin_cannot_touch_a_sub_accounts_owners(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        agency_admin = new_member(db, agency, "admin")
        client_owner = new_member(db, client_account, "owner")
        client_editor = new_member(db, client_account, "editor")
        headers = acting(client_account, agency_admin.headers)
        response = await client.delete(
            f"/v1/account/members/{client_owner.user_id}", headers=headers
        )
        problem(response, 403, "permission_denied")
        response = await client.patch(
            f"/v1/account/members/{client_editor.user_id}", json={"role": "viewer"}, headers=headers
        )
        assert response.status_code == 200, response.text

    async def test_a_parent_viewer_only_reads_a_sub_accounts_people(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        agency = new_account(db)
        client_account = new_account(db, parent=agency)
        agency_viewer = new_member(db, agency, "viewer")
        client_editor = new_member(db, client_account, "editor")
        headers = acting(client_account, agency_viewer.headers)
        assert (await client.get("/v1/account/members", headers=headers)).status_code == 200
        response = await client.delete(
            f"/v1/account/members/{client_editor.user_id}", headers=headers
        )
        problem(response, 403, "permission_denied")
        response = await client.post(
            "/v1/account/invitations", json={"email": fresh_email(), "role": "viewer"},
            headers=headers,
        )  # fmt: skip
        problem(response, 403, "permission_denied")

    async def test_a_stranger_gets_not_found_for_someone_elses_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        elsewhere = new_account(db)
        their_member = new_member(db, elsewhere, "viewer")
        stranger = new_member(db, new_account(db), "owner")
        headers = acting(elsewhere, stranger.headers)
        for response in (
            await client.get("/v1/account/members", headers=headers),
            await client.delete(f"/v1/account/members/{their_member.user_id}", headers=headers),
            await client.post(
                "/v1/account/invitations", json={"email": fresh_email(), "role": "viewer"},
                headers=headers,
            ),
        ):  # fmt: skip
            problem(response, 404, "account_not_found")
        assert role_of(db, elsewhere, their_member.user_id) == "viewer"
