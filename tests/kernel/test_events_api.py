"""GET /v1/events: the acting account's events, newest first, filtered and paged."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _event(
    db: DatabaseURLs, account: uuid.UUID, event_type: str, minutes: int, *,
    aggregate: tuple[str, str] = ("campaign", "c-1"), data: dict[str, object] | None = None,
) -> uuid.UUID:  # fmt: skip
    rows = sql(
        db,
        "INSERT INTO domain_events (account_id, aggregate_type, aggregate_id, aggregate_version,"
        " event_type, event_version, event_data, metadata, created_at)"
        " VALUES (%s, %s, %s, 1, %s, 2, %s, '{\"source\": \"test\"}', %s) RETURNING id",
        account, aggregate[0], aggregate[1], event_type, json.dumps(data or {"n": minutes}),
        T0 + dt.timedelta(minutes=minutes),
    )  # fmt: skip
    return rows[0][0]


@pytest.fixture(scope="module")
def owner(db: DatabaseURLs) -> Member:
    account = new_account(db)
    return new_member(db, account, "owner")


@pytest.fixture(scope="module")
def events(db: DatabaseURLs, owner: Member) -> dict[str, uuid.UUID]:
    account = owner.account_id
    made = {
        "created": _event(db, account, "campaign.created", 0),
        "updated": _event(db, account, "campaign.updated", 1),
        "lead": _event(db, account, "lead.created", 2, aggregate=("lead", "7")),
        "deleted": _event(db, account, "campaign.deleted", 3, aggregate=("campaign", "c-2")),
        "odd": _event(db, account, "campaign_x.created", 4, aggregate=("campaign_x", "1")),
    }
    # another account's events are never listed
    _event(db, new_account(db), "campaign.created", 5)
    return made


async def _ids(client: httpx.AsyncClient, owner: Member, **params: str) -> list[uuid.UUID]:
    response = await client.get("/v1/events", params=params, headers=owner.headers)
    assert response.status_code == 200, response.text
    return [uuid.UUID(item["id"]) for item in response.json()["items"]]


async def test_lists_the_accounts_events_newest_first_with_their_fields(
    client: httpx.AsyncClient, owner: Member, events: dict[str, uuid.UUID]
) -> None:
    response = await client.get("/v1/events", headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [uuid.UUID(i["id"]) for i in body["items"]] == [
        events[k] for k in ("odd", "deleted", "lead", "updated", "created")
    ]
    assert body["next_cursor"] is None
    first = body["items"][-1]
    assert first == {
        "id": str(events["created"]), "type": "campaign.created", "version": 2,
        "aggregate_type": "campaign", "aggregate_id": "c-1", "aggregate_version": 1,
        "data": {"n": 0}, "metadata": {"source": "test"},
        "created_at": "2026-03-01T12:00:00Z", "processed_at": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "campaign.updated"}, ["updated"]),
        ({"type": "campaign.*"}, ["deleted", "updated", "created"]),
        ({"type": "*.created"}, ["odd", "lead", "created"]),
        ({"type": "*"}, ["odd", "deleted", "lead", "updated", "created"]),
        ({"type": "campaign_*"}, ["odd"]),  # _ is a plain character, not LIKE's wildcard
        ({"aggregate_type": "lead"}, ["lead"]),
        ({"aggregate_type": "campaign", "aggregate_id": "c-1"}, ["updated", "created"]),
        ({"since": "2026-03-01T12:01:00Z"}, ["odd", "deleted", "lead", "updated"]),
        ({"until": "2026-03-01T12:02:00Z"}, ["updated", "created"]),
        ({"since": "2026-03-01T13:01:00+01:00", "until": "2026-03-01T12:03:00Z"},
         ["lead", "updated"]),
    ],
)  # fmt: skip
async def test_filters(
    client: httpx.AsyncClient,
    owner: Member,
    events: dict[str, uuid.UUID],
    params: dict[str, str],
    expected: list[str],
) -> None:
    assert await _ids(client, owner, **params) == [events[k] for k in expected]


async def test_pages_follow_the_cursor_without_repeats(
    client: httpx.AsyncClient, owner: Member, events: dict[str, uuid.UUID]
) -> None:
    seen: list[uuid.UUID] = []
    params: dict[str, str] = {"limit": "2", "type": "*"}
    while True:
        response = await client.get("/v1/events", params=params, headers=owner.headers)
        body = response.json()
        assert len(body["items"]) <= 2
        seen += [uuid.UUID(item["id"]) for item in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [events[k] for k in ("odd", "deleted", "lead", "updated", "created")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "query.since"),
        ({"since": "2026-03-01T12:00:00"}, "query.since"),  # no offset
        ({"until": "2026-13-01T00:00:00Z"}, "query.until"),
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "query.until"),
        ({"type": "Campaign Created"}, "query.type"),
        ({"type": "x" * 201}, "query.type"),
        ({"limit": "201"}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, owner: Member, params: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/events", params=params, headers=owner.headers)
    assert field in fields(problem(response, 422))


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("editor", 200), ("viewer", 403)])
async def test_who_may_read_the_event_log(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, role: str, status: int
) -> None:
    member = new_member(db, owner.account_id, role)
    response = await client.get("/v1/events", headers=member.headers)
    assert response.status_code == status, response.text


async def test_readyz_warns_of_failing_and_waiting_events(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, events: dict[str, uuid.UUID]
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    warnings = response.json().get("warnings", {})
    # this module's events date from March and no relay runs here
    assert warnings["events_waiting"]["count"] >= len(events)
    assert "events_failing" not in warnings

    failing = _event(db, owner.account_id, "lead.updated", 9, aggregate=("lead", "8"))
    sql(db, "UPDATE domain_events SET attempts = 10, next_attempt_at = now() + interval '1 hour',"
            " last_error = 'boom' WHERE id = %s", failing)  # fmt: skip
    response = await client.get("/readyz")
    assert response.status_code == 200  # a warning, not a reason to leave the rotation
    assert response.json()["warnings"]["events_failing"]["count"] == 1
