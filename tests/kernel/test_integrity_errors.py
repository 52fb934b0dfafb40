"""A violated constraint reaches the caller as a typed problem naming the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import insert

from markettina.content.models import Campaign
from markettina.identity.models import Account, User
from markettina.kernel.db import bootstrap
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.api import api_client, make_app


class NewUser(BaseModel):
    email: str


class NewCampaign(BaseModel):
    account_id: uuid.UUID
    name: str
    start_date: str | None = None
    end_date: str | None = None


def _router() -> APIRouter:
    """Routes that write through the real unit of work, as every service endpoint will."""
    router = APIRouter(prefix="/probe")

    @router.post("/users", status_code=201)
    async def create_user(body: NewUser, request: Request) -> dict[str, str]:
        async with unit_of_work(request.app.state.database.sessions, account_id=None) as s:
            await s.execute(insert(User).values(email=body.email))
        return {"email": body.email}

    @router.post("/accounts/{slug}", status_code=201)
    async def create_account(slug: str, request: Request) -> dict[str, str]:
        async with unit_of_work(request.app.state.database.sessions, account_id=None) as s:
            created = await s.execute(
                insert(Account).values(name=slug, slug=slug).returning(Account.id)
            )
            return {"id": str(created.scalar_one())}

    @router.post("/campaigns", status_code=201)
    async def create_campaign(
        body: NewCampaign,
        request: Request,
        acting: Annotated[uuid.UUID | None, Query(alias="as")] = None,
    ) -> dict[str, str]:
        sessions = request.app.state.database.sessions
        async with unit_of_work(sessions, account_id=acting or body.account_id) as s:
            await s.execute(
                insert(Campaign).values(
                    account_id=body.account_id,
                    name=body.name,
                    start_date=body.start_date,
                    end_date=body.end_date,
                )
            )
        return {"name": body.name}

    return router


@pytest.fixture
async def client(fresh_db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = make_app(fresh_db)
    app.include_router(_router())
    async with api_client(app) as http:
        yield http


async def test_unique_violation_is_409_naming_the_field(client: httpx.AsyncClient) -> None:
    assert (await client.post("/probe/users", json={"email": "ada@x.example"})).status_code == 201
    response = await client.post("/probe/users", json={"email": "ADA@x.example"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "conflict"
    assert [e["field"] for e in body["errors"]] == ["body.email"]


async def test_check_violation_is_422_naming_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/accounts/Not A Slug")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.slug"]


async def test_date_range_check_names_both_dates(client: httpx.AsyncClient) -> None:
    account = await _account(client, "dates")
    response = await client.post(
        "/probe/campaigns",
        json={"account_id": account, "name": "Q", "start_date": "2026-02-01",
              "end_date": "2026-01-01"},
    )  # fmt: skip
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.start_date", "body.end_date"}


async def test_unknown_account_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, fresh_db: DatabaseURLs
) -> None:
    response = await client.post(
        "/probe/campaigns", json={"account_id": str(uuid.uuid4()), "name": "Ghost"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    with bootstrap.connect(fresh_db.owner) as conn:
        assert conn.execute("SELECT count(*) FROM campaigns").fetchone() == (0,)


async def test_writing_for_another_account_is_403(client: httpx.AsyncClient) -> None:
    mine, theirs = await _account(client, "mine"), await _account(client, "theirs")
    response = await client.post(
        "/probe/campaigns", json={"account_id": theirs, "name": "X"}, params={"as": mine}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def _account(client: httpx.AsyncClient, slug: str) -> str:
    response = await client.post(f"/probe/accounts/{slug}")
    assert response.status_code == 201
    return str(response.json()["id"])
