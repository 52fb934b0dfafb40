"""Superadmins manage the staff over HTTP: the list, disabling a member (their sessions end
at once and stay ended) and enabling them again; never themselves; each call audited, and
a refused one too."""

from __future__ import annotations

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.staff import StaffSession, new_staff_session

PATH = "/v1/staff/members"


@pytest.fixture
def superadmin(db: DatabaseURLs) -> StaffSession:
    member = new_staff_session(db)
    sql(db, "UPDATE admin_users SET is_superadmin = true WHERE id = %s", member.admin_user_id)
    return member


def audited(db: DatabaseURLs, member: StaffSession) -> list[tuple[str, str | None, dict]]:
    return sql(  # type: ignore[return-value]
        db,
        "SELECT action, target_id, details FROM admin_audit_logs WHERE admin_user_id = %s "
        "ORDER BY created_at, id",
        member.admin_user_id,
    )


class TestList:
    async def test_every_member_with_their_state(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        other = new_staff_session(db)
        listed = {}
        url = f"{PATH}?limit=1"
        while url:
            response = await client.get(url, headers=superadmin.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 1
            listed.update({m["id"]: m for m in page["items"]})
            url = page["next_cursor"] and f"{PATH}?limit=1&cursor={page['next_cursor']}"
        assert list(listed) == sorted(listed)
        me, them = listed[superadmin.admin_user_id], listed[other.admin_user_id]
        assert me["is_superadmin"] and not them["is_superadmin"]
        assert them["is_active"] and them["live_sessions"] == 1
        assert them["mfa_enrolled"] is False and them["email"].startswith("staff-")
        assert audited(db, superadmin)[-1][0] == "staff.list"
        bad = await client.get(f"{PATH}?cursor=WyJ4Il0", headers=superadmin.headers)
        assert fields(problem(bad, 422)) == ["query.cursor"]


class TestDisableAndEnable:
    async def test_disabling_ends_the_sessions_and_enabling_revives_none(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        other = new_staff_session(db)
        assert (await client.get("/v1/staff/accounts", headers=other.headers)).status_code == 200
        url = f"{PATH}/{other.admin_user_id}"
        for changed in (True, False):  # idempotent
            response = await client.post(f"{url}/disable", headers=superadmin.headers)
            assert response.status_code == 200, response.text
            assert response.json()["is_active"] is False
            assert response.json()["live_sessions"] == 0
            assert audited(db, superadmin)[-1] == (
                "staff.disable", str(other.admin_user_id),
                {"changed": changed, "sessions_ended": 1 if changed else 0},
            )  # fmt: skip
        refused = await client.get("/v1/staff/accounts", headers=other.headers)
        assert refused.status_code == 401
        enabled = await client.post(f"{url}/enable", headers=superadmin.headers)
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["is_active"] is True and enabled.json()["live_sessions"] == 0
        still = await client.get("/v1/staff/accounts", headers=other.headers)
        problem(still, 401, "staff_session_revoked")

    async def test_enabling_an_active_member_changes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        other = new_staff_session(db)
        response = await client.post(
            f"{PATH}/{other.admin_user_id}/enable", headers=superadmin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["live_sessions"] == 1
        assert (await client.get("/v1/staff/accounts", headers=other.headers)).status_code == 200

    async def test_nobody_disables_themselves(
        self, client: httpx.AsyncClient, superadmin: StaffSession
    ) -> None:
        url = f"{PATH}/{superadmin.admin_user_id}/disable"
        problem(await client.post(url, headers=superadmin.headers), 409, "cannot_disable_yourself")
        assert (await client.get(PATH, headers=superadmin.headers)).status_code == 200

    async def test_an_unknown_or_malformed_member(
        self, client: httpx.AsyncClient, superadmin: StaffSession
    ) -> None:
        unknown = await client.post(f"{PATH}/2147483647/disable", headers=superadmin.headers)
        problem(unknown, 404, "staff_member_not_found")
        for bad in ("0", "abc", "2147483648"):
            response = await client.post(f"{PATH}/{bad}/disable", headers=superadmin.headers)
            assert fields(problem(response, 422)) == ["path.member_id"]


class TestWhoMay:
    async def test_other_staff_members_are_refused_and_that_is_logged(
        self, client: httpx.AsyncClient, db: DatabaseURLs, superadmin: StaffSession
    ) -> None:
        member = new_staff_session(db)
        problem(await client.get(PATH, headers=member.headers), 403, "superadmin_required")
        url = f"{PATH}/{superadmin.admin_user_id}/disable"
        problem(await client.post(url, headers=member.headers), 403, "superadmin_required")
        assert audited(db, member) == [
            ("staff.list", None, {"outcome": "refused"}),
            ("staff.disable", str(superadmin.admin_user_id), {"outcome": "refused"}),
        ]
        assert (await client.get(PATH, headers=superadmin.headers)).status_code == 200
