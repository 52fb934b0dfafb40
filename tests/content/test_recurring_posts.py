"""Recurring posts: a series makes one scheduled post per occurrence (every N days or
weeks, on weekdays, until a day or N times, at most 366), edits reach the following
occurrences still to come, an occurrence edited on its own is detached, and ending a
series cancels what follows it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from markettina.content.recurrence import Recurrence, TooManyOccurrences
from markettina.kernel.db.urls import DatabaseURLs
from tests.content.calendar_support import new_social_account, utc
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

NEXT_YEAR = dt.date.today().year + 1


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db))


def _series(social: Any, **rule: Any) -> dict[str, Any]:
    return {"content": "Weekly tip", "hashtags": ["tips"], "social_account_ids": [str(social)],
            "timezone": "Europe/Rome", "starts_on": f"{NEXT_YEAR}-01-04", "time": "09:00",
            "frequency": "weekly", **rule}  # fmt: skip


class TestRecurrence:
    def test_every_two_weeks_on_monday_and_friday_four_times(self) -> None:
        rule = Recurrence(starts_on=dt.date(2027, 1, 6), local_time=dt.time(9), timezone="UTC",
                          frequency="weekly", every=2, weekdays=(5, 1), occurrences=4)  # fmt: skip
        # Wed 6 Jan: its week's Monday is before the start; Fri 8, then two weeks later
        assert rule.days() == [dt.date(2027, 1, 8), dt.date(2027, 1, 18), dt.date(2027, 1, 22),
                               dt.date(2027, 2, 1)]  # fmt: skip

    def test_every_three_days_until_a_day_inclusive(self) -> None:
        rule = Recurrence(starts_on=dt.date(2027, 1, 1), local_time=dt.time(9), timezone="UTC",
                          frequency="daily", every=3, until=dt.date(2027, 1, 10))  # fmt: skip
        assert rule.days() == [dt.date(2027, 1, d) for d in (1, 4, 7, 10)]

    def test_daily_across_the_spring_change_keeps_the_wall_clock(self) -> None:
        rule = Recurrence(starts_on=dt.date(2027, 3, 27), local_time=dt.time(2, 30),
                          timezone="Europe/Rome", frequency="daily", occurrences=3)  # fmt: skip
        assert rule.instants() == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30),
                                   utc(2027, 3, 29, 0, 30)]  # fmt: skip

    def test_more_than_366_occurrences_is_refused(self) -> None:
        rule = Recurrence(starts_on=dt.date(2027, 1, 1), local_time=dt.time(9), timezone="UTC",
                          frequency="daily", until=dt.date(2028, 1, 2))  # fmt: skip
        with pytest.raises(TooManyOccurrences):
            rule.days()
        fits = Recurrence(starts_on=dt.date(2027, 1, 1), local_time=dt.time(9), timezone="UTC",
                          frequency="daily", until=dt.date(2028, 1, 1))  # fmt: skip
        assert len(fits.days()) == 366


class TestSeriesApi:
    async def test_a_series_makes_scheduled_posts_linked_to_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        created = await client.post(
            "/v1/post-series",
            headers=owner.headers,
            json=_series(social, weekdays=[1, 3], occurrences=5),
        )
        assert created.status_code == 201, created.text
        series = created.json()
        assert created.headers["ETag"] == '"1"'
        assert [p["index"] for p in series["posts"]] == [1, 2, 3, 4, 5]
        assert {p["status"] for p in series["posts"]} == {"scheduled"}
        assert all(p["follows_series"] for p in series["posts"])
        # Monday 09:00 in Rome (+01:00 in January)
        assert series["posts"][0]["scheduled_at"] == f"{NEXT_YEAR}-01-04T08:00:00Z"
        rows = sql(db, "SELECT series_index, content, timezone FROM scheduled_posts"
                       " WHERE series_id = %s ORDER BY series_index", series["id"])  # fmt: skip
        assert rows == [(n, "Weekly tip", "Europe/Rome") for n in range(1, 6)]
        listed = await client.get("/v1/post-series", headers=owner.headers)
        assert [s["id"] for s in listed.json()["items"]] == [series["id"]]

    async def test_a_series_edit_reaches_the_following_occurrences_not_a_detached_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        series = (await client.post("/v1/post-series", headers=owner.headers,
                                    json=_series(social, occurrences=3))).json()  # fmt: skip
        first, second, third = (p["post_id"] for p in series["posts"])
        post = (await client.get(f"/v1/posts/{second}", headers=owner.headers)).json()
        own = await client.patch(
            f"/v1/posts/{second}",
            json={"content": "Special edition"},
            headers={**owner.headers, "If-Match": f'"{post["version"]}"'},
        )
        assert own.status_code == 200, own.text
        sql(db, "UPDATE scheduled_posts SET status = 'published' WHERE id = %s", third)

        edited = await client.patch(f"/v1/post-series/{series['id']}",
                                    json={"content": "Weekly tip v2", "version": 1},
                                    headers=owner.headers)  # fmt: skip
        assert edited.status_code == 200, edited.text
        assert edited.json()["content"] == "Weekly tip v2" and edited.json()["version"] == 2
        contents = dict(sql(db, "SELECT id, content FROM scheduled_posts WHERE series_id = %s",
                            series["id"]))  # fmt: skip
        assert contents == {first: "Weekly tip v2", second: "Special edition",
                            third: "Weekly tip"}  # fmt: skip
        follows = {p["post_id"]: p["follows_series"] for p in edited.json()["posts"]}
        assert follows == {first: True, second: False, third: False}

        stale = await client.patch(
            f"/v1/post-series/{series['id']}",
            json={"content": "x", "version": 1},
            headers=owner.headers,
        )
        problem(stale, 409, "version_conflict")

    async def test_ending_a_series_cancels_its_following_occurrences(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        series = (await client.post("/v1/post-series", headers=owner.headers,
                                    json=_series(social, occurrences=2))).json()  # fmt: skip
        path = f"/v1/post-series/{series['id']}"
        assert (await client.delete(path, headers=owner.headers)).status_code == 204
        statuses = sql(db, "SELECT status FROM scheduled_posts WHERE series_id = %s",
                       series["id"])  # fmt: skip
        assert statuses == [("cancelled",), ("cancelled",)]
        problem(await client.get(path, headers=owner.headers), 404, "post_series_not_found")

    @pytest.mark.parametrize(
        ("rule", "field"),
        [
            ({"occurrences": 367}, "body.occurrences"),
            ({}, "body.occurrences"),
            ({"occurrences": 2, "until": f"{NEXT_YEAR}-02-01"}, "body.occurrences"),
            ({"until": f"{NEXT_YEAR + 2}-01-01", "frequency": "daily"}, "body.until"),
            ({"until": f"{NEXT_YEAR - 2}-01-01"}, "body.until"),
            ({"occurrences": 2, "starts_on": "2020-01-06"}, "body.starts_on"),
            ({"occurrences": 2, "frequency": "daily", "weekdays": [1]}, "body.weekdays"),
            ({"occurrences": 2, "weekdays": [0]}, "body.weekdays.0"),
            ({"occurrences": 2, "every": 0}, "body.every"),
            ({"occurrences": 2, "timezone": "Europe/Milano"}, "body.timezone"),
            ({"occurrences": 2, "time": "25:00"}, "body.time"),
            ({"occurrences": 2, "frequency": "monthly"}, "body.frequency"),
        ],
    )
    async def test_a_bad_rule_is_refused_naming_the_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        rule: dict[str, Any], field: str,
    ) -> None:  # fmt: skip
        social = new_social_account(db, owner)
        response = await client.post("/v1/post-series", json=_series(social, **rule),
                                     headers=owner.headers)  # fmt: skip
        assert field in [e["field"] for e in problem(response, 422)["errors"]], response.text
        assert sql(db, "SELECT count(*) FROM post_series WHERE account_id = %s",
                   owner.account_id) == [(0,)]  # fmt: skip

    async def test_another_accounts_social_account_writes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        theirs = new_social_account(db, new_member(db, new_account(db)))
        response = await client.post("/v1/post-series", json=_series(theirs, occurrences=3),
                                     headers=owner.headers)  # fmt: skip
        assert problem(response, 422)["errors"][0]["field"] == "body.social_account_ids"
        assert sql(db, "SELECT count(*) FROM scheduled_posts WHERE account_id = %s",
                   owner.account_id) == [(0,)]  # fmt: skip

    async def test_an_editor_without_publish_may_not_and_a_viewer_reads(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, role="viewer")
        social = new_social_account(db, owner)
        response = await client.post("/v1/post-series", json=_series(social, occurrences=1),
                                     headers=viewer.headers)  # fmt: skip
        problem(response, 403)
        assert (await client.get("/v1/post-series", headers=viewer.headers)).status_code == 200
