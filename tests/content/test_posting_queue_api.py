"""POST /v1/posts/{id}/queue and GET /v1/posting-queues/{id}/upcoming over HTTP: the post
takes the next free slot, the upcoming slots say which are taken, a full or unconfigured
queue is a 409 that says why."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.calendar_support import new_social_account
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

EVERY_DAY_0900 = [{"weekday": d, "time": "09:00"} for d in range(1, 8)]


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db))


async def _draft(client: httpx.AsyncClient, owner: Member, content: str = "queued") -> int:
    created = await client.post("/v1/posts", json={"content": content}, headers=owner.headers)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


async def test_queued_posts_take_the_upcoming_slots_in_order(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    social = new_social_account(db, owner)
    queue = await client.put(
        f"/v1/posting-queues/{social}",
        headers=owner.headers,
        json={"timezone": "Europe/Rome", "slots": EVERY_DAY_0900},
    )
    assert queue.status_code == 200, queue.text
    upcoming = (await client.get(f"/v1/posting-queues/{social}/upcoming?count=3",
                                 headers=owner.headers)).json()  # fmt: skip
    assert [s["taken"] for s in upcoming] == [False, False, False]

    first, second = await _draft(client, owner), await _draft(client, owner)
    queued = await client.post(f"/v1/posts/{first}/queue", headers=owner.headers,
                               json={"social_account_ids": [str(social)]})  # fmt: skip
    assert queued.status_code == 200, queued.text
    assert queued.json()["status"] == "scheduled"
    assert queued.json()["scheduled_at"] == upcoming[0]["at"]
    assert queued.json()["timezone"] == "Europe/Rome"
    assert queued.json()["social_account_ids"] == [str(social)]
    again = await client.post(f"/v1/posts/{second}/queue", headers=owner.headers,
                              json={"social_account_ids": [str(social)]})  # fmt: skip
    assert again.json()["scheduled_at"] == upcoming[1]["at"]

    now_taken = (await client.get(f"/v1/posting-queues/{social}/upcoming?count=3",
                                  headers=owner.headers)).json()  # fmt: skip
    assert [s["taken"] for s in now_taken] == [True, True, False]


async def test_a_post_can_be_dragged_off_its_slot_with_the_checks_of_scheduling(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    """Drag-to-reschedule on the calendar is the posts' schedule route."""
    social = new_social_account(db, owner)
    await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                     json={"timezone": "UTC", "slots": EVERY_DAY_0900})  # fmt: skip
    post = await _draft(client, owner)
    queued = (await client.post(f"/v1/posts/{post}/queue", headers=owner.headers,
                                json={"social_account_ids": [str(social)]})).json()  # fmt: skip
    day = dt.datetime.fromisoformat(queued["scheduled_at"]).date()
    moved_to = f"{day + dt.timedelta(days=2)}T15:00:00Z"
    past = await client.post(f"/v1/posts/{post}/schedule", headers=owner.headers, json={
        "scheduled_at": "2020-01-01T00:00:00Z", "timezone": "UTC",
        "social_account_ids": [str(social)], "version": queued["version"]})  # fmt: skip
    assert problem(past, 422)["errors"][0]["field"] == "body.scheduled_at"
    moved = await client.post(f"/v1/posts/{post}/schedule", headers=owner.headers, json={
        "scheduled_at": moved_to, "timezone": "UTC", "social_account_ids": [str(social)],
        "version": queued["version"]})  # fmt: skip
    assert moved.status_code == 200, moved.text
    calendar = (await client.get("/v1/calendar", headers=owner.headers, params={
        "from": str(day), "to": str(day + dt.timedelta(days=3))})).json()  # fmt: skip
    assert [(d["date"], [p["id"] for p in d["posts"]]) for d in calendar["days"]] == [
        (str(day + dt.timedelta(days=2)), [post])
    ]
    # the slot it left is free again
    upcoming = (await client.get(f"/v1/posting-queues/{social}/upcoming?count=1",
                                 headers=owner.headers)).json()  # fmt: skip
    assert upcoming[0]["taken"] is False


async def test_without_slots_or_targets_the_answer_says_why(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    social = new_social_account(db, owner)
    post = await _draft(client, owner)
    no_targets = await client.post(f"/v1/posts/{post}/queue", headers=owner.headers)
    assert problem(no_targets, 422)["errors"][0]["field"] == "body.social_account_ids"
    body = problem(await client.post(f"/v1/posts/{post}/queue", headers=owner.headers,
                                     json={"social_account_ids": [str(social)]}),
                   409, "queue_not_configured")  # fmt: skip
    assert body["social_account_ids"] == [str(social)]
    assert sql(db, "SELECT status FROM scheduled_posts WHERE id = %s", post) == [("draft",)]


async def test_a_full_queue_is_409_with_the_next_slot(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    social = new_social_account(db, owner)
    await client.put(
        f"/v1/posting-queues/{social}",
        headers=owner.headers,
        json={"timezone": "UTC", "slots": [{"weekday": 1, "time": "09:00"}]},
    )
    upcoming = (await client.get(f"/v1/posting-queues/{social}/upcoming?count=20",
                                 headers=owner.headers)).json()  # fmt: skip
    for slot in upcoming:  # every Monday of the 90 days, held by a post
        post = await _draft(client, owner, "holder")
        held = await client.post(f"/v1/posts/{post}/schedule", headers=owner.headers, json={
            "scheduled_at": slot["at"], "timezone": "UTC",
            "social_account_ids": [str(social)]})  # fmt: skip
        assert held.status_code == 200, held.text
    post = await _draft(client, owner)
    body = problem(await client.post(f"/v1/posts/{post}/queue", headers=owner.headers,
                                     json={"social_account_ids": [str(social)]}),
                   409, "queue_full")  # fmt: skip
    after = dt.datetime.fromisoformat(upcoming[-1]["at"]) + dt.timedelta(weeks=1)
    assert body["horizon_days"] == 90
    assert dt.datetime.fromisoformat(body["next_slot_at"]) == after


async def test_a_stale_version_or_another_accounts_post_is_refused(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
) -> None:
    social = new_social_account(db, owner)
    await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                     json={"timezone": "UTC", "slots": EVERY_DAY_0900})  # fmt: skip
    post = await _draft(client, owner)
    stale = await client.post(f"/v1/posts/{post}/queue",
                              headers={**owner.headers, "If-Match": '"9"'},
                              json={"social_account_ids": [str(social)]})  # fmt: skip
    problem(stale, 409, "version_conflict")
    stranger = new_member(db, new_account(db))
    theirs = await client.post(f"/v1/posts/{post}/queue", headers=stranger.headers,
                               json={"social_account_ids": [str(social)]})  # fmt: skip
    problem(theirs, 404)
    viewer = new_member(db, owner.account_id, role="viewer")
    problem(await client.post(f"/v1/posts/{post}/queue", headers=viewer.headers), 403)
