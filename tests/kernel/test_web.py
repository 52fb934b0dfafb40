"""The HTTP surface every router shares: health, metrics, request ids, problem+json."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Query

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import Conflict, FieldError, ValidationFailed
from tests.support.api import api_client, make_app
from tests.support.databases import SuiteDatabases

PROBLEM = "application/problem+json"


def _probe_router() -> APIRouter:
    """Routes that exercise each failure path of the error handling."""
    router = APIRouter(prefix="/probe")

    @router.get("/items")
    async def items(limit: int = Query(ge=1, le=200)) -> dict[str, int]:
        return {"limit": limit}

    @router.post("/conflict")
    async def conflict() -> None:
        raise Conflict("the name is taken")

    @router.post("/invalid")
    async def invalid() -> None:
        raise ValidationFailed("bad slug", errors=[FieldError("body.slug", "must be lowercase")])

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    return router


@pytest.fixture
async def client(shared_db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = make_app(shared_db)
    app.include_router(_probe_router())
    async with api_client(app) as http:
        yield http


class TestHealth:
    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_at_head(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/readyz")
        assert response.status_code == 200, response.text
        checks = response.json()["checks"]
        assert checks["database"]["ok"] and checks["migrations"]["ok"]
        assert checks["migrations"]["current"] == checks["migrations"]["head"] != []

    async def test_readyz_not_ready_when_schema_is_behind(self, databases: SuiteDatabases) -> None:
        urls = databases.empty("unmigrated")
        try:
            async with api_client(make_app(urls)) as http:
                response = await http.get("/readyz")
        finally:
            databases.drop(urls)
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["migrations"]["ok"] is False

    async def test_readyz_not_ready_when_database_unreachable(
        self, shared_db: DatabaseURLs
    ) -> None:
        gone = shared_db.with_database("mkt_no_such_database")
        async with api_client(make_app(gone)) as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"]["ok"] is False

    async def test_metrics_count_requests_by_route(self, client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        response = await client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert (
            'markettina_http_requests_total{method="GET",route="/healthz",status="200"} 1.0'
            in response.text
        )
        assert "markettina_http_request_duration_seconds_bucket" in response.text


class TestOpenAPI:
    async def test_schema_and_docs(self, client: httpx.AsyncClient) -> None:
        schema = (await client.get("/openapi.json")).json()
        assert schema["info"]["title"] == "Markettina API"
        assert "/readyz" in schema["paths"]
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


class TestRequestId:
    async def test_generated_when_absent(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert len(response.headers["x-request-id"]) == 32

    async def test_echoed_when_given(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    async def test_replaced_when_unsafe(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz", headers={"X-Request-ID": "a b\tc" * 50})
        assert response.headers["x-request-id"] != "a b\tc" * 50
        assert len(response.headers["x-request-id"]) == 32


class TestProblems:
    async def _problem(self, response: httpx.Response, status: int, code: str) -> dict:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["status"] == status and body["code"] == code
        assert body["type"].endswith(code) and body["title"] and body["detail"]
        assert body["request_id"] == response.headers["x-request-id"]
        return body

    async def test_404(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(await client.get("/nowhere"), 404, "not_found")
        assert body["instance"] == "/nowhere"

    async def test_405(self, client: httpx.AsyncClient) -> None:
        await self._problem(await client.delete("/healthz"), 405, "method_not_allowed")

    async def test_422_names_the_field(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(
            await client.get("/probe/items", params={"limit": 500}), 422, "validation_failed"
        )
        assert [e["field"] for e in body["errors"]] == ["query.limit"]

    async def test_422_when_missing(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(await client.get("/probe/items"), 422, "validation_failed")
        assert body["errors"][0]["field"] == "query.limit"
        assert body["errors"][0]["code"] == "missing"

    async def test_domain_conflict(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(await client.post("/probe/conflict"), 409, "conflict")
        assert body["detail"] == "the name is taken"

    async def test_domain_validation_error_carries_fields(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(await client.post("/probe/invalid"), 422, "validation_failed")
        assert body["errors"] == [
            {"field": "body.slug", "message": "must be lowercase", "code": "invalid"}
        ]

    async def test_500_hides_internals(self, client: httpx.AsyncClient) -> None:
        body = await self._problem(await client.get("/probe/crash"), 500, "internal_error")
        assert "secret" not in body["detail"]
