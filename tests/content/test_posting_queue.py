"""Posting queues: a social account's weekly slots in an IANA zone, set and replaced under
optimistic locking, refused for another account's social account or a bad slot."""

from __future__ import annotations

import uuid

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.calendar_support import new_social_account
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

ROME_WEEKDAYS = {"timezone": "Europe/Rome", "slots": [
    {"weekday": 1, "time": "09:00"}, {"weekday": 3, "time": "18:30"},
]}  # fmt: skip


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db))


class TestSetQueue:
    async def test_put_creates_then_replaces_with_the_version_read(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        path = f"/v1/posting-queues/{social}"
        problem(await client.get(path, headers=owner.headers), 404, "posting_queue_not_found")

        created = await client.put(path, json=ROME_WEEKDAYS, headers=owner.headers)
        assert created.status_code == 200, created.text
        assert created.headers["ETag"] == '"1"'
        assert created.json()["slots"] == ROME_WEEKDAYS["slots"]

        replaced = await client.put(
            path, json={"timezone": "America/New_York", "slots": [{"weekday": 7, "time": "02:30"}]},
            headers={**owner.headers, "If-Match": '"1"'},
        )  # fmt: skip
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["version"] == 2
        read = (await client.get(path, headers=owner.headers)).json()
        assert read["timezone"] == "America/New_York"
        assert read["slots"] == [{"weekday": 7, "time": "02:30"}]
        (count,) = sql(db, "SELECT count(*) FROM posting_slots WHERE account_id = %s",
                       owner.account_id)  # fmt: skip
        assert count[0] == 1

    async def test_replacing_without_or_with_a_stale_version_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        path = f"/v1/posting-queues/{new_social_account(db, owner)}"
        await client.put(path, json=ROME_WEEKDAYS, headers=owner.headers)
        problem(await client.put(path, json=ROME_WEEKDAYS, headers=owner.headers), 409,
                "version_conflict")  # fmt: skip
        stale = await client.put(path, json={**ROME_WEEKDAYS, "version": 7},
                                 headers=owner.headers)  # fmt: skip
        assert problem(stale, 409, "version_conflict")["current_version"] == 1
        disagree = await client.put(path, json={**ROME_WEEKDAYS, "version": 1},
                                    headers={**owner.headers, "If-Match": '"2"'})  # fmt: skip
        assert problem(disagree, 422)["errors"][0]["field"] == "body.version"
        bad = await client.put(path, json=ROME_WEEKDAYS, headers={**owner.headers, "If-Match": "x"})
        assert problem(bad, 422)["errors"][0]["field"] == "header.If-Match"

    async def test_delete_removes_the_slots(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        path = f"/v1/posting-queues/{new_social_account(db, owner)}"
        await client.put(path, json=ROME_WEEKDAYS, headers=owner.headers)
        assert (await client.delete(path, headers=owner.headers)).status_code == 204
        problem(await client.get(path, headers=owner.headers), 404)
        problem(await client.delete(path, headers=owner.headers), 404)

    async def test_another_accounts_or_an_unknown_social_account_is_not_found(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        theirs = new_social_account(db, new_member(db, new_account(db)))
        for social in (theirs, uuid.uuid4()):
            response = await client.put(f"/v1/posting-queues/{social}", json=ROME_WEEKDAYS,
                                        headers=owner.headers)  # fmt: skip
            problem(response, 404, "social_account_not_found")

    async def test_a_disconnected_social_account_takes_no_queue(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        sql(db, "UPDATE social_accounts SET deleted_at = now() WHERE id = %s", social)
        response = await client.put(f"/v1/posting-queues/{social}", json=ROME_WEEKDAYS,
                                    headers=owner.headers)  # fmt: skip
        problem(response, 404, "social_account_not_found")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"timezone": "Rome", "slots": []}, "body.timezone"),
            ({"timezone": "UTC+1", "slots": []}, "body.timezone"),
            ({"timezone": "UTC", "slots": [{"weekday": 0, "time": "09:00"}]},
             "body.slots.0.weekday"),
            ({"timezone": "UTC", "slots": [{"weekday": 8, "time": "09:00"}]},
             "body.slots.0.weekday"),
            ({"timezone": "UTC", "slots": [{"weekday": 1, "time": "24:00"}]},
             "body.slots.0.time"),
            ({"timezone": "UTC", "slots": [{"weekday": 1, "time": "9:00"}]}, "body.slots.0.time"),
            ({"timezone": "UTC", "slots": [{"weekday": 1, "time": "09:00"}] * 2}, "body.slots"),
            ({"timezone": "UTC", "slots": [{"weekday": "1", "time": "09:00"}]},
             "body.slots.0.weekday"),
        ],
    )  # fmt: skip
    async def test_bad_slots_are_refused_naming_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        body: dict[str, object], field: str,
    ) -> None:  # fmt: skip
        response = await client.put(f"/v1/posting-queues/{new_social_account(db, owner)}",
                                    json=body, headers=owner.headers)  # fmt: skip
        assert field in [e["field"] for e in problem(response, 422)["errors"]]

    async def test_a_viewer_reads_but_may_not_set(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        path = f"/v1/posting-queues/{new_social_account(db, owner)}"
        await client.put(path, json=ROME_WEEKDAYS, headers=owner.headers)
        viewer = new_member(db, owner.account_id, role="viewer")
        assert (await client.get(path, headers=viewer.headers)).status_code == 200
        problem(await client.put(path, json=ROME_WEEKDAYS, headers=viewer.headers), 403)
