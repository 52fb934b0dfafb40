"""A person's sessions over HTTP: listed (the live ones, newest sign-in first, the
request's own marked), one ended, all the others ended; an ended session's access and
refresh tokens stop at once, and nobody else can see or end them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from markettina.kernel.db.urls import DatabaseURLs
from tests.identity.test_sign_in import (
    assert_problem,
    bearer,
    family_of,
    new_email,
    register,
    sql,
)
from tests.support.identity import new_account, new_key

PATH = "/v1/me/sessions"


async def sign_in_from(client: httpx.AsyncClient, email: str, agent: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/auth/login",
        json={"email": email, "password": "correct horse battery"},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def person_with_sessions(
    client: httpx.AsyncClient, *agents: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A registered person (the registration's own session ended) signed in once per agent."""
    email = new_email()
    registered = await register(client, email)
    await client.post("/v1/auth/logout", headers=bearer(registered["tokens"]["access_token"]))
    return registered, [await sign_in_from(client, email, agent) for agent in agents]


async def listed(client: httpx.AsyncClient, tokens: dict[str, Any], query: str = "") -> Any:
    response = await client.get(f"{PATH}{query}", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200, response.text
    return response.json()


class TestListing:
    async def test_live_sessions_newest_first_with_this_one_marked(
        self, client: httpx.AsyncClient
    ) -> None:
        _, (laptop, phone, tablet) = await person_with_sessions(client, "laptop", "phone", "tablet")
        first = await listed(client, phone, "?limit=2")
        rest = await listed(client, phone, f"?limit=2&cursor={first['next_cursor']}")
        assert rest["next_cursor"] is None
        sessions = first["items"] + rest["items"]
        assert [s["user_agent"] for s in sessions] == ["tablet", "phone", "laptop"]
        assert [s["current"] for s in sessions] == [False, True, False]
        assert [s["id"] for s in sessions] == [
            str(family_of(t["access_token"])) for t in (tablet, phone, laptop)
        ]
        one = sessions[1]
        assert one["account_id"] == phone["account_id"]
        assert one["signed_in_at"] == one["last_active_at"] < one["expires_at"]

    async def test_a_refresh_keeps_the_session_and_moves_its_last_activity(
        self, client: httpx.AsyncClient
    ) -> None:
        _, (laptop,) = await person_with_sessions(client, "laptop")
        [before] = (await listed(client, laptop))["items"]
        response = await client.post(
            "/v1/auth/refresh",
            json={"refresh_token": laptop["refresh_token"]},
            headers={"User-Agent": "laptop, later"},
        )
        assert response.status_code == 200, response.text
        [after] = (await listed(client, response.json()))["items"]
        assert after["id"] == before["id"] and after["signed_in_at"] == before["signed_in_at"]
        assert after["last_active_at"] > before["last_active_at"]
        assert after["user_agent"] == "laptop, later" and after["current"] is True

    async def test_ended_and_expired_sessions_are_not_listed(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        _, (laptop, phone, tablet) = await person_with_sessions(client, "laptop", "phone", "tablet")
        await client.post("/v1/auth/logout", headers=bearer(phone["access_token"]))
        sql(db, "UPDATE refresh_tokens SET expires_at = now() WHERE family_id = %s",
            family_of(tablet["access_token"]))  # fmt: skip
        assert [s["user_agent"] for s in (await listed(client, laptop))["items"]] == ["laptop"]


class TestEnding:
    async def test_one_session_ends_at_once_and_the_others_go_on(
        self, client: httpx.AsyncClient
    ) -> None:
        _, (laptop, phone) = await person_with_sessions(client, "laptop", "phone")
        phone_session = family_of(phone["access_token"])
        headers = bearer(laptop["access_token"])
        for _ in range(2):  # idempotent
            response = await client.delete(f"{PATH}/{phone_session}", headers=headers)
            assert response.status_code == 204, response.text
        me = await client.get("/v1/me", headers=bearer(phone["access_token"]))
        assert_problem(me, 401, "session_revoked")
        refreshed = await client.post(
            "/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]}
        )
        assert refreshed.status_code == 401
        assert (await client.get("/v1/me", headers=headers)).status_code == 200
        assert [s["user_agent"] for s in (await listed(client, laptop))["items"]] == ["laptop"]

    async def test_ending_this_session_signs_out(self, client: httpx.AsyncClient) -> None:
        _, (laptop,) = await person_with_sessions(client, "laptop")
        headers = bearer(laptop["access_token"])
        response = await client.delete(
            f"{PATH}/{family_of(laptop['access_token'])}", headers=headers
        )
        assert response.status_code == 204, response.text
        assert_problem(await client.get("/v1/me", headers=headers), 401, "session_revoked")

    async def test_every_other_session_ends(self, client: httpx.AsyncClient) -> None:
        _, (laptop, phone, tablet) = await person_with_sessions(client, "laptop", "phone", "tablet")
        headers = bearer(phone["access_token"])
        response = await client.post(f"{PATH}/end-others", headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"ended": 2}
        for other in (laptop, tablet):
            me = await client.get("/v1/me", headers=bearer(other["access_token"]))
            assert_problem(me, 401, "session_revoked")
        assert (await client.get("/v1/me", headers=headers)).status_code == 200
        again = await client.post(f"{PATH}/end-others", headers=headers)
        assert again.json() == {"ended": 0}

    async def test_unknown_and_other_peoples_sessions_are_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        _, (mine,) = await person_with_sessions(client, "mine")
        _, (theirs,) = await person_with_sessions(client, "theirs")
        their_session = family_of(theirs["access_token"])
        headers = bearer(mine["access_token"])
        for session_id in (their_session, uuid.uuid4()):
            response = await client.delete(f"{PATH}/{session_id}", headers=headers)
            assert_problem(response, 404, "session_not_found")
        assert (
            await client.get("/v1/me", headers=bearer(theirs["access_token"]))
        ).status_code == 200
        revoked = sql(db, "SELECT count(*) FROM refresh_tokens WHERE family_id = %s "
                          "AND revoked_at IS NOT NULL", their_session)  # fmt: skip
        assert revoked == [(0,)]
        bad = await client.delete(f"{PATH}/not-a-uuid", headers=headers)
        assert_problem(bad, 422, "validation_failed")


class TestWhoMayAsk:
    async def test_an_api_key_has_no_sessions(
        self, client: httpx.AsyncClient, db: DatabaseURLs
    ) -> None:
        _, (laptop,) = await person_with_sessions(client, "laptop")
        key = new_key(db, new_account(db), ["account:read"])
        assert_problem(await client.get(PATH, headers=key.headers), 403, "not_a_user")
        ended = await client.post(f"{PATH}/end-others", headers=key.headers)
        assert_problem(ended, 403, "not_a_user")
        one = await client.delete(
            f"{PATH}/{family_of(laptop['access_token'])}", headers=key.headers
        )
        assert_problem(one, 404, "session_not_found")
        assert (
            await client.get("/v1/me", headers=bearer(laptop["access_token"]))
        ).status_code == 200

    async def test_anonymous_callers_sign_in_first(self, client: httpx.AsyncClient) -> None:
        for response in (
            await client.get(PATH),
            await client.post(f"{PATH}/end-others"),
            await client.delete(f"{PATH}/{uuid.uuid4()}"),
        ):
            assert_problem(response, 401, "unauthorized")
