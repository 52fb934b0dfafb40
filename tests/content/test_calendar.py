"""GET /v1/calendar: posts, e-mail campaigns, campaign spans and calendar entries grouped
by day in the caller's zone; and the editorial calendars' CRUD with optimistic locking."""

from __future__ import annotations

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import problem, sql
from tests.support.identity import Member, new_account, new_key, new_member


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db))


def _post(db: DatabaseURLs, owner: Member, at: str | None, status: str = "scheduled",
          content: str = "hello") -> int:  # fmt: skip
    (row,) = sql(
        db,
        "INSERT INTO scheduled_posts (account_id, user_id, content, status, scheduled_at)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        owner.account_id, owner.user_id, content, status, at,
    )  # fmt: skip
    return int(row[0])


async def _calendar(client: httpx.AsyncClient, who: Member, **params: str) -> httpx.Response:
    return await client.get("/v1/calendar", params=params, headers=who.headers)


class TestCalendarView:
    async def test_posts_are_grouped_by_the_local_day_of_their_time(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        # 23:30 UTC on the 9th is the 10th in Rome (+01:00 in March before the change)
        late = _post(db, owner, "2026-03-09T23:30:00Z")
        morning = _post(db, owner, "2026-03-10T08:00:00Z")
        _post(db, owner, "2026-03-10T09:00:00Z", status="cancelled")
        _post(db, owner, None, status="draft")  # unscheduled drafts are on no day
        response = await _calendar(client, owner, **{"from": "2026-03-01", "to": "2026-03-31",
                                                     "tz": "Europe/Rome"})  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["from"] == "2026-03-01" and body["timezone"] == "Europe/Rome"
        assert [d["date"] for d in body["days"]] == ["2026-03-10"]
        posts = body["days"][0]["posts"]
        assert [(p["id"], p["local_time"]) for p in posts] == [(late, "00:30"), (morning, "09:00")]

        in_utc = await _calendar(client, owner, **{"from": "2026-03-01", "to": "2026-03-31"})
        assert [d["date"] for d in in_utc.json()["days"]] == ["2026-03-09", "2026-03-10"]

    async def test_email_campaigns_campaign_spans_and_entries_are_on_their_days(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        sql(db, "INSERT INTO email_campaigns (account_id, user_id, name, status, scheduled_at,"
                " sent_at) VALUES (%s, %s, 'sent', 'sent', '2026-05-01T10:00Z',"
                " '2026-05-02T10:00Z'), (%s, %s, 'later', 'scheduled', '2026-05-03T10:00Z', NULL)",
            owner.account_id, owner.user_id, owner.account_id, owner.user_id)  # fmt: skip
        (campaign,) = sql(db, "INSERT INTO campaigns (account_id, name, start_date, end_date)"
                              " VALUES (%s, 'spring', '2026-04-28', '2026-05-02') RETURNING id",
                          owner.account_id)  # fmt: skip
        created = await client.post(
            "/v1/editorial-calendars",
            json={"name": "Themes", "entries": [
                {"date": "2026-05-01", "kind": "holiday", "title": "Labour day"},
                {"date": "2026-05-02", "end_date": "2026-05-04", "kind": "theme",
                 "title": "Bike week"},
            ]},
            headers=owner.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        body = (await _calendar(client, owner, **{"from": "2026-05-01", "to": "2026-05-03",
                                                  "tz": "Europe/Rome"})).json()  # fmt: skip
        days = {d["date"]: d for d in body["days"]}
        assert sorted(days) == ["2026-05-01", "2026-05-02", "2026-05-03"]
        assert [e["name"] for e in days["2026-05-02"]["email_campaigns"]] == ["sent"]
        assert [e["name"] for e in days["2026-05-03"]["email_campaigns"]] == ["later"]
        assert days["2026-05-01"]["campaign_ids"] == [str(campaign[0])]
        assert days["2026-05-03"]["campaign_ids"] == []
        assert [c["name"] for c in body["campaigns"]] == ["spring"]
        assert [e["title"] for e in days["2026-05-01"]["entries"]] == ["Labour day"]
        assert [e["title"] for e in days["2026-05-03"]["entries"]] == ["Bike week"]

    async def test_another_accounts_rows_are_not_shown(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        _post(db, owner, "2026-06-10T08:00:00Z")
        stranger = new_member(db, new_account(db))
        body = await _calendar(client, stranger, **{"from": "2026-06-01", "to": "2026-06-30"})
        assert body.json()["days"] == []

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "2026-01-01", "to": "2026-01-02", "tz": "Mars/Olympus"}, "query.tz"),
            ({"from": "2026-01-01", "to": "2026-01-02", "tz": "+01:00"}, "query.tz"),
            ({"from": "2026-01-01", "to": "2027-01-02"}, "query.to"),
            ({"from": "2026-01-02", "to": "2026-01-01"}, "query.to"),
            ({"from": "2026-1-2", "to": "2026-01-03"}, "query.from"),
            ({"to": "2026-01-03"}, "query.from"),
        ],
    )
    async def test_a_bad_range_or_zone_is_refused_naming_it(
        self, client: httpx.AsyncClient, owner: Member, params: dict[str, str], field: str
    ) -> None:
        body = problem(await _calendar(client, owner, **params), 422)
        assert field in [e["field"] for e in body["errors"]], body

    async def test_more_posts_than_one_answer_holds_is_truncated(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        sql(db, "INSERT INTO scheduled_posts (account_id, user_id, content, status, scheduled_at)"
                " SELECT %s, %s, 'p' || n, 'scheduled', '2026-08-01T00:00Z'::timestamptz"
                " + n * interval '1 minute' FROM generate_series(1, 2001) n",
            owner.account_id, owner.user_id)  # fmt: skip
        body = await _calendar(client, owner, **{"from": "2026-08-01", "to": "2026-08-31"})
        assert body.json()["truncated"] is True
        assert sum(len(d["posts"]) for d in body.json()["days"]) == 2000
        short = await _calendar(client, owner, **{"from": "2026-08-01", "to": "2026-08-01"})
        assert short.json()["truncated"] is False

    async def test_a_whole_leap_year_is_allowed(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        response = await _calendar(client, owner, **{"from": "2028-01-01", "to": "2028-12-31"})
        assert response.status_code == 200, response.text

    async def test_a_viewer_reads_it_and_anonymous_callers_do_not(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, role="viewer")
        ok = await _calendar(client, viewer, **{"from": "2026-01-01", "to": "2026-01-02"})
        assert ok.status_code == 200
        anonymous = await client.get("/v1/calendar", params={"from": "2026-01-01",
                                                             "to": "2026-01-02"})  # fmt: skip
        assert anonymous.status_code == 401


class TestEditorialCalendars:
    async def test_create_read_list_update_delete(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        created = await client.post(
            "/v1/editorial-calendars",
            json={"name": "Q2", "start_date": "2026-04-01", "end_date": "2026-06-30",
                  "entries": [{"date": "2026-04-25", "kind": "holiday", "title": "Liberation"}]},
            headers=owner.headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        calendar = created.json()
        assert created.headers["ETag"] == '"1"'
        path = f"/v1/editorial-calendars/{calendar['id']}"

        listed = await client.get("/v1/editorial-calendars", headers=owner.headers)
        assert [c["id"] for c in listed.json()["items"]] == [calendar["id"]]
        assert listed.json()["items"][0]["entries"][0]["title"] == "Liberation"

        changed = await client.patch(
            path, json={"entries": [{"date": "2026-05-01", "kind": "note", "title": "Plan"}]},
            headers={**owner.headers, "If-Match": '"1"'},
        )  # fmt: skip
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == 2 and changed.json()["name"] == "Q2"
        assert changed.json()["entries"] == [
            {"date": "2026-05-01", "end_date": None, "kind": "note", "title": "Plan", "note": None}
        ]

        stale = await client.patch(path, json={"name": "x", "version": 1}, headers=owner.headers)
        problem(stale, 409, "version_conflict")
        missing = await client.patch(path, json={"name": "x"}, headers=owner.headers)
        assert problem(missing, 422)["errors"][0]["field"] == "body.version"

        assert (await client.delete(path, headers=owner.headers)).status_code == 204
        problem(await client.get(path, headers=owner.headers), 404, "editorial_calendar_not_found")

    async def test_an_api_key_writes_one_with_no_person_behind_it(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        key = new_key(db, owner.account_id, ["content:write", "content:read"])
        created = await client.post("/v1/editorial-calendars", json={"name": "bot"},
                                    headers=key.headers)  # fmt: skip
        assert created.status_code == 201, created.text

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": ""}, "body.name"),
            ({"name": "a", "start_date": "2026-02-01", "end_date": "2026-01-01"}, "body.end_date"),
            ({"name": "a", "entries": [{"date": "2026-01-01", "kind": "party", "title": "t"}]},
             "body.entries.0.kind"),
            ({"name": "a", "entries": [{"date": "2026-01-02", "end_date": "2026-01-01",
                                        "kind": "theme", "title": "t"}]},
             "body.entries.0.end_date"),
        ],
    )  # fmt: skip
    async def test_bad_input_is_refused_naming_the_field(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, object], field: str
    ) -> None:
        response = await client.post("/v1/editorial-calendars", json=body, headers=owner.headers)
        assert field in [e["field"] for e in problem(response, 422)["errors"]]

    async def test_a_viewer_may_not_write(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, role="viewer")
        response = await client.post("/v1/editorial-calendars", json={"name": "x"},
                                     headers=viewer.headers)  # fmt: skip
        problem(response, 403)
