"""The OpenAPI document describes what the server answers: problems, security, headers;
and a 405 names every method of its path."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import PROBLEM_CONTENT_TYPE
from tests.support.checks import problem
from tests.support.identity import new_account, new_member

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/openapi.json")).json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


async def test_every_error_is_a_problem(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail", "code"]
    for label, operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}, (
                    label,
                    status,
                )


async def test_problems_follow_from_the_route(document: dict[str, Any]) -> None:
    operations = _operations(document)

    def errors(label: str) -> set[int]:
        return {int(s) for s in operations[label]["responses"] if int(s) >= 400}

    assert errors("GET /healthz") == set()
    assert errors("GET /readyz") == {503}
    # a person or a key, an unsafe method with a body and a path parameter
    assert errors("PATCH /v1/webhooks/{webhook_id}") == {400, 401, 403, 404, 409, 422, 429}
    assert errors("GET /v1/account") == {401, 403, 404, 422, 429}
    assert errors("POST /v1/auth/login") == {400, 401, 422, 429}  # address-limited
    assert errors("GET /v1/staff/members") == {401, 403, 422}  # superadmins only
    assert errors("POST /v1/billing/checkout") >= {503}  # declared by the route
    assert "Retry-After" in operations["GET /v1/account"]["responses"]["429"]["headers"]


async def test_credentials_are_security_schemes(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert (schemes["apiKeyAuth"]["in"], schemes["apiKeyAuth"]["name"]) == (
        "header",
        "Authorization",
    )
    assert schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert schemes["staffSession"]["scheme"] == "bearer"
    operations = _operations(document)
    assert operations["GET /v1/api-keys"]["security"] == [
        {"bearerAuth": []},
        {"apiKeyAuth": []},
        {"apiKeyHeader": []},
    ]
    assert operations["GET /v1/staff/accounts"]["security"] == [{"staffSession": []}]
    assert "security" not in operations["POST /v1/auth/login"]
    for label, operation in operations.items():
        headers = {p["name"].lower(): p for p in operation.get("parameters", []) if "name" in p}
        assert "authorization" not in headers and "x-api-key" not in headers, label
        for parameter in headers.values():
            assert "anyOf" not in parameter["schema"], (label, parameter)  # never null
    account_header = {p["name"]: p for p in operations["GET /v1/account"]["parameters"]}
    assert account_header["X-Account-Id"]["schema"] == {"type": "string", "format": "uuid"}


async def test_if_match_is_documented_and_parsed_alike(
    document: dict[str, Any], client: httpx.AsyncClient, db: DatabaseURLs
) -> None:
    parameters = _operations(document)["PATCH /v1/account"]["parameters"]
    [if_match] = [p for p in parameters if p.get("name") == "If-Match"]
    grammar = re.compile(if_match["schema"]["pattern"])
    owner = new_member(db, new_account(db))
    for form in ['"{}"', 'W/"{}"', "{}"]:
        version = (await client.get("/v1/account", headers=owner.headers)).json()["version"]
        sent = form.format(version)
        assert grammar.match(sent)
        answer = await client.patch(
            "/v1/account", json={"name": "Renamed"}, headers={**owner.headers, "If-Match": sent}
        )
        assert answer.status_code == 200, answer.text
    for refused in ['""1""', 'W/W/"1"', "2147483648", "x", '"1']:
        assert not grammar.match(refused)
        answer = await client.patch(
            "/v1/account", json={"name": "Renamed"}, headers={**owner.headers, "If-Match": refused}
        )
        assert problem(answer, 422)["errors"][0]["field"] == "header.If-Match"


async def test_405_allows_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    answer = await client.put("/v1/me")
    problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, PATCH"
    answer = await client.delete("/v1/api-keys")
    assert answer.headers["allow"] == "GET, POST"
