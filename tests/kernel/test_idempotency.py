"""Idempotency-Key on unsafe requests: a replay answers with the stored status and body
and changes nothing; the key with another request is 422; a duplicate while the first is
in flight is 409; keys expire after 24 hours; a request that failed stores nothing; the
OpenAPI document declares the header exactly on the operations that claim it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.idempotency import request_hash
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member

BODY = {"name": "CI", "scopes": ["content:read"]}
DECLARED = {"$ref": "#/components/parameters/IdempotencyKey"}
UNSAFE = ("post", "put", "patch", "delete")


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def create_key(
    client: httpx.AsyncClient, member: Member, key: str | None, body: dict[str, Any] = BODY
) -> httpx.Response:
    headers = {**member.headers, "Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/v1/api-keys", content=json.dumps(body), headers=headers)


def api_key_count(urls: DatabaseURLs, account: uuid.UUID) -> int:
    return int(sql(urls, "SELECT count(*) FROM api_keys WHERE account_id = %s", account)[0][0])


def stored(urls: DatabaseURLs, account: uuid.UUID) -> list[tuple[Any, ...]]:
    return sql(
        urls,
        "SELECT key, endpoint, status_code, response_data FROM idempotency_keys "
        "WHERE account_id = %s",
        account,
    )


class TestReplay:
    async def test_a_replay_returns_the_stored_answer_and_creates_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        first = await create_key(client, owner, "key-1")
        assert first.status_code == 201, first.text
        assert "Idempotent-Replayed" not in first.headers
        again = await create_key(client, owner, "key-1")
        assert again.status_code == 201
        assert again.content == first.content  # the same key id and the same full key
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
        assert "RateLimit-Remaining" in again.headers
        assert api_key_count(db, owner.account_id) == 1
        ((key, endpoint, status, data),) = stored(db, owner.account_id)
        assert (key, endpoint, status) == ("key-1", "POST /v1/api-keys", 201)
        names = {name.lower() for name, _ in data["headers"]}
        assert "x-request-id" not in names and "ratelimit-limit" not in names

    async def test_without_a_key_every_request_runs(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        for _ in range(2):
            assert (await create_key(client, owner, None)).status_code == 201
        assert api_key_count(db, owner.account_id) == 2
        assert stored(db, owner.account_id) == []

    async def test_an_empty_answer_replays_empty(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        key_id = (await create_key(client, owner, None)).json()["id"]
        headers = {**owner.headers, "Idempotency-Key": "revoke-1"}
        first = await client.delete(f"/v1/api-keys/{key_id}", headers=headers)
        again = await client.delete(f"/v1/api-keys/{key_id}", headers=headers)
        assert (first.status_code, again.status_code) == (204, 204)
        assert again.content == b"" and again.headers["Idempotent-Replayed"] == "true"

    async def test_safe_requests_ignore_the_header(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        headers = {**owner.headers, "Idempotency-Key": "x" * 300}
        assert (await client.get("/v1/api-keys", headers=headers)).status_code == 200
        assert stored(db, owner.account_id) == []

    async def test_keys_of_one_account_mean_nothing_to_another(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        other = new_member(db, new_account(db), "owner")
        first = await create_key(client, owner, "shared")
        second = await create_key(client, other, "shared")
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.json()["id"] != second.json()["id"]
        assert "Idempotent-Replayed" not in second.headers


class TestMismatch:
    async def test_the_key_with_another_body_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        assert (await create_key(client, owner, "key-2")).status_code == 201
        other = await create_key(client, owner, "key-2", {**BODY, "name": "Zapier"})
        body = problem(other, 422, "idempotency_key_reused")
        assert fields(body) == ["header.Idempotency-Key"]
        assert api_key_count(db, owner.account_id) == 1

    async def test_the_key_on_another_path_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        assert (await create_key(client, owner, "key-3")).status_code == 201
        headers = {**owner.headers, "Idempotency-Key": "key-3"}
        other = await client.post("/v1/account/permissions", json={}, headers=headers)
        problem(other, 422, "idempotency_key_reused")

    async def test_another_caller_of_the_account_cannot_replay(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        assert (await create_key(client, owner, "key-4")).status_code == 201
        admin = new_member(db, owner.account_id, "admin")
        problem(await create_key(client, admin, "key-4"), 422, "idempotency_key_reused")

    @pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
    async def test_a_malformed_key_is_refused(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, key: str
    ) -> None:
        headers = [
            *owner.headers.items(), ("Content-Type", "application/json"),
            ("Idempotency-Key", key.encode("latin-1")),
        ]  # fmt: skip
        response = await client.post("/v1/api-keys", content=json.dumps(BODY), headers=headers)
        body = problem(response, 422, "idempotency_key_invalid")
        assert fields(body) == ["header.Idempotency-Key"]
        assert api_key_count(db, owner.account_id) == 0

    async def test_the_longest_key_is_accepted(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        key = "~ " + "k" * 253
        assert (await create_key(client, owner, key)).status_code == 201
        assert (await create_key(client, owner, key)).headers["Idempotent-Replayed"] == "true"


class TestFailures:
    async def test_a_request_that_failed_stores_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        invalid = await create_key(client, owner, "key-5", {"name": ""})
        problem(invalid, 422, "validation_failed")
        assert stored(db, owner.account_id) == []
        # the client fixes its request and retries with the same key
        fixed = await create_key(client, owner, "key-5")
        assert fixed.status_code == 201
        assert api_key_count(db, owner.account_id) == 1

    async def test_a_refused_permission_stores_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        viewer = new_member(db, owner.account_id, "viewer")
        problem(await create_key(client, viewer, "key-6"), 403)
        assert stored(db, owner.account_id) == []


class TestConcurrency:
    async def test_a_duplicate_in_flight_gets_409(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        # another transaction holds the key, as a first request still running would
        with bootstrap.connect(db.owner, autocommit=False) as holder:
            holder.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"{owner.account_id}/key-7",),
            )
            response = await create_key(client, owner, "key-7")
            holder.rollback()
        problem(response, 409, "idempotency_key_in_flight")
        assert api_key_count(db, owner.account_id) == 0
        assert (await create_key(client, owner, "key-7")).status_code == 201

    async def test_parallel_duplicates_create_one_key(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        responses = await asyncio.gather(*(create_key(client, owner, "key-8") for _ in range(6)))
        created = [r for r in responses if r.status_code == 201]
        assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
        assert len({r.content for r in created}) == 1
        assert len([r for r in created if "Idempotent-Replayed" not in r.headers]) == 1
        assert api_key_count(db, owner.account_id) == 1

    async def test_a_committed_request_without_its_answer_is_never_run_again(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        # the process died between the commit and the record: the key is there, unanswered
        fingerprint = request_hash(
            "POST", "/v1/api-keys", b"", f"user:{owner.user_id}", json.dumps(BODY).encode()
        )
        sql(
            db,
            "INSERT INTO idempotency_keys (account_id, key, endpoint, request_hash) "
            "VALUES (%s, 'key-9', 'POST /v1/api-keys', %s)",
            owner.account_id, fingerprint,
        )  # fmt: skip
        problem(await create_key(client, owner, "key-9"), 409, "idempotency_key_in_flight")
        assert api_key_count(db, owner.account_id) == 0


class TestExpiry:
    async def test_an_expired_key_lets_the_request_run_anew(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        first = await create_key(client, owner, "key-10")
        (expires,) = sql(
            db,
            "SELECT expires_at - created_at FROM idempotency_keys WHERE account_id = %s",
            owner.account_id,
        )
        assert expires[0].total_seconds() == 24 * 3600
        sql(db, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours', "
                "expires_at = now() - interval '1 hour' WHERE account_id = %s",
            owner.account_id)  # fmt: skip
        second = await create_key(client, owner, "key-10")
        assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
        assert second.json()["id"] != first.json()["id"]
        assert api_key_count(db, owner.account_id) == 2
        third = await create_key(client, owner, "key-10")
        assert third.content == second.content


def declared_operations(spec: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if DECLARED in operation.get("parameters", [])
    }


class TestOpenAPI:
    async def test_the_header_is_declared_on_the_operations_that_claim_it(
        self, client: httpx.AsyncClient
    ) -> None:
        spec = (await client.get("/openapi.json")).json()
        declared = declared_operations(spec)
        assert {"POST /v1/api-keys", "DELETE /v1/api-keys/{key_id}", "PATCH /v1/account",
                "PUT /v1/billing/details"} <= declared  # fmt: skip
        assert all(operation.split()[0].lower() in UNSAFE for operation in declared)
        for ignored in ("GET /v1/api-keys", "POST /v1/auth/login", "POST /v1/auth/register",
                        "POST /v1/billing/stripe/webhook", "POST /v1/staff/login"):  # fmt: skip
            assert ignored not in declared
        parameter = spec["components"]["parameters"]["IdempotencyKey"]
        assert (parameter["name"], parameter["in"], parameter["required"]) == (
            "Idempotency-Key", "header", False,
        )  # fmt: skip
        assert parameter["schema"]["maxLength"] == 255
        for stated in ("1 to 255", "24 hours", "Idempotent-Replayed", "idempotency_key_in_flight",
                       "idempotency_key_reused", "idempotency_key_invalid"):  # fmt: skip
            assert stated in parameter["description"]
        for document in (spec, (await client.get("/openapi.json")).json()):  # declared once
            assert document["paths"]["/v1/api-keys"]["post"]["parameters"].count(DECLARED) == 1

    async def test_a_malformed_key_is_refused_exactly_where_it_is_declared(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        spec = (await client.get("/openapi.json")).json()
        headers = {**owner.headers, "Idempotency-Key": "x" * 300}
        refused = set()
        for path, operations in spec["paths"].items():
            for method in set(operations) & set(UNSAFE):
                url = path.replace("{", "").replace("}", "")  # any id: the claim comes first
                response = await client.request(method.upper(), url, headers=headers)
                assert response.status_code < 500, (method, path, response.text)
                if (
                    response.status_code == 422
                    and response.json()["code"] == "idempotency_key_invalid"
                ):
                    refused.add(f"{method.upper()} {path}")
        assert refused == declared_operations(spec)
