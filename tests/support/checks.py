"""Small assertions and look-ups the API tests share."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs


def sql(urls: DatabaseURLs, statement: str, *params: object) -> list[tuple[Any, ...]]:
    """One statement as the schema owner (it sees every account), committed."""
    with bootstrap.connect(urls.owner) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a problem+json with this status (and code); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def acting(account_id: uuid.UUID, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "X-Account-Id": str(account_id)}
