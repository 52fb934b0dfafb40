"""Routes that run only Core statements take the request's transaction as a psycopg
connection (``Connection``), with no ORM session; only reads are guarded so (an
Idempotency-Key's claim needs a session)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import event

from markettina.app import create_app
from markettina.identity.dependencies import _connection
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client, suite_settings
from tests.support.identity import new_account, new_key, new_member


@pytest.fixture(scope="module")
async def routed(db: DatabaseURLs) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = suite_settings().model_copy(update={"read_lane": False})
    app = create_app(urls=db, settings=settings)
    async with api_client(app) as http:
        yield app, http


def _takes_a_connection(route: Any) -> bool:
    pending = [route.dependant]
    while pending:
        current = pending.pop()
        if current.call is _connection:
            return True
        pending.extend(current.dependencies)
    return False


async def test_a_routed_list_takes_no_orm_session(
    routed: tuple[FastAPI, httpx.AsyncClient], db: DatabaseURLs
) -> None:
    app, http = routed
    owner = new_member(db, new_account(db), "owner")
    new_key(db, owner.account_id, ["content:read"])
    sessions: list[Any] = []
    pool = app.state.database.engine.sync_engine.pool

    def checked_out(*_: Any) -> None:
        sessions.append(1)

    event.listen(pool, "checkout", checked_out)
    try:
        before = app.state.read_pool.checkouts
        for path in ("/v1/api-keys", "/v1/webhooks"):
            response = await http.get(path, headers=owner.headers)
            assert response.status_code == 200, response.text
        taken = app.state.read_pool.checkouts - before
    finally:
        event.remove(pool, "checkout", checked_out)
    assert (taken, sessions) == (2, [])


async def test_a_refused_request_on_a_connection_returns_it_clean(
    routed: tuple[FastAPI, httpx.AsyncClient], db: DatabaseURLs
) -> None:
    app, http = routed
    member = new_member(db, new_account(db), "viewer")
    unscoped = new_key(db, member.account_id, ["content:read"])
    response = await http.get("/v1/api-keys", headers=unscoped.headers)
    assert response.status_code == 403
    response = await http.get("/v1/api-keys", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    async with app.state.read_pool.connection() as connection:
        assert connection.info.transaction_status.name == "IDLE"
        assert (await (await connection.execute("SELECT 1")).fetchone()) == (1,)


def test_only_reads_are_guarded_on_a_connection(routed: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, _ = routed
    guarded = {
        (method, route.path_format)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and _takes_a_connection(route)
        for method in route.methods or ()
    }
    assert guarded >= {("GET", "/v1/api-keys"), ("GET", "/v1/webhooks")}
    assert {method for method, _ in guarded} == {"GET"}
