"""The staff audit log read back over HTTP: superadmins only, newest first, filtered by
member, action (exact or a prefix), target and time; each read (and each refused attempt)
is itself written to the log."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import new_account, new_member
from tests.support.staff import StaffSession, new_staff_session

PATH = "/v1/staff/audit-logs"


@pytest.fixture
def superadmin(db: DatabaseURLs) -> StaffSession:
    member = new_staff_session(db)
    sql(db, "UPDATE admin_users SET is_superadmin = true WHERE id = %s", member.admin_user_id)
    return member


def logged(db: DatabaseURLs, member: StaffSession, action: str, **target: Any) -> None:
    """An entry written as staff code writes them, an hour in the past."""
    sql(
        db,
        "INSERT INTO admin_audit_logs (admin_user_id, action, target_type, target_id, ip, "
        "created_at) VALUES (%s, %s, %s, %s, '10.0.0.7', now() - interval '1 hour')",
        member.admin_user_id, action, target.get("type"), target.get("id"),
    )  # fmt: skip


async def entries(client: httpx.AsyncClient, member: StaffSession, query: str = "") -> Any:
    response = await client.get(f"{PATH}{query}", headers=member.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestReading:
    async def test_what_staff_did_newest_first_with_who_and_from_where(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        other = new_staff_session(db)
        account = new_account(db)
        response = await client.post(
            f"/v1/staff/accounts/{account}/suspend", json={"reason": "chargebacks"},
            headers=other.headers,
        )  # fmt: skip
        assert response.status_code == 200, response.text
        page = await entries(client, superadmin, f"?admin_user_id={other.admin_user_id}")
        [suspended] = page["items"]
        assert suspended["action"] == "account.suspend"
        assert (suspended["target_type"], suspended["target_id"]) == ("account", str(account))
        assert suspended["details"] == {"reason": "chargebacks"}
        assert suspended["admin_email"].startswith("staff-")
        assert suspended["admin_user_id"] == other.admin_user_id

    async def test_filters_and_pages(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        member = new_staff_session(db)
        target = str(uuid.uuid4())
        for action in ("account.view", "account.suspend", "promo_code.create"):
            logged(db, member, action, type="account", id=target)
        mine = f"?admin_user_id={member.admin_user_id}"
        first = await entries(client, superadmin, f"{mine}&limit=2")
        rest = await entries(client, superadmin, f"{mine}&limit=2&cursor={first['next_cursor']}")
        assert rest["next_cursor"] is None
        actions = [e["action"] for e in first["items"] + rest["items"]]
        assert sorted(actions) == ["account.suspend", "account.view", "promo_code.create"]
        prefixed = await entries(client, superadmin, f"{mine}&action=account.*")
        assert sorted(e["action"] for e in prefixed["items"]) == ["account.suspend", "account.view"]
        exact = await entries(client, superadmin, f"?action=promo_code.create&target_id={target}")
        assert [e["action"] for e in exact["items"]] == ["promo_code.create"]
        assert exact["items"][0]["ip"] == "10.0.0.7"
        window = "since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00%2B01:00"
        assert (await entries(client, superadmin, f"{mine}&{window}"))["items"] == []
        recent = await entries(
            client, superadmin, f"{mine}&target_type=account&since=2000-01-01T00:00:00Z"
        )
        assert len(recent["items"]) == 3

    async def test_each_read_is_logged_after_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        mine = f"?admin_user_id={superadmin.admin_user_id}"
        assert (await entries(client, superadmin, mine))["items"] == []
        [read] = (await entries(client, superadmin, mine))["items"]
        assert read["action"] == "audit_log.search"
        assert read["details"] == {"admin_user_id": superadmin.admin_user_id, "results": 0}


class TestWhoMayRead:
    async def test_other_staff_members_are_refused_and_that_is_logged(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        member = new_staff_session(db)
        response = await client.get(f"{PATH}?action=account.*", headers=member.headers)
        problem(response, 403, "superadmin_required")
        rows = sql(db, "SELECT action, details FROM admin_audit_logs WHERE admin_user_id = %s",
                   member.admin_user_id)  # fmt: skip
        assert rows == [("audit_log.search", {"action": "account.*", "outcome": "refused"})]

    async def test_people_keys_and_strangers_are_not_staff(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        person = new_member(db, new_account(db), "owner")
        for headers in ({}, person.headers):
            response = await client.get(PATH, headers=headers)
            assert response.status_code == 401, response.text


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "field"),
        [("action=Account.View", "query.action"), ("action=account.*.view", "query.action"),
         ("since=2026-01-01T00:00:00", "query.since"), ("until=yesterday", "query.until"),
         ("admin_user_id=0", "query.admin_user_id"), ("limit=500", "query.limit"),
         ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "query.until")],
    )  # fmt: skip
    async def test_the_offending_parameter_is_named(
        self, client: httpx.AsyncClient, superadmin: StaffSession, query: str, field: str
    ) -> None:
        response = await client.get(f"{PATH}?{query}", headers=superadmin.headers)
        assert fields(problem(response, 422)) == [field]
