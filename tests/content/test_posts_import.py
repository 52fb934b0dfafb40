"""Bulk import of posts from CSV and JSON (multipart upload, at most 1,000 rows): every
row checked, every refused row named by line and field, and by mode nothing, everything
or the valid rows written, in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zoneinfo
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.content.calendar_support import new_social_account
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_member

LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
AT = LATER.isoformat().replace("+00:00", "Z")


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db))


async def _upload(
    client: httpx.AsyncClient, who: Member, data: str | bytes, *, name: str = "posts.csv",
    mode: str = "valid_rows", **params: str,
) -> httpx.Response:  # fmt: skip
    return await client.post("/v1/post-imports", params={"mode": mode, **params},
                             files={"file": (name, data)}, headers=who.headers)  # fmt: skip


def _posts(db: DatabaseURLs, owner: Member) -> list[tuple[Any, ...]]:
    return sql(db, "SELECT content, status, scheduled_at FROM scheduled_posts"
                   " WHERE account_id = %s ORDER BY id", owner.account_id)  # fmt: skip


def _csv(social: uuid.UUID, *lines: str) -> str:
    return "content,hashtags,social_account_ids,scheduled_at,timezone\r\n" + "".join(
        line.replace("{s}", str(social)) + "\r\n" for line in lines
    )


class TestCsv:
    async def test_valid_rows_are_written_and_refused_rows_named_by_line_and_field(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        data = _csv(
            social,
            f"Hello,tips news,{{s}},{AT},Europe/Rome",
            f'"Two\nlines",,{{s}},{AT},',  # a quoted newline: the next row starts on line 5
            f",,{{s}},{AT},",
            "Bad time,,{s},tomorrow,",
            f"Bad zone,,{{s}},{AT},Mars/Olympus",
            f"Nobody,,{uuid.uuid4()},{AT},",
            "Past,,{s},2020-01-01T00:00:00Z,",
        )
        response = await _upload(client, owner, data)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["rows"], report["imported"], len(report["post_ids"])) == (7, 2, 2)
        refused = [(r["row"], r["line"], r["field"]) for r in report["refused"]]
        assert refused == [
            (3, 5, "content"),
            (4, 6, "scheduled_at"),
            (5, 7, "timezone"),
            (6, 8, "social_account_ids"),
            (7, 9, "scheduled_at"),
        ]
        assert [(c, s) for c, s, _ in _posts(db, owner)] == [
            ("Hello", "scheduled"), ("Two\nlines", "scheduled"),
        ]  # fmt: skip

    async def test_a_wall_clock_time_is_read_in_the_rows_zone(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        year = dt.date.today().year + 1
        data = _csv(social, f"Spring,,{{s}},{year}-01-15 09:30,Europe/Rome",
                    f"Seconds,,{{s}},{year}-07-15T09:30:00,Europe/Rome",
                    f"Utc,,{{s}},{year}-01-15 09:30,")  # fmt: skip
        report = (await _upload(client, owner, data)).json()
        assert report["imported"] == 3, report
        times = [at.astimezone(dt.UTC) for _, _, at in _posts(db, owner)]
        assert times == [
            dt.datetime(year, 1, 15, 8, 30, tzinfo=dt.UTC),  # +01:00 in winter
            dt.datetime(year, 7, 15, 7, 30, tzinfo=dt.UTC),  # +02:00 in summer
            dt.datetime(year, 1, 15, 9, 30, tzinfo=dt.UTC),
        ]

    async def test_all_or_nothing_writes_nothing_when_a_row_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        data = _csv(social, f"Fine,,{{s}},{AT},", f"Bad,,{{s}},{AT},Nowhere/Land")
        body = problem(await _upload(client, owner, data, mode="all_or_nothing"), 422,
                       "import_refused")  # fmt: skip
        assert [(r["row"], r["field"]) for r in body["refused"]] == [(2, "timezone")]
        assert _posts(db, owner) == []
        assert sql(db, "SELECT count(*) FROM content_versions WHERE account_id = %s",
                   owner.account_id) == [(0,)]  # fmt: skip

        fine = await _upload(client, owner, _csv(social, f"Fine,,{{s}},{AT},"),
                             mode="all_or_nothing")  # fmt: skip
        assert fine.status_code == 200 and fine.json()["imported"] == 1

    async def test_validate_writes_nothing_and_reports_what_would_be_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        data = _csv(social, f"Fine,,{{s}},{AT},", "Queued,,{s},,")  # no queue: refused on write
        report = (await _upload(client, owner, data, mode="validate")).json()
        assert report["imported"] == 0 and report["post_ids"] == []
        assert [(r["row"], r["field"], r["code"]) for r in report["refused"]] == [
            (2, "row", "queue_not_configured")
        ]
        assert _posts(db, owner) == []

    async def test_rows_without_a_time_go_to_the_queue_one_slot_each(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        slots = [{"weekday": d, "time": "09:00"} for d in range(1, 8)]
        await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                         json={"timezone": "Europe/Rome", "slots": slots})  # fmt: skip
        data = _csv(social, "One,,{s},,", "Two,,{s},,", "Three,,{s},,")
        report = (await _upload(client, owner, data)).json()
        assert report["imported"] == 3, report
        times = [at for _, _, at in _posts(db, owner)]
        assert len(set(times)) == 3 and times == sorted(times)
        assert all(at.astimezone(dt.UTC).minute == 0 for at in times)

    async def test_queued_rows_skip_slots_taken_weeks_ahead_by_earlier_rows(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        # one slot a week: the search reads a week at a time and remembers where the
        # queue is full, and must still see the slot a timed row of the file took
        social = new_social_account(db, owner)
        rome = zoneinfo.ZoneInfo("Europe/Rome")
        day = dt.datetime.now(rome).date() + dt.timedelta(days=1)
        while day.isoweekday() != 1:
            day += dt.timedelta(days=1)
        mondays = [
            dt.datetime.combine(day + dt.timedelta(weeks=n), dt.time(9), rome).astimezone(dt.UTC)
            for n in range(4)
        ]
        await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                         json={"timezone": "Europe/Rome",
                               "slots": [{"weekday": 1, "time": "09:00"}]})  # fmt: skip
        second = mondays[1].isoformat().replace("+00:00", "Z")
        data = _csv(social, "Q1,,{s},,", f"Timed,,{{s}},{second},", "Q2,,{s},,", "Q3,,{s},,")
        report = (await _upload(client, owner, data)).json()
        assert report["imported"] == 4, report
        assert [(c, at) for c, _, at in _posts(db, owner)] == [
            ("Q1", mondays[0]), ("Timed", mondays[1]), ("Q2", mondays[2]), ("Q3", mondays[3]),
        ]  # fmt: skip

    async def test_a_row_refused_while_writing_leaves_the_rows_around_it_their_slots(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        # the batch written together is rolled back and written again a row at a time:
        # the rows before the refused one get the slots they had, in the file's order
        social, unqueued = new_social_account(db, owner), new_social_account(db, owner)
        slots = [{"weekday": d, "time": "09:00"} for d in range(1, 8)]
        await client.put(f"/v1/posting-queues/{social}", headers=owner.headers,
                         json={"timezone": "Europe/Rome", "slots": slots})  # fmt: skip
        data = _csv(social, "Q1,,{s},,", "Q2,,{s},,", f"No queue,,{unqueued},,", "Q3,,{s},,")
        report = (await _upload(client, owner, data)).json()
        assert report["imported"] == 3, report
        assert [(p["row"], p["code"]) for p in report["refused"]] == [(3, "queue_not_configured")]
        posts = _posts(db, owner)
        assert [c for c, _, _ in posts] == ["Q1", "Q2", "Q3"]
        rome = zoneinfo.ZoneInfo("Europe/Rome")
        first = dt.datetime.combine(dt.datetime.now(rome).date(), dt.time(9), rome)
        if first <= dt.datetime.now(rome):
            first = dt.datetime.combine(first.date() + dt.timedelta(days=1), dt.time(9), rome)
        expected = [
            dt.datetime.combine(first.date() + dt.timedelta(days=n), dt.time(9), rome)
            for n in range(3)
        ]
        assert [at for _, _, at in posts] == expected

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ("content,colour\r\nx,red\r\n", "unknown column"),
            ("hashtags\r\nx\r\n", "no content column"),
            (b"\xff\xfe content", "not UTF-8"),
        ],
    )
    async def test_an_unreadable_file_is_refused_as_a_whole(
        self, client: httpx.AsyncClient, owner: Member, data: str | bytes, message: str
    ) -> None:
        body = problem(await _upload(client, owner, data), 422)
        assert body["errors"][0]["field"] == "body.file" and message in body["detail"]

    async def test_more_than_1000_rows_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = new_social_account(db, owner)
        data = _csv(social, *[f"p{n},,{{s}},{AT}," for n in range(1001)])
        body = problem(await _upload(client, owner, data), 422)
        assert "at most 1000 rows" in body["detail"]
        assert _posts(db, owner) == []


class TestJson:
    async def test_a_json_list_is_imported_row_by_row(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = str(new_social_account(db, owner))
        rows = [
            {"content": "From JSON", "hashtags": ["a", "b"], "social_account_ids": [social],
             "scheduled_at": AT, "timezone": "Europe/Rome"},
            {"content": "Extra", "social_account_ids": [social], "scheduled_at": AT,
             "colour": "red"},
            "not an object",
            {"content": 5, "social_account_ids": [social], "scheduled_at": AT},
        ]  # fmt: skip
        report = (await _upload(client, owner, json.dumps(rows), name="posts.json")).json()
        assert report["imported"] == 1
        assert [(r["row"], r["line"], r["field"]) for r in report["refused"]] == [
            (2, None, "colour"), (3, None, "row"), (4, None, "content"),
        ]  # fmt: skip
        assert _posts(db, owner)[0][:2] == ("From JSON", "scheduled")

    async def test_the_format_comes_from_the_query_when_the_name_says_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        social = str(new_social_account(db, owner))
        data = json.dumps({"posts": [{"content": "x", "social_account_ids": [social],
                                      "scheduled_at": AT}]})  # fmt: skip
        unnamed = problem(await _upload(client, owner, data, name="upload"), 422)
        assert unnamed["errors"][0]["field"] == "query.format"
        named = await _upload(client, owner, data, name="upload", format="json")
        assert named.json()["imported"] == 1


class TestRequest:
    async def test_not_multipart_is_415_and_no_file_part_is_422(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        raw = await client.post(
            "/v1/post-imports",
            content=b"content\r\nx\r\n",
            headers={**owner.headers, "Content-Type": "text/csv"},
        )
        problem(raw, 415)
        other = await client.post("/v1/post-imports", files={"other": ("a.csv", "content\r\n")},
                                  headers=owner.headers)  # fmt: skip
        assert problem(other, 422)["errors"][0]["field"] == "body.other"
        empty = await client.post(
            "/v1/post-imports",
            content=b"--b--\r\n",  # a multipart body with no part at all
            headers={**owner.headers, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert problem(empty, 422)["errors"][0]["field"] == "body.file"

    async def test_a_viewer_may_not_import(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, role="viewer")
        problem(await _upload(client, viewer, "content\r\nx\r\n"), 403)
