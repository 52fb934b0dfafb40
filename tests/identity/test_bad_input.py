"""Bad input anywhere gets a 4xx problem naming what is wrong, never a 500: every route of
the OpenAPI document is sent malformed bodies, ids, queries and headers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from tests.identity.test_cross_tenant_matrix import SPEC
from tests.support.checks import fields, problem
from tests.support.identity import Member, new_account, new_member
from tests.support.staff import new_staff_session

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


# --- the input rules (kernel.web.inputs, kernel.web.nul_guard) --------------------------------

NUL = "\x00"
SOME_ID = "00000000-0000-4000-8000-000000000000"
PASSWORD = "a long enough password"
WEBHOOK = {"name": "hook", "url": "https://example.com/hook", "events": ["*"]}
# (who, method, path, body, the field named): text every one of which reached PostgreSQL
NUL_BODIES = [
    ("anyone", "POST", "/v1/auth/register",
     {"email": "new@example.com", "password": PASSWORD, "full_name": f"A{NUL}"}, "body.full_name"),
    ("anyone", "POST", "/v1/auth/login", {"email": f"a{NUL}@example.com", "password": "x"},
     "body.email"),
    ("anyone", "POST", "/v1/auth/password-reset", {"email": f"a{NUL}@example.com"}, "body.email"),
    ("owner", "PATCH", "/v1/me", {"full_name": f"A{NUL}"}, "body.full_name"),
    ("owner", "PATCH", "/v1/account", {"name": f"A{NUL}", "version": 1}, "body.name"),
    ("owner", "PATCH", "/v1/account", {"settings": {"a": {"b": ["ok", f"x{NUL}"]}}, "version": 1},
     "body.settings.a.b.1"),
    ("owner", "PUT", "/v1/billing/details", {"name": f"A{NUL}"}, "body.name"),
    ("owner", "POST", "/v1/account/sub-accounts", {"name": f"A{NUL}"}, "body.name"),
    ("owner", "POST", "/v1/api-keys", {"name": f"k{NUL}", "scopes": ["content:read"]},
     "body.name"),
    ("owner", "POST", "/v1/webhooks", {**WEBHOOK, "description": f"d{NUL}"}, "body.description"),
    ("staff", "PUT", "/v1/staff/feature-flags/nul_flag", {"enabled": True, "description": NUL},
     "body.description"),
    ("staff", "PUT", "/v1/staff/feature-flags/nul_flag",
     {"enabled": True, "config": {"deep": [{"x": NUL}]}}, "body.config.deep.0.x"),
    ("staff", "POST", "/v1/staff/billing/promo-codes",
     {"code": "SPRING", "discount_type": "percent", "discount_value": 10, "internal_notes": NUL},
     "body.internal_notes"),
]  # fmt: skip
# (who, method, URL, the parameter named)
NUL_PARAMETERS = [
    ("owner", "GET", "/v1/events?aggregate_type=a%00", "query.aggregate_type"),
    ("owner", "GET", "/v1/jobs?job_type=a%00", "query.job_type"),
    ("owner", "GET", "/v1/api-keys?cursor=%00", "query.cursor"),  # a read-lane route
    ("owner", "GET", "/v1/account?unknown=%00", "query.unknown"),
    ("staff", "GET", "/v1/staff/audit-logs?target_id=a%00", "query.target_id"),
    ("staff", "GET", "/v1/staff/accounts?query=a%00", "query.query"),
    ("owner", "DELETE", "/v1/api-keys/a%00b", "path.key_id"),
    ("staff", "PUT", "/v1/staff/feature-flags/a%00", "path.name"),
    ("staff", "GET", "/v1/no-such-route/%00", "path"),
]
# (who, method, path, body or query, the field named): numbers, flags and times
OUT_OF_TYPE = [
    ("owner", "POST", "/v1/account/permissions",
     {"user_id": 2**31, "permission": "content:read", "resource_type": "campaign"},
     "body.user_id"),
    ("owner", "GET", "/v1/account/permissions", {"user_id": str(2**31)}, "query.user_id"),
    ("owner", "PATCH", f"/v1/account/members/{2**31}", {"role": "viewer"}, "path.user_id"),
    ("owner", "PATCH", "/v1/account", {"version": 2**31}, "body.version"),
    ("owner", "POST", "/v1/webhooks", {**WEBHOOK, "retry_count": "3"}, "body.retry_count"),
    ("owner", "POST", "/v1/webhooks", {**WEBHOOK, "retry_count": True}, "body.retry_count"),
    ("owner", "POST", "/v1/webhooks", {**WEBHOOK, "retry_delay_seconds": 60.5},
     "body.retry_delay_seconds"),
    ("staff", "PUT", "/v1/staff/feature-flags/typed", {"enabled": True, "rollout_percent": False},
     "body.rollout_percent"),
    ("staff", "PUT", "/v1/staff/feature-flags/typed", {"enabled": 1}, "body.enabled"),
    ("staff", "PATCH", f"/v1/staff/billing/packages/{SOME_ID}", {"is_active": 0},
     "body.is_active"),
    ("owner", "PATCH", f"/v1/webhooks/{SOME_ID}", {"is_active": "true"}, "body.is_active"),
    ("staff", "GET", "/v1/staff/billing/promo-codes", {"active": "1"}, "query.active"),
    ("owner", "GET", "/v1/events", {"until": "0.5"}, "query.until"),
    ("owner", "GET", "/v1/events", {"since": "2026-01-01T00:00:00"}, "query.since"),
    ("owner", "GET", "/v1/events", {"since": "2026-01-01"}, "query.since"),
    ("staff", "GET", "/v1/staff/audit-logs", {"since": "1700000000"}, "query.since"),
    ("owner", "POST", "/v1/api-keys", {"name": "k", "scopes": ["content:read"],
                                       "expires_at": "9999-12-31T23:00:00-05:00"},
     "body.expires_at"),  # year 10000 in UTC
    ("owner", "POST", "/v1/api-keys", {"name": "k", "scopes": ["content:read"],
                                       "expires_at": 4102444800}, "body.expires_at"),
    ("staff", "POST", "/v1/staff/billing/promo-codes",
     {"code": "TIMED", "discount_type": "percent", "discount_value": 10, "valid_to": 4102444800},
     "body.valid_to"),
    ("staff", "POST", "/v1/staff/billing/service-prices",
     {"service_type": "ai_text", "token_cost": 5, "name": "AI text", "effective_from": 20990101},
     "body.effective_from"),
    ("staff", "PATCH", f"/v1/staff/billing/packages/{SOME_ID}", {"name": None}, "body.name"),
    ("owner", "PATCH", f"/v1/webhooks/{SOME_ID}", {"retry_count": None}, "body.retry_count"),
    ("owner", "PATCH", "/v1/me", {"full_name": None}, "body.full_name"),
]  # fmt: skip


@pytest.fixture(scope="module")
def signed_in(db: DatabaseURLs) -> Member:
    """An owner of their own: the sweep over every route above signs ``owner`` out."""
    return new_member(db, new_account(db), "owner")


@pytest.fixture(scope="module")
def callers(db: DatabaseURLs, signed_in: Member) -> dict[str, dict[str, str]]:
    return {"anyone": {}, "owner": signed_in.headers, "staff": new_staff_session(db).headers}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _invalid(response: httpx.Response) -> dict[str, Any]:
    body = problem(response, 422, "validation_failed")
    assert body["detail"] == "invalid input: " + ", ".join(fields(body))
    return body


@pytest.mark.parametrize(("who", "method", "path", "body", "field"), NUL_BODIES)
async def test_a_nul_in_a_body_is_named_and_never_reaches_the_database(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]], who: str, method: str,
    path: str, body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    response = await client.request(method, path, json=body, headers=callers[who])
    found = _invalid(response)
    assert [(e["field"], e["code"]) for e in found["errors"]] == [(field, "nul_character")]


@pytest.mark.parametrize(("who", "method", "url", "field"), NUL_PARAMETERS)
async def test_a_nul_in_a_query_or_path_is_named(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]], who: str, method: str,
    url: str, field: str,
) -> None:  # fmt: skip
    response = await client.request(method, url, headers=callers[who])
    found = _invalid(response)
    assert fields(found) == [field]
    assert not any(NUL in text for text in _texts(found))  # echoed, but spelled out
    if field.startswith("path"):
        assert "\\u0000" in found["instance"]


async def test_a_nul_in_a_header_is_named(client: httpx.AsyncClient, signed_in: Member) -> None:
    login = {"email": "nobody@example.com", "password": "x"}
    response = await client.post("/v1/auth/login", json=login, headers={"User-Agent": f"a{NUL}"})
    assert fields(_invalid(response)) == ["header.User-Agent"]
    response = await client.get("/v1/account", headers={**signed_in.headers, "X-Account-Id": NUL})
    assert fields(_invalid(response)) == ["header.X-Account-Id"]


@pytest.mark.parametrize(("path", "method"), ROUTES)
async def test_every_route_refuses_a_nul_in_its_query_string(
    client: httpx.AsyncClient, signed_in: Member, path: str, method: str
) -> None:
    response = await client.request(
        method.upper(), _url(path), params={"q": f"x{NUL}"}, headers=signed_in.headers
    )
    assert fields(_invalid(response)) == ["query.q"]


async def test_a_key_or_lone_surrogate_in_a_body_is_named_and_echoed_escaped(
    client: httpx.AsyncClient, signed_in: Member
) -> None:
    raw = b'{"settings": {"k\\u0000": 1, "s": "\\ud800"}, "version": 1}'
    headers = {**signed_in.headers, "content-type": "application/json"}
    response = await client.patch("/v1/account", content=raw, headers=headers)
    found = _invalid(response)
    assert [(e["field"], e["code"]) for e in found["errors"]] == [
        ("body.settings.k\\u0000", "nul_character"),
        ("body.settings.s", "unpaired_surrogate"),
    ]
    assert not any(NUL in text for text in _texts(found))  # spelled out, not sent as JSON NUL
    response.content.decode("utf-8")  # and no lone surrogate made the answer invalid UTF-8


@pytest.mark.parametrize(("who", "method", "path", "sent", "field"), OUT_OF_TYPE)
async def test_numbers_flags_times_and_nulls_out_of_type_are_named(
    client: httpx.AsyncClient, callers: dict[str, dict[str, str]], who: str, method: str,
    path: str, sent: dict[str, Any], field: str,
) -> None:  # fmt: skip
    where = {"params": sent} if method == "GET" else {"json": sent}
    response = await client.request(method, path, headers=callers[who], **where)
    assert fields(_invalid(response)) == [field]


async def test_valid_rfc3339_instants_are_taken(
    client: httpx.AsyncClient, signed_in: Member
) -> None:
    for since in ("2026-01-01T00:00:00Z", "2026-01-01t00:00:00.5+02:00"):
        response = await client.get(
            "/v1/events", params={"since": since}, headers=signed_in.headers
        )
        assert response.status_code == 200, response.text


def test_partial_update_fields_that_refuse_null_are_not_nullable() -> None:
    schemas = SPEC["components"]["schemas"]
    refusing_null = [
        ("WebhookUpdate", "name"), ("WebhookUpdate", "is_active"), ("PackageUpdate", "name"),
        ("PackageUpdate", "sort_order"), ("PromoCodeUpdate", "is_active"),
        ("AccountUpdate", "settings"),
    ]  # fmt: skip
    for model, name in refusing_null:
        declared = schemas[model]["properties"][name]
        assert "anyOf" not in declared and declared.get("type") != "null", (model, name, declared)
    # a field whose null means something stays nullable
    assert {"type": "null"} in schemas["PackageUpdate"]["properties"]["stripe_price_id"]["anyOf"]
