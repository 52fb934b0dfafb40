"""Identity publishes its changes as domain events, each written in the changing transaction:
an action through the API leaves exactly its outbox row(s), a refused one leaves none."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import acting, problem, sql
from tests.support.emails import queued_emails
from tests.support.fake_platform import FakePlatform, FakeUser, connected
from tests.support.identity import Member, new_account, new_key, new_member
from tests.support.staff import new_staff_session

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "correct horse battery staple"


def events(urls: DatabaseURLs, account_id: uuid.UUID | str) -> list[tuple[Any, ...]]:
    """The account's outbox rows, oldest first: (type, aggregate type, aggregate id, payload)."""
    return sql(
        urls,
        "SELECT event_type, aggregate_type, aggregate_id, event_data FROM domain_events "
        "WHERE account_id = %s ORDER BY created_at, id",
        account_id,
    )


def count_of(urls: DatabaseURLs, event_type: str) -> int:
    [(count,)] = sql(urls, "SELECT count(*) FROM domain_events WHERE event_type = %s", event_type)
    return int(count)


def invitation_token(urls: DatabaseURLs, email: str) -> str:
    text = queued_emails(urls, email)[-1]["text"]
    return str(text).split("?token=", 1)[1].split()[0]


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def fresh_email() -> str:
    return f"someone-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


# --- accounts --------------------------------------------------------------------------------


class TestAccountEvents:
    async def test_registration_records_account_created_on_the_new_account(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        email = fresh_email()
        response = await client.post(
            "/v1/auth/register",
            json={"email": email, "password": PASSWORD, "full_name": "Ada Lovelace"},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        account_id, user_id = body["account"]["id"], body["user"]["id"]
        assert events(db, account_id) == [
            ("account.created", "account", account_id, {
                "account_id": account_id, "user_id": user_id, "name": "Ada Lovelace",
                "slug": body["account"]["slug"], "plan_tier": "free",
            }),
        ]  # fmt: skip

    async def test_a_refused_registration_records_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        before = count_of(db, "account.created")
        bad_code = await client.post(
            "/v1/auth/register",
            json={"email": fresh_email(), "password": PASSWORD, "referral_code": "NOSUCHCODE"},
        )
        problem(bad_code, 422)  # refused after the account was made: all of it rolled back
        assert count_of(db, "account.created") == before

    async def test_an_update_records_the_fields_it_set(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        response = await client.patch(
            "/v1/account", json={"name": "Renamed", "settings": {"tz": "UTC"}, "version": 1},
            headers=owner.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        account_id = str(owner.account_id)
        assert events(db, account_id) == [
            ("account.updated", "account", account_id, {
                "account_id": account_id, "changed": ["name", "settings"], "name": "Renamed",
                "updated_by": owner.user_id,
            }),
        ]  # fmt: skip

    async def test_a_stale_or_empty_update_records_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        stale = await client.patch(
            "/v1/account", json={"name": "x", "version": 7}, headers=owner.headers
        )
        problem(stale, 409, "version_conflict")
        empty = await client.patch("/v1/account", json={"version": 1}, headers=owner.headers)
        assert empty.status_code == 200, empty.text
        assert events(db, owner.account_id) == []

    async def test_a_sub_account_is_recorded_on_the_parent(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        response = await client.post(
            "/v1/account/sub-accounts", json={"name": "Client One", "slug": "client-one-ev"},
            headers=owner.headers,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        child = response.json()["id"]
        parent = str(owner.account_id)
        assert events(db, parent) == [
            ("account.sub_account_created", "account", parent, {
                "account_id": parent, "sub_account_id": child, "name": "Client One",
                "slug": "client-one-ev", "created_by": owner.user_id,
            }),
        ]  # fmt: skip
        assert events(db, child) == []

        taken = await client.post(
            "/v1/account/sub-accounts", json={"name": "Again", "slug": "client-one-ev"},
            headers=owner.headers,
        )  # fmt: skip
        problem(taken, 409, "slug_taken")
        assert len(events(db, parent)) == 1

    async def test_staff_suspension_and_reinstatement(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        staff = new_staff_session(db)
        account_id = new_account(db)
        path = f"/v1/staff/accounts/{account_id}"
        suspended = await client.post(
            f"{path}/suspend", json={"reason": "chargeback"}, headers=staff.headers
        )
        assert suspended.status_code == 200, suspended.text
        again = await client.post(f"{path}/suspend", json={"reason": "x"}, headers=staff.headers)
        problem(again, 409, "account_already_suspended")
        lifted = await client.post(f"{path}/unsuspend", headers=staff.headers)
        assert lifted.status_code == 200, lifted.text

        recorded = events(db, account_id)
        assert [row[:3] for row in recorded] == [
            ("account.suspended", "account", str(account_id)),
            ("account.reinstated", "account", str(account_id)),
        ]
        suspended_at = recorded[0][3].pop("suspended_at")
        assert moment(suspended_at) == moment(suspended.json()["suspended_at"])
        # staff's reason stays in their audit log, out of the account's own events
        assert [row[3] for row in recorded] == [{"account_id": str(account_id)}] * 2


# --- members and invitations -------------------------------------------------------------------


class TestMemberEvents:
    async def test_invite_accept_change_role_remove(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        team = str(owner.account_id)
        guest = new_member(db, new_account(db), "owner")  # acting for their own account
        invited = await client.post(
            "/v1/account/invitations", json={"email": guest.email, "role": "editor"},
            headers=owner.headers,
        )  # fmt: skip
        assert invited.status_code == 201, invited.text
        invitation = invited.json()
        accepted = await client.post(
            "/v1/invitations/accept", json={"token": invitation_token(db, guest.email)},
            headers=guest.headers,
        )  # fmt: skip
        assert accepted.status_code == 200, accepted.text
        changed = await client.patch(
            f"/v1/account/members/{guest.user_id}", json={"role": "viewer"}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
        removed = await client.delete(f"/v1/account/members/{guest.user_id}", headers=owner.headers)
        assert removed.status_code == 204, removed.text

        recorded = events(db, team)
        assert moment(recorded[0][3].pop("expires_at")) == moment(invitation["expires_at"])
        user = str(guest.user_id)
        assert [(*row[:3], row[3]) for row in recorded] == [
            ("member.invited", "invitation", invitation["id"], {
                "invitation_id": invitation["id"], "email": guest.email, "role": "editor",
                "invited_by": owner.user_id,
            }),
            ("member.joined", "member", user, {
                "user_id": guest.user_id, "role": "editor", "invitation_id": invitation["id"],
                "invited_by": owner.user_id,
            }),
            ("member.role_changed", "member", user, {
                "user_id": guest.user_id, "old_role": "editor", "new_role": "viewer",
                "changed_by": owner.user_id,
            }),
            ("member.removed", "member", user, {
                "user_id": guest.user_id, "role": "viewer", "removed_by": owner.user_id,
            }),
        ]  # fmt: skip
        assert events(db, guest.account_id) == []  # joining is the team's event, not theirs
        assert "token" not in json.dumps([row[3] for row in recorded])

    async def test_refusals_record_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        member = new_member(db, owner.account_id, "viewer")
        already = await client.post(
            "/v1/account/invitations", json={"email": member.email, "role": "editor"},
            headers=owner.headers,
        )  # fmt: skip
        problem(already, 409, "already_member")
        last_owner = await client.patch(
            f"/v1/account/members/{owner.user_id}", json={"role": "viewer"}, headers=owner.headers
        )
        problem(last_owner, 409, "last_owner")
        unchanged = await client.patch(
            f"/v1/account/members/{member.user_id}", json={"role": "viewer"}, headers=owner.headers
        )
        assert unchanged.status_code == 200, unchanged.text  # the same role: nothing happened
        leave_alone = await client.delete(
            f"/v1/account/members/{owner.user_id}", headers=owner.headers
        )
        problem(leave_alone, 409, "last_owner")
        not_yours = await client.post(
            "/v1/invitations/accept", json={"token": f"{owner.account_id}.nope"},
            headers=member.headers,
        )  # fmt: skip
        problem(not_yours, 404, "invitation_not_found")
        assert events(db, owner.account_id) == []

    async def test_revoking_an_invitation(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        email = fresh_email()
        invited = await client.post(
            "/v1/account/invitations", json={"email": email, "role": "viewer"},
            headers=owner.headers,
        )  # fmt: skip
        invitation_id = invited.json()["id"]
        path = f"/v1/account/invitations/{invitation_id}"
        assert (await client.delete(path, headers=owner.headers)).status_code == 204
        problem(await client.delete(path, headers=owner.headers), 404, "invitation_not_found")
        recorded = events(db, owner.account_id)
        assert [row[:3] for row in recorded] == [
            ("member.invited", "invitation", invitation_id),
            ("invitation.revoked", "invitation", invitation_id),
        ]
        assert recorded[1][3] == {
            "invitation_id": invitation_id, "email": email, "role": "viewer",
            "revoked_by": owner.user_id,
        }  # fmt: skip


# --- API keys ----------------------------------------------------------------------------------


class TestApiKeyEvents:
    async def test_created_and_revoked_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        created = await client.post(
            "/v1/api-keys",
            json={"name": "CI", "scopes": ["content:write", "content:read"],
                  "expires_at": "2099-01-01T00:00:00Z"},
            headers=owner.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        key = created.json()
        path = f"/v1/api-keys/{key['id']}"
        for _ in range(2):  # revoking is idempotent: one event
            assert (await client.delete(path, headers=owner.headers)).status_code == 204

        assert events(db, owner.account_id) == [
            ("api_key.created", "api_key", key["id"], {
                "api_key_id": key["id"], "name": "CI", "prefix": key["prefix"],
                "scopes": ["content:read", "content:write"],
                "expires_at": "2099-01-01T00:00:00Z", "created_by": owner.user_id,
            }),
            ("api_key.revoked", "api_key", key["id"], {
                "api_key_id": key["id"], "name": "CI", "prefix": key["prefix"],
                "revoked_by": owner.user_id,
            }),
        ]  # fmt: skip
        [(key_hash,)] = sql(db, "SELECT key_hash FROM api_keys WHERE id = %s", key["id"])
        published = json.dumps(events(db, owner.account_id))
        assert key["key"] not in published and key_hash not in published

    async def test_refusals_record_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        account = new_account(db)
        editor = new_member(db, account, "editor")
        beyond = await client.post(
            "/v1/api-keys", json={"name": "x", "scopes": ["billing:manage"]},
            headers=editor.headers,
        )  # fmt: skip
        assert beyond.status_code == 403, beyond.text
        other = new_key(db, new_account(db), ["content:read"])
        owner = new_member(db, account, "owner")
        missing = await client.delete(f"/v1/api-keys/{other.key_id}", headers=owner.headers)
        problem(missing, 404, "api_key_not_found")
        assert events(db, account) == [] and events(db, other.account_id) == []


# --- social accounts ---------------------------------------------------------------------------


class TestSocialAccountEvents:
    async def test_connect_and_disconnect(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform
    ) -> None:
        first = await connected(client, owner)
        fake.user = FakeUser("2002", "Grace Hopper", "grace")
        second = await connected(client, owner)
        gone = await client.delete(f"/v1/social-accounts/{first['id']}", headers=owner.headers)
        assert gone.status_code == 204, gone.text

        assert events(db, owner.account_id) == [
            ("social_account.connected", "social_account", first["id"], {
                "social_account_id": first["id"], "platform": "fakebook",
                "platform_user_id": "1001", "handle": "ada", "is_primary": True,
                "connected_by": owner.user_id,
            }),
            ("social_account.connected", "social_account", second["id"], {
                "social_account_id": second["id"], "platform": "fakebook",
                "platform_user_id": "2002", "handle": "grace", "is_primary": False,
                "connected_by": owner.user_id,
            }),
            ("social_account.disconnected", "social_account", first["id"], {
                "social_account_id": first["id"], "platform": "fakebook",
                "new_primary_id": second["id"], "disconnected_by": owner.user_id,
            }),
        ]  # fmt: skip
        published = json.dumps(events(db, owner.account_id))
        for issued in fake.issued:
            assert issued["access_token"] not in published
            assert issued["refresh_token"] not in published

    async def test_refusals_record_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, fake: FakePlatform
    ) -> None:
        bad_state = await client.post(
            "/v1/social-accounts/callback", json={"state": "forged", "code": "x"},
            headers=owner.headers,
        )  # fmt: skip
        problem(bad_state, 422, "oauth_state_invalid")
        missing = await client.delete(f"/v1/social-accounts/{uuid.uuid4()}", headers=owner.headers)
        problem(missing, 404, "social_account_not_found")
        assert events(db, owner.account_id) == []


async def test_acting_for_a_sub_account_records_on_it(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    client_account = new_account(db, parent=owner.account_id)
    created = await client.post(
        "/v1/api-keys", json={"name": "for the client", "scopes": ["content:read"]},
        headers=acting(client_account, owner.headers),
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert [row[:3] for row in events(db, client_account)] == [
        ("api_key.created", "api_key", created.json()["id"])
    ]
    assert events(db, owner.account_id) == []
