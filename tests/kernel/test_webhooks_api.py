"""Webhook endpoints over HTTP: the secret shown once and stored encrypted, validation
naming the field, optimistic locking, soft delete, the delivery log, redelivery, ping and
secret rotation."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.errors import ValidationFailed
from markettina.kernel.security import SecretBox
from markettina.kernel.webhooks import UrlRules
from markettina.kernel.webhooks.endpoints import check_url
from tests.support.api import TEST_ENCRYPTION_KEY, api_client
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member
from tests.support.webhook_receiver import Answer, WebhookReceiver, running_receiver
from tests.support.webhooks import attempt_outcomes, run_queued_deliveries, webhooks_app

SHOWN = {
    "id", "name", "description", "url", "events", "is_active", "retry_count",
    "retry_delay_seconds", "total_deliveries", "successful_deliveries", "failed_deliveries",
    "last_delivery_at", "consecutive_failures", "disabled_at", "disabled_reason",
    "previous_secret_expires_at", "created_at", "updated_at", "version",
}  # fmt: skip


@pytest.fixture(scope="module")
async def client(db: DatabaseURLs) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(webhooks_app(db)) as http:
        yield http


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as started:
        yield started


async def create(client: httpx.AsyncClient, member: Member, **body: Any) -> httpx.Response:
    payload = {
        "name": "CRM", "url": "https://hooks.example/markettina",
        "events": ["webhook.endpoint_disabled"], **body,
    }  # fmt: skip
    return await client.post("/v1/webhooks", json=payload, headers=member.headers)


async def created(client: httpx.AsyncClient, member: Member, **body: Any) -> dict[str, Any]:
    response = await create(client, member, **body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


class TestCreate:
    async def test_the_secret_is_shown_once_and_stored_encrypted(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        body = await created(
            client, owner, name=" CRM ", description="to the CRM", retry_count=5,
            retry_delay_seconds=30, events=["webhook.*", "webhook.endpoint_disabled", "webhook.*"],
        )  # fmt: skip
        assert set(body) == SHOWN | {"secret"}
        assert body["secret"].startswith("whsec_")
        assert (body["name"], body["description"]) == ("CRM", "to the CRM")
        assert body["events"] == ["webhook.*", "webhook.endpoint_disabled"]
        assert (body["retry_count"], body["retry_delay_seconds"]) == (5, 30)
        assert body["is_active"] is True and body["version"] == 1
        assert body["created_at"].endswith("Z")
        [(stored, created_by)] = sql(
            db, "SELECT secret_encrypted, created_by FROM webhooks WHERE id = %s", body["id"]
        )
        assert body["secret"] not in stored
        assert SecretBox([TEST_ENCRYPTION_KEY]).decrypt(stored) == body["secret"]
        assert created_by == owner.user_id
        read = await client.get(f"/v1/webhooks/{body['id']}", headers=owner.headers)
        assert read.status_code == 200 and set(read.json()) == SHOWN
        assert body["secret"] not in read.text
        assert read.headers["ETag"] == '"1"'
        listed = await client.get("/v1/webhooks", headers=owner.headers)
        assert body["secret"] not in listed.text

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"url": "ftp://example.com/x"}, "body.url"),
            ({"url": "not a url"}, "body.url"),
            ({"url": "https://user:pw@example.com/x"}, "body.url"),
            ({"url": "https://example.com/x#frag"}, "body.url"),
            ({"url": "https://" + "a" * 2100 + ".com/"}, "body.url"),
            ({"events": []}, "body.events"),
            ({"events": ["webhook.endpoint_disabled", "nothing.like_this"]}, "body.events.1"),
            ({"events": ["Lead Created"]}, "body.events.0"),
            ({"events": ["*"] * 51}, "body.events"),
            ({"name": "  "}, "body.name"),
            ({"retry_count": 11}, "body.retry_count"),
            ({"retry_delay_seconds": 0}, "body.retry_delay_seconds"),
            ({"secret": "mine"}, "body.secret"),
        ],
    )
    async def test_bad_input_is_named(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, Any], field: str
    ) -> None:
        body_problem = problem(await create(client, owner, **body), 422)
        assert fields(body_problem) == [field]

    @pytest.mark.parametrize(
        "url", ["http://10.0.0.5/hook", "http://169.254.169.254/", "http://[::ffff:10.1.1.1]/"]
    )
    async def test_a_refused_address_is_named_at_creation(
        self, client: httpx.AsyncClient, owner: Member, url: str
    ) -> None:
        body = problem(await create(client, owner, url=url), 422)
        assert body["errors"][0]["field"] == "body.url"
        assert body["errors"][0]["code"] == "refused_address"

    async def test_wildcards_match_everything_or_a_family(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        body = await created(client, owner, events=["*", "webhook.*", "*.endpoint_disabled"])
        assert body["events"] == ["*", "webhook.*", "*.endpoint_disabled"]


class TestUrlRules:
    async def test_loopback_by_name_is_refused_unless_allowed(self) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await check_url("http://localhost:9/x", UrlRules(require_https=False,
                                                             allow_loopback=False))  # fmt: skip
        assert refused.value.errors[0].field == "body.url"
        assert "loopback" in refused.value.detail
        await check_url("http://localhost:9/x", UrlRules(require_https=False, allow_loopback=True))

    async def test_production_needs_https(self) -> None:
        rules = UrlRules(require_https=True, allow_loopback=False)
        with pytest.raises(ValidationFailed) as refused:
            await check_url("http://hooks.example/x", rules)
        assert refused.value.errors[0].code == "https_required"
        await check_url("https://hooks.example/x", rules)  # does not resolve: checked later


class TestListReadDelete:
    async def test_pages_newest_first_without_deleted_ones(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        ids = [(await created(client, owner, name=f"hook {n}"))["id"] for n in range(3)]
        gone = await client.delete(f"/v1/webhooks/{ids[1]}", headers=owner.headers)
        assert gone.status_code == 204
        first = (await client.get("/v1/webhooks?limit=1", headers=owner.headers)).json()
        assert [item["id"] for item in first["items"]] == [ids[2]]
        rest = await client.get(
            f"/v1/webhooks?limit=5&cursor={first['next_cursor']}", headers=owner.headers
        )
        assert [item["id"] for item in rest.json()["items"]] == [ids[0]]
        assert rest.json()["next_cursor"] is None
        problem(await client.get(f"/v1/webhooks/{ids[1]}", headers=owner.headers), 404,
                "webhook_not_found")  # fmt: skip
        problem(await client.delete(f"/v1/webhooks/{ids[1]}", headers=owner.headers), 404)

    async def test_deleting_keeps_the_row_soft_deleted(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        await client.delete(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        [(deleted_at, deleted_by, active)] = sql(
            db, "SELECT deleted_at, deleted_by, is_active FROM webhooks WHERE id = %s", hook["id"]
        )
        assert deleted_at is not None and deleted_by == owner.user_id and active is False

    async def test_viewers_read_but_do_not_manage(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        assert (await client.get(f"/v1/webhooks/{hook['id']}", headers=viewer.headers)).is_success
        problem(await create(client, viewer), 403, "permission_denied")


class TestUpdate:
    async def test_changes_under_if_match_and_bumps_the_version(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        hook = await created(client, owner)
        response = await client.patch(
            f"/v1/webhooks/{hook['id']}",
            json={"name": "Renamed", "events": ["*"], "description": None, "retry_count": 0},
            headers={**owner.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["name"], body["events"], body["retry_count"]) == ("Renamed", ["*"], 0)
        assert body["version"] == 2 and response.headers["ETag"] == '"2"'

    async def test_a_stale_version_is_a_conflict_and_changes_nothing(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        hook = await created(client, owner)
        url = f"/v1/webhooks/{hook['id']}"
        await client.patch(url, json={"name": "First", "version": 1}, headers=owner.headers)
        stale = await client.patch(url, json={"name": "Second", "version": 1},
                                   headers=owner.headers)  # fmt: skip
        assert "now at version 2" in problem(stale, 409, "version_conflict")["detail"]
        assert (await client.get(url, headers=owner.headers)).json()["name"] == "First"

    @pytest.mark.parametrize(
        ("body", "headers", "field"),
        [
            ({"name": "x"}, {}, "body.version"),
            ({"name": None, "version": 1}, {}, "body.name"),
            ({"url": None, "version": 1}, {}, "body.url"),
            ({"events": ["nothing.at_all"], "version": 1}, {}, "body.events.0"),
            ({"name": "x"}, {"If-Match": "soon"}, "header.If-Match"),
            ({"name": "x", "version": 2}, {"If-Match": '"1"'}, "body.version"),
        ],
    )
    async def test_bad_updates_are_named(
        self, client: httpx.AsyncClient, owner: Member, body: dict[str, Any],
        headers: dict[str, str], field: str,
    ) -> None:  # fmt: skip
        hook = await created(client, owner)
        response = await client.patch(
            f"/v1/webhooks/{hook['id']}", json=body, headers={**owner.headers, **headers}
        )
        assert fields(problem(response, 422)) == [field]

    async def test_delivery_bookkeeping_is_not_a_new_version(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        sql(
            db,
            "UPDATE webhooks SET total_deliveries = 1, successful_deliveries = 1, "
            "last_delivery_at = now(), consecutive_failures = 2, failing_since = now() "
            "WHERE id = %s",
            hook["id"],
        )
        read = await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        assert read.json()["version"] == 1
        patched = await client.patch(
            f"/v1/webhooks/{hook['id']}", json={"name": "Still mine", "version": 1},
            headers=owner.headers,
        )  # fmt: skip
        assert patched.status_code == 200 and patched.json()["version"] == 2

    async def test_re_enabling_clears_the_failure_run(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        sql(
            db,
            "UPDATE webhooks SET is_active = false, disabled_at = now(), disabled_reason = 'x', "
            "consecutive_failures = 30, failing_since = now() WHERE id = %s",
            hook["id"],
        )
        version = (await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)).json()
        response = await client.patch(
            f"/v1/webhooks/{hook['id']}", json={"is_active": True},
            headers={**owner.headers, "If-Match": f'"{version["version"]}"'},
        )  # fmt: skip
        body = response.json()
        assert body["is_active"] is True
        assert (body["disabled_at"], body["disabled_reason"], body["consecutive_failures"]) == (
            None, None, 0,
        )  # fmt: skip


class TestPingAndLog:
    async def test_a_ping_reaches_this_endpoint_signed_and_is_logged(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await created(client, owner, url=receiver.url())
        other = await created(client, owner, url=receiver.url("/other"), events=["*"])
        response = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
        assert response.status_code == 202, response.text
        queued = response.json()
        assert (queued["event_type"], queued["status"], queued["attempts"]) == (
            "webhook.ping", "pending", 0,
        )  # fmt: skip
        await run_queued_deliveries(db)

        [got] = receiver.received
        assert got.path == "/hook" and got.signature_valid(hook["secret"])
        assert not got.signature_valid(other["secret"])
        sent = json.loads(got.body)
        assert sent["type"] == "webhook.ping" and sent["id"] == queued["event_id"]
        assert sent["data"] == {"webhook_id": hook["id"]}
        assert got.headers["markettina-event-id"] == queued["event_id"]

        detail = await client.get(
            f"/v1/webhooks/{hook['id']}/deliveries/{queued['id']}", headers=owner.headers
        )
        body = detail.json()
        assert (body["status"], body["response_code"], body["response_body"]) == (
            "succeeded", 200, "ok",
        )  # fmt: skip
        assert body["payload"] == sent
        assert [a["outcome"] for a in body["attempt_log"]] == ["succeeded"]
        assert body["attempt_log"][0]["response_code"] == 200
        counters = (await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)).json()
        assert (counters["total_deliveries"], counters["successful_deliveries"]) == (1, 1)
        assert counters["last_delivery_at"] is not None

    async def test_the_log_filters_by_status_and_pages(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await created(client, owner, url=receiver.url(), retry_count=0)
        receiver.answer(Answer(status=500))
        for _ in range(3):
            await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
            await run_queued_deliveries(db)
        log = f"/v1/webhooks/{hook['id']}/deliveries"
        failed = (await client.get(f"{log}?status=abandoned", headers=owner.headers)).json()
        assert [item["last_error"] for item in failed["items"]] == ["HTTP 500"]
        ok = (await client.get(f"{log}?status=succeeded&limit=1", headers=owner.headers)).json()
        assert len(ok["items"]) == 1 and ok["next_cursor"]
        more = await client.get(
            f"{log}?status=succeeded&limit=1&cursor={ok['next_cursor']}", headers=owner.headers
        )
        assert len(more.json()["items"]) == 1 and more.json()["next_cursor"] is None
        assert more.json()["items"][0]["id"] != ok["items"][0]["id"]
        problem(await client.get(f"{log}?status=lost", headers=owner.headers), 422)

    async def test_an_abandoned_delivery_is_sent_again_on_request(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await created(client, owner, url=receiver.url(), retry_count=1)
        receiver.answer(Answer(status=500), Answer(status=502))
        ping = (await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)).json()
        await run_queued_deliveries(db)
        url = f"/v1/webhooks/{hook['id']}/deliveries/{ping['id']}"
        assert (await client.get(url, headers=owner.headers)).json()["status"] == "abandoned"
        before = (await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)).json()
        assert (before["successful_deliveries"], before["failed_deliveries"]) == (0, 1)

        again = await client.post(f"{url}/redeliver", headers=owner.headers)
        assert again.status_code == 202 and again.json()["status"] == "pending"
        await run_queued_deliveries(db)
        body = (await client.get(url, headers=owner.headers)).json()
        assert body["status"] == "succeeded" and body["attempts"] == 3
        assert [a["outcome"] for a in body["attempt_log"]] == ["failed", "failed", "succeeded"]
        assert attempt_outcomes(db, ping["id"]) == ["failed", "failed", "succeeded"]
        after = (await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)).json()
        assert (after["total_deliveries"], after["successful_deliveries"],
                after["failed_deliveries"]) == (1, 1, 0)  # fmt: skip
        ids = {json.loads(r.body)["id"] for r in receiver.received}
        assert len(receiver.received) == 3 and ids == {ping["event_id"]}

    async def test_a_disabled_endpoint_gets_no_ping_or_redelivery(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        ping = (await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)).json()
        sql(db, "UPDATE webhooks SET is_active = false WHERE id = %s", hook["id"])
        problem(
            await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers), 409,
            "webhook_disabled",
        )  # fmt: skip
        url = f"/v1/webhooks/{hook['id']}/deliveries/{ping['id']}/redeliver"
        problem(await client.post(url, headers=owner.headers), 409, "webhook_disabled")

    async def test_a_delivery_of_another_endpoint_is_not_found_here(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        first, second = await created(client, owner), await created(client, owner)
        ping = await client.post(f"/v1/webhooks/{first['id']}/test", headers=owner.headers)
        url = f"/v1/webhooks/{second['id']}/deliveries/{ping.json()['id']}"
        problem(await client.get(url, headers=owner.headers), 404, "delivery_not_found")
        problem(await client.post(f"{url}/redeliver", headers=owner.headers), 404)
        missing = f"/v1/webhooks/{first['id']}/deliveries/{uuid.uuid4()}"
        problem(await client.get(missing, headers=owner.headers), 404, "delivery_not_found")


class TestRotateSecret:
    async def test_the_new_secret_is_shown_once_and_signs_every_later_attempt(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await created(client, owner, url=receiver.url())
        before = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
        response = await client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret",
            headers={**owner.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == SHOWN | {"secret"}
        assert body["secret"].startswith("whsec_") and body["secret"] != hook["secret"]
        assert body["version"] == 2 and response.headers["ETag"] == '"2"'
        [(stored,)] = sql(db, "SELECT secret_encrypted FROM webhooks WHERE id = %s", hook["id"])
        assert body["secret"] not in stored
        assert SecretBox([TEST_ENCRYPTION_KEY]).decrypt(stored) == body["secret"]
        read = await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        assert body["secret"] not in read.text and read.json()["version"] == 2

        after = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
        await run_queued_deliveries(db)
        received = {json.loads(got.body)["id"]: got for got in receiver.received}
        # queued before the rotation or after, an attempt made now carries the new secret
        assert set(received) == {before.json()["event_id"], after.json()["event_id"]}
        for got in received.values():
            assert got.signature_valid(body["secret"])
            assert not got.signature_valid(hook["secret"])

    async def test_a_stale_if_match_is_a_conflict_and_keeps_the_secret(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        url = f"/v1/webhooks/{hook['id']}"
        await client.patch(url, json={"name": "Renamed", "version": 1}, headers=owner.headers)
        stale = await client.post(
            f"{url}/rotate-secret", headers={**owner.headers, "If-Match": '"1"'}
        )
        assert "now at version 2" in problem(stale, 409, "version_conflict")["detail"]
        [(stored,)] = sql(db, "SELECT secret_encrypted FROM webhooks WHERE id = %s", hook["id"])
        assert SecretBox([TEST_ENCRYPTION_KEY]).decrypt(stored) == hook["secret"]
        assert (await client.get(url, headers=owner.headers)).json()["version"] == 2

    async def test_without_if_match_it_rotates_and_a_malformed_one_is_named(
        self, client: httpx.AsyncClient, owner: Member
    ) -> None:
        hook = await created(client, owner)
        url = f"/v1/webhooks/{hook['id']}/rotate-secret"
        bad = await client.post(url, headers={**owner.headers, "If-Match": "soon"})
        assert fields(problem(bad, 422)) == ["header.If-Match"]
        first = (await client.post(url, headers=owner.headers)).json()
        second = (await client.post(url, headers=owner.headers)).json()
        assert len({hook["secret"], first["secret"], second["secret"]}) == 3
        assert (first["version"], second["version"]) == (2, 3)

    async def test_only_managers_of_this_account_rotate_a_live_endpoint(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member
    ) -> None:
        hook = await created(client, owner)
        url = f"/v1/webhooks/{hook['id']}/rotate-secret"
        viewer = new_member(db, owner.account_id, "viewer")
        problem(await client.post(url, headers=viewer.headers), 403, "permission_denied")
        stranger = new_member(db, new_account(db), "owner")
        problem(await client.post(url, headers=stranger.headers), 404, "webhook_not_found")
        await client.delete(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        problem(await client.post(url, headers=owner.headers), 404, "webhook_not_found")
        [(stored,)] = sql(db, "SELECT secret_encrypted FROM webhooks WHERE id = %s", hook["id"])
        assert SecretBox([TEST_ENCRYPTION_KEY]).decrypt(stored) == hook["secret"]
