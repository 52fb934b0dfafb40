"""Bad input anywhere gets a 4xx problem naming what is wrong, never a 500: every route of
the OpenAPI document is sent malformed bodies, ids, queries and headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.identity.test_cross_tenant_matrix import SPEC
from tests.support.identity import Member, new_account, new_member

BAD_BODIES: list[Any] = [None, [], "text", 12, {"unexpected": True}, {"email": ["x"], "name": 5}]
BAD_ID = "not-an-id"
ROUTES = sorted(
    (path, method)
    for path, operations in SPEC["paths"].items()
    if path.startswith("/v1/")
    for method in operations
)


@pytest.fixture(scope="module")
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


def _url(path: str) -> str:
    for part in [p for p in path.split("/") if p.startswith("{")]:
        path = path.replace(part, BAD_ID)
    return path


@pytest.mark.parametrize(("path", "method"), ROUTES)
async def test_malformed_requests_are_refused_cleanly(
    client: httpx.AsyncClient, owner: Member, path: str, method: str
) -> None:
    attempts: list[dict[str, Any]] = [{"json": body} for body in BAD_BODIES] + [
        {"content": b"{not json", "headers_extra": {"content-type": "application/json"}},
        {"params": {"limit": "-5", "cursor": "%%%"}},
        {"headers_extra": {"X-Account-Id": "nope"}},
    ]
    for attempt in attempts:
        headers = {**owner.headers, **attempt.pop("headers_extra", {})}
        response = await client.request(method.upper(), _url(path), headers=headers, **attempt)
        assert response.status_code < 500, (method, path, attempt, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            body = response.json()
            assert body["code"] and body["detail"]
            if response.status_code == 422 and body["code"] == "validation_failed":
                assert body.get("errors"), (method, path, body)


def test_docs_api_lists_every_route() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in SPEC["paths"].items()
        for method in operations
        if f"`{method.upper()} {path}`" not in text
    ]
    assert missing == [], f"add these routes to docs/api.md: {missing}"
