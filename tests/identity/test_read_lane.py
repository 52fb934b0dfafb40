"""The read lane answers plain reads exactly as the routed pipeline does, and hands every
other request to it untouched, before anything is counted: each request below is sent to
an app with the lane and to one without, and the answers are compared."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from markettina.app import create_app
from markettina.identity import api_keys
from markettina.identity.plain_reads import LaneRoute, PlainRead
from markettina.identity.read_lane import ReadLane, _page_arguments
from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.pagination import encode_cursor
from markettina.kernel.rate_limits import PLAN_LIMITS
from markettina.kernel.webhooks.schemas import WebhookOut
from tests.support.api import api_client, suite_settings
from tests.support.checks import sql
from tests.support.identity import Member, new_account, new_key, new_member
from tests.support.webhooks import new_webhook

PATH = "/v1/api-keys"


@pytest.fixture(scope="module")
async def lane(db: DatabaseURLs) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(urls=db, settings=suite_settings())
    async with api_client(app) as http:
        yield app, http


@pytest.fixture(scope="module")
async def routed(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    settings = suite_settings().model_copy(update={"read_lane": False})
    async with api_client(create_app(urls=db, settings=settings)) as http:
        yield http


LOOKED_AT: Counter[int] = Counter()  # connections the lane took, by app


@pytest.fixture(scope="module", autouse=True)
def _count_looks() -> Iterator[None]:
    answer = ReadLane._answer

    async def counted(self: ReadLane, scope: Scope, route: LaneRoute) -> bytes | None:
        pool = scope["app"].state.read_pool
        before = pool.checkouts
        try:
            return await answer(self, scope, route)
        finally:
            LOOKED_AT[id(scope["app"])] += pool.checkouts - before

    ReadLane._answer = counted  # type: ignore[method-assign]
    yield
    ReadLane._answer = answer  # type: ignore[method-assign]


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    member = new_member(db, new_account(db), "owner")
    for _ in range(3):
        new_key(db, member.account_id, ["content:read"])
    return member


def lane_reads(app: FastAPI) -> int:
    """Connections the lane has asked its pool for: one per request it looked at (the
    pool's own count includes the routes that take a ``Connection``)."""
    return LOOKED_AT[id(app)]


def _comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    body = response.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    headers = {
        name: value
        for name, value in response.headers.items()
        if name in {"content-type", "content-length", "ratelimit-limit", "retry-after"}
    }
    if "request_id" in response.text:
        headers.pop("content-length", None)
    return response.status_code, body, headers


async def both(
    lane: tuple[FastAPI, httpx.AsyncClient],
    routed: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
) -> tuple[httpx.Response, int]:
    """The lane's answer (and how many requests it looked at), once it is known to equal
    the routed pipeline's."""
    app, client = lane
    before = lane_reads(app)
    answered = await client.get(url, headers=headers)
    looked_at = lane_reads(app) - before
    expected = await routed.get(url, headers=headers)
    assert _comparable(answered) == _comparable(expected), answered.text
    return answered, looked_at


class TestPlainReads:
    async def test_a_page_and_the_next_are_the_routed_pipeline_s(
        self, lane: tuple[FastAPI, httpx.AsyncClient], routed: httpx.AsyncClient, owner: Member
    ) -> None:
        first, looked_at = await both(lane, routed, f"{PATH}?limit=2", owner.headers)
        assert first.status_code == 200 and looked_at == 1
        assert len(first.json()["items"]) == 2
        cursor = first.json()["next_cursor"]
        rest, looked_at = await both(lane, routed, f"{PATH}?limit=2&cursor={cursor}", owner.headers)
        assert len(rest.json()["items"]) == 1 and looked_at == 1
        assert rest.json()["next_cursor"] is None

    async def test_both_paths_label_the_route_as_the_router_declares_it(
        self, lane: tuple[FastAPI, httpx.AsyncClient], routed: httpx.AsyncClient, owner: Member
    ) -> None:
        """One Prometheus series per route, whichever path answered."""
        _, answered = await both(lane, routed, PATH, owner.headers)
        assert answered == 1
        series = 'markettina_http_requests_total{method="GET",route="/v1/api-keys",status="200"}'
        for client in (lane[1], routed):
            assert series in (await client.get("/metrics")).text

    async def test_every_answer_is_counted_once(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        _, client = lane
        limit = PLAN_LIMITS["free"].per_minute
        for remaining in (limit - 1, limit - 2):
            response = await client.get(PATH, headers=owner.headers)
            assert response.headers["RateLimit-Remaining"] == str(remaining)
        assert response.headers["RateLimit-Limit"] == str(limit)
        assert response.headers["x-request-id"]
        assert counts(db, owner.account_id) == 2

    async def test_a_member_of_the_agency_reads_a_sub_account(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        client_account = new_account(db, parent=owner.account_id)
        new_key(db, client_account, ["content:read"])
        headers = {**owner.headers, "X-Account-Id": str(client_account)}
        response, looked_at = await both(lane, routed, PATH, headers)
        assert response.status_code == 200 and looked_at == 1
        assert len(response.json()["items"]) == 1


class TestApiKeys:
    @pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
    async def test_a_key_reads_its_accounts_list_and_its_use_is_recorded(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
        header: str,
    ) -> None:
        key = new_key(db, owner.account_id, ["api_keys:read"])
        headers = key.headers if header == "Authorization" else {"X-API-Key": key.key}
        response, looked_at = await both(lane, routed, f"{PATH}?limit=3", headers)
        assert response.status_code == 200 and looked_at == 1
        [(used_at,)] = sql(db, "SELECT last_used_at FROM api_keys WHERE id = %s", key.key_id)
        assert used_at is not None
        assert counts(db, owner.account_id) == 2  # the lane's read, then the routed one's
        listed = {item["id"]: item for item in response.json()["items"]}
        assert listed[str(key.key_id)]["last_used_at"] is not None

    async def test_refused_keys_are_answered_by_the_routed_pipeline(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        unscoped = new_key(db, owner.account_id, ["content:read"])
        response, looked_at = await both(lane, routed, PATH, unscoped.headers)
        assert response.status_code == 403 and looked_at == 1
        wrong = {"X-API-Key": unscoped.key[:-4] + "xxxx"}
        response, looked_at = await both(lane, routed, PATH, wrong)
        assert response.status_code == 401 and looked_at == 1
        revoked = new_key(db, owner.account_id, ["api_keys:read"])
        sql(db, "UPDATE api_keys SET revoked_at = now() WHERE id = %s", revoked.key_id)
        response, looked_at = await both(lane, routed, PATH, revoked.headers)
        assert response.status_code == 401 and looked_at == 1
        expired = new_key(db, owner.account_id, ["api_keys:read"])
        sql(db, "UPDATE api_keys SET expires_at = now() WHERE id = %s", expired.key_id)
        response, looked_at = await both(lane, routed, PATH, expired.headers)
        assert response.status_code == 401 and looked_at == 1
        good = new_key(db, owner.account_id, ["api_keys:read"])
        sql(db, "UPDATE accounts SET suspended_at = now() WHERE id = %s", owner.account_id)
        response, looked_at = await both(lane, routed, PATH, good.headers)
        assert response.status_code == 403 and looked_at == 1
        # neither path counts a request refused before its admission (the missing scope's
        # 403 included: authorization comes first)
        assert counts(db, owner.account_id) == 0
        rows = sql(db, "SELECT count(*) FROM api_keys WHERE last_used_at IS NOT NULL "
                       "AND account_id = %s", owner.account_id)  # fmt: skip
        assert rows == [(0,)]  # a refused key's use is not recorded either


class TestHandedToTheRoutedPipeline:
    @pytest.mark.parametrize(
        ("query", "field"),
        [("limit=0", "query.limit"), ("limit=201", "query.limit"), ("limit=ten", "query.limit"),
         ("cursor=bm90LWEtY3Vyc29y", "query.cursor"), ("limit=2&limit=3", None)],
    )  # fmt: skip
    async def test_odd_query_strings(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
        query: str,
        field: str | None,
    ) -> None:
        response, looked_at = await both(lane, routed, f"{PATH}?{query}", owner.headers)
        assert looked_at == 0
        if field is not None:
            assert response.status_code == 422
            assert [e["field"] for e in response.json()["errors"]] == [field]

    async def test_anonymous_and_tampered_callers(
        self, lane: tuple[FastAPI, httpx.AsyncClient], routed: httpx.AsyncClient
    ) -> None:
        anonymous, looked_at = await both(lane, routed, PATH, {})
        assert anonymous.status_code == 401 and looked_at == 0
        # the pipeline refuses these before any statement, on the lane's connection
        tampered, _ = await both(lane, routed, PATH, {"Authorization": "Bearer x.y.z"})
        assert tampered.status_code == 401
        malformed, _ = await both(lane, routed, PATH, {"X-API-Key": "not-a-key"})
        assert malformed.status_code == 401

    async def test_a_key_acting_for_a_sub_account_and_two_credentials(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        """A key acting for a sub-account takes the same pipeline on both paths (its use
        recorded in its own account); two credentials go to the router."""
        client_account = new_account(db, parent=owner.account_id)
        key = new_key(db, owner.account_id, ["api_keys:read"])
        for_client = {**key.headers, "X-Account-Id": str(client_account)}
        response, looked_at = await both(lane, routed, PATH, for_client)
        assert response.status_code == 200 and looked_at == 1
        assert sql(db, "SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = %s",
                   key.key_id) == [(True,)]  # fmt: skip
        two = {**owner.headers, "X-API-Key": key.key}
        response, looked_at = await both(lane, routed, PATH, two)
        assert response.status_code == 200 and looked_at == 0

    async def test_refusals_after_the_look_up(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        elsewhere = {**owner.headers, "X-Account-Id": str(new_account(db))}
        response, looked_at = await both(lane, routed, PATH, elsewhere)
        assert response.status_code == 404 and looked_at == 1
        unknown = {**owner.headers, "X-Account-Id": str(uuid.uuid4())}
        assert (await both(lane, routed, PATH, unknown))[0].status_code == 404
        with bootstrap.connect(db.owner) as conn:
            conn.execute("UPDATE accounts SET suspended_at = now() WHERE id = %s",
                         (owner.account_id,))  # fmt: skip
        response, looked_at = await both(lane, routed, PATH, owner.headers)
        assert response.status_code == 403 and looked_at == 1
        assert response.json()["code"] == "account_suspended"
        assert counts(db, owner.account_id) == 0  # neither path counts a refused caller

    async def test_a_full_rate_limit_is_answered_by_the_routed_pipeline(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        with bootstrap.connect(db.owner) as conn:
            conn.execute(
                "INSERT INTO api_rate_limits (account_id, endpoint, limit_per_minute, "
                "reset_minute_at) VALUES (%s, 'api-keys', 2, now() + interval '1 hour')",
                (owner.account_id,),
            )
        _, client = lane
        answers = await asyncio.gather(*(client.get(PATH, headers=owner.headers) for _ in range(5)))
        assert sorted(r.status_code for r in answers) == [200, 200, 429, 429, 429]
        refused, _ = await both(lane, routed, PATH, owner.headers)
        assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
        assert counts(db, owner.account_id) == 2

    async def test_a_permission_the_actor_lacks(
        self, lane: tuple[FastAPI, httpx.AsyncClient], db: DatabaseURLs, owner: Member
    ) -> None:
        """A plain read needing more than a viewer holds goes to the router, uncounted."""
        app, _ = lane
        viewer = new_member(db, owner.account_id, "viewer")
        handed: list[str] = []

        async def router(scope: Scope, receive: Receive, send: Send) -> None:
            handed.append(scope["path"])

        read = PlainRead(api_keys.LISTED_PAGE, api_keys.listed_of)
        manage = LaneRoute(PATH, "api_keys:manage", read, frozenset())
        strict = ReadLane(router, routes={PATH: manage})
        for member, expected in ((viewer, [PATH]), (owner, [])):
            handed.clear()
            sent: list[dict[str, Any]] = []

            async def send(message: Any) -> None:
                sent.append(message)  # noqa: B023

            await strict(_scope(app, member), _no_body, send)
            assert handed == expected
            assert bool(sent) == (not expected)
        assert counts(db, owner.account_id) == 1  # the owner's read only


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope(app: FastAPI, member: Member) -> dict[str, Any]:
    return {
        "type": "http", "method": "GET", "path": PATH, "query_string": b"",
        "headers": [(b"authorization", member.headers["Authorization"].encode())],
        "app": app, "state": {},
    }  # fmt: skip


def counts(urls: DatabaseURLs, account: uuid.UUID) -> int:
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(current_minute_count), 0) FROM api_rate_limits "
            "WHERE account_id = %s",
            (account,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_cursor_the_lane_reads_is_the_router_s() -> None:
    cursor = encode_cursor("2026-11-26T01:00:00+00:00", uuid.uuid4())
    assert _page_arguments(f"cursor={cursor}".encode()) == (50, cursor)
    assert _page_arguments(b"limit=200&other=1") == (200, None)
    assert _page_arguments(b"limit=0200") is None


class TestWebhooks:
    """Another context's list through the same lane: the kernel's webhook endpoints."""

    async def test_pages_equal_the_router_s_and_the_response_model_s(
        self,
        lane: tuple[FastAPI, httpx.AsyncClient],
        routed: httpx.AsyncClient,
        db: DatabaseURLs,
        owner: Member,
    ) -> None:
        hooks = [new_webhook(db, owner.account_id) for _ in range(3)]
        new_webhook(db, owner.account_id, deleted=True)
        sql(db, "UPDATE webhooks SET previous_secret_encrypted = 'x', "
                "previous_secret_expires_at = now() - interval '1 minute' WHERE id = %s",
            hooks[0])  # fmt: skip
        sql(db, "UPDATE webhooks SET previous_secret_encrypted = 'x', "
                "previous_secret_expires_at = now() + interval '1 hour' WHERE id = %s",
            hooks[1])  # fmt: skip
        first, looked_at = await both(lane, routed, "/v1/webhooks?limit=2", owner.headers)
        assert first.status_code == 200 and looked_at == 1
        cursor = first.json()["next_cursor"]
        rest, looked_at = await both(
            lane, routed, f"/v1/webhooks?limit=2&cursor={cursor}", owner.headers
        )
        assert looked_at == 1 and rest.json()["next_cursor"] is None
        items = first.json()["items"] + rest.json()["items"]
        assert [item["id"] for item in items] == [str(hook) for hook in reversed(hooks)]
        with bootstrap.connect(db.owner) as conn:
            rows = conn.execute(
                "SELECT * FROM webhooks WHERE account_id = %s AND deleted_at IS NULL "
                "ORDER BY created_at DESC, id DESC",
                (owner.account_id,),
                binary=False,
            )
            columns = [c.name for c in rows.description or ()]
            modelled = [
                WebhookOut.model_validate(dict(zip(columns, row, strict=True))).model_dump(
                    mode="json"
                )
                for row in rows.fetchall()
            ]
        assert [_instants(item) for item in items] == [_instants(item) for item in modelled]
        expiring = {item["id"]: item["previous_secret_expires_at"] for item in items}
        assert expiring[str(hooks[0])] is None and expiring[str(hooks[1])] is not None


def _instants(item: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as instants (the model writes whole seconds without a fraction)."""
    return {
        name: dt.datetime.fromisoformat(value) if name.endswith("_at") and value else value
        for name, value in item.items()
    }
