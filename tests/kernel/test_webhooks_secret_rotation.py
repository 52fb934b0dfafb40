"""Rotating a webhook's signing secret with a grace period: the old secret keeps signing
(a second v1) until it expires, a second rotation drops the oldest, the input is
validated, and re-encryption with a new key covers both secrets."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from markettina import cli
from markettina.kernel import jobs
from markettina.kernel.db.urls import DatabaseURLs, as_libpq_url
from markettina.kernel.security import SecretBox
from markettina.kernel.webhooks.tasks import forget_expired_webhook_secrets
from markettina.settings import get_settings
from tests.support.api import api_client
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member
from tests.support.webhook_receiver import Received, WebhookReceiver, running_receiver
from tests.support.webhooks import BOX, run_queued_deliveries, v1_signers, webhooks_app

WEEK = 7 * 24 * 3600


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


async def new_endpoint(
    client: httpx.AsyncClient, owner: Member, receiver: WebhookReceiver
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks",
        json={"name": "CRM", "url": receiver.url(), "events": ["webhook.endpoint_disabled"]},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def rotate(
    client: httpx.AsyncClient, owner: Member, hook: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/webhooks/{hook['id']}/rotate-secret", json=body, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    rotated: dict[str, Any] = response.json()
    return rotated


async def delivered_ping(
    client: httpx.AsyncClient, db: DatabaseURLs, owner: Member, hook: dict[str, Any],
    receiver: WebhookReceiver,
) -> Received:  # fmt: skip
    """A ping, made by the real worker and sender; what the receiver got."""
    ping = await client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
    assert ping.status_code == 202, ping.text
    await run_queued_deliveries(db)
    [got] = [r for r in receiver.received if json.loads(r.body)["id"] == ping.json()["event_id"]]
    return got


def stored_secrets(db: DatabaseURLs, hook: dict[str, Any]) -> tuple[str, str | None]:
    [(current, previous)] = sql(
        db, "SELECT secret_encrypted, previous_secret_encrypted FROM webhooks WHERE id = %s",
        hook["id"],
    )  # fmt: skip
    return BOX.decrypt(current), BOX.decrypt(previous) if previous is not None else None


class TestGracePeriod:
    async def test_both_secrets_sign_until_the_old_one_expires_then_only_the_new(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await new_endpoint(client, owner, receiver)
        old = hook["secret"]
        asked = dt.datetime.now(dt.UTC)
        rotated = await rotate(client, owner, hook, expires_in_seconds=3600)
        new = rotated["secret"]
        assert new.startswith("whsec_") and new != old and rotated["version"] == 2
        expires = dt.datetime.fromisoformat(rotated["previous_secret_expires_at"])
        assert abs((expires - asked).total_seconds() - 3600) < 60
        read = await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        assert read.json()["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
        assert old not in read.text and new not in read.text
        assert stored_secrets(db, hook) == (new, old)

        during = await delivered_ping(client, db, owner, hook, receiver)
        assert v1_signers(during, new, old) == [new, old]

        sql(db, "UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' "
                "WHERE id = %s", hook["id"])  # fmt: skip
        after = await delivered_ping(client, db, owner, hook, receiver)
        assert v1_signers(after, new, old) == [new]
        read = await client.get(f"/v1/webhooks/{hook['id']}", headers=owner.headers)
        assert read.json()["previous_secret_expires_at"] is None

    async def test_an_expired_previous_secret_is_forgotten_daily(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        expired, live = [await new_endpoint(client, owner, receiver) for _ in range(2)]
        for hook in (expired, live):
            await rotate(client, owner, hook, expires_in_seconds=3600)
        sql(db, "UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' "
                "WHERE id = %s", expired["id"])  # fmt: skip
        jobs.configure_maintenance(as_libpq_url(db.owner))
        assert await forget_expired_webhook_secrets(timestamp=0) >= 1  # other tests' too
        assert stored_secrets(db, expired)[1] is None
        assert stored_secrets(db, live)[1] is not None
        read = await client.get(f"/v1/webhooks/{expired['id']}", headers=owner.headers)
        assert read.json()["version"] == 2  # what clients hold is unchanged
        assert await forget_expired_webhook_secrets(timestamp=0) == 0

    async def test_without_a_grace_period_the_old_secret_stops_at_once(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await new_endpoint(client, owner, receiver)
        rotated = await rotate(client, owner, hook)  # {}: the default, 0
        assert rotated["previous_secret_expires_at"] is None
        assert stored_secrets(db, hook) == (rotated["secret"], None)
        got = await delivered_ping(client, db, owner, hook, receiver)
        assert v1_signers(got, rotated["secret"], hook["secret"]) == [rotated["secret"]]

    async def test_rotating_again_makes_the_current_secret_the_previous_one(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        hook = await new_endpoint(client, owner, receiver)
        first = await rotate(client, owner, hook, expires_in_seconds=WEEK)
        second = await rotate(client, owner, hook, expires_in_seconds=60)
        secrets = (second["secret"], first["secret"], hook["secret"])
        assert stored_secrets(db, hook) == secrets[:2]
        got = await delivered_ping(client, db, owner, hook, receiver)
        assert v1_signers(got, *secrets) == [second["secret"], first["secret"]]
        # a rotation with no grace period drops the previous secret too
        third = await rotate(client, owner, hook, expires_in_seconds=0)
        assert stored_secrets(db, hook) == (third["secret"], None)
        assert third["previous_secret_expires_at"] is None and third["version"] == 4


class TestValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"expires_in_seconds": -1}, "body.expires_in_seconds"),
            ({"expires_in_seconds": WEEK + 1}, "body.expires_in_seconds"),
            ({"expires_in_seconds": 1.5}, "body.expires_in_seconds"),
            ({"expires_in_seconds": "soon"}, "body.expires_in_seconds"),
            ({"expires_in_seconds": True}, "body.expires_in_seconds"),
            ({"expires_in_seconds": None}, "body.expires_in_seconds"),
            ({"expires_in": 60}, "body.expires_in"),
        ],
    )
    async def test_out_of_range_or_unknown_is_a_422_naming_the_field_and_changes_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, owner: Member,
        receiver: WebhookReceiver, body: dict[str, Any], field: str,
    ) -> None:  # fmt: skip
        hook = await new_endpoint(client, owner, receiver)
        response = await client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", json=body, headers=owner.headers
        )
        assert fields(problem(response, 422)) == [field]
        assert stored_secrets(db, hook) == (hook["secret"], None)

    async def test_seven_days_is_the_longest_grace_period(
        self, client: httpx.AsyncClient, owner: Member, receiver: WebhookReceiver
    ) -> None:
        hook = await new_endpoint(client, owner, receiver)
        rotated = await rotate(client, owner, hook, expires_in_seconds=WEEK)
        assert rotated["previous_secret_expires_at"] is not None

    async def test_an_empty_body_rotates_at_once(
        self, client: httpx.AsyncClient, owner: Member, receiver: WebhookReceiver
    ) -> None:
        hook = await new_endpoint(client, owner, receiver)
        response = await client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", content=b"", headers=owner.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["previous_secret_expires_at"] is None


def test_the_database_refuses_a_previous_secret_without_its_expiry(db: DatabaseURLs) -> None:
    import psycopg

    account = new_account(db)
    with pytest.raises(psycopg.errors.CheckViolation, match="previous_secret_paired"):
        sql(
            db, "INSERT INTO webhooks (account_id, name, url, events, secret_encrypted, "
            "previous_secret_encrypted) VALUES (%s, 'h', 'https://h.example/', '{*}', 'a', 'b')",
            account,
        )  # fmt: skip


def insert_endpoint(
    urls: DatabaseURLs, account: object, name: str, box: SecretBox, previous: str | None
) -> None:
    sql(
        urls, "INSERT INTO webhooks (account_id, name, url, events, secret_encrypted, "
        "previous_secret_encrypted, previous_secret_expires_at) VALUES (%s, %s, "
        "'https://h.example/', '{*}', %s, %s, CASE WHEN %s THEN now() + interval '1 h' END)",
        account, name, box.encrypt(f"whsec_{name}"), box.encrypt(previous) if previous else None,
        previous is not None,
    )  # fmt: skip


def secrets_rotate(urls: DatabaseURLs, monkeypatch: pytest.MonkeyPatch, keys: list[str]) -> Result:
    url = urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    monkeypatch.setenv("MARKETTINA_DATABASE_URL", url)
    monkeypatch.setenv("MARKETTINA_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("MARKETTINA_ENCRYPTION_KEYS", json.dumps(keys))
    get_settings.cache_clear()
    try:  # one row per batch: the batches follow each other
        return CliRunner().invoke(cli.app, ["secrets", "rotate", "--batch-size", "1"])
    finally:
        get_settings.cache_clear()


def opened_secrets(urls: DatabaseURLs, box: SecretBox) -> list[tuple[str, str, str | None]]:
    rows = sql(
        urls, "SELECT name, secret_encrypted, previous_secret_encrypted FROM webhooks ORDER BY name"
    )
    return [
        (name, box.decrypt(current), previous and box.decrypt(previous))
        for name, current, previous in rows
    ]


def test_secrets_rotate_reencrypts_both_signing_secrets_with_the_first_key(
    fresh_db: DatabaseURLs, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key = SecretBox.new_key(), SecretBox.new_key()
    account = new_account(fresh_db)
    insert_endpoint(fresh_db, account, "graced", SecretBox([old_key]), "whsec_before")
    insert_endpoint(fresh_db, account, "plain", SecretBox([old_key]), None)
    result = secrets_rotate(fresh_db, monkeypatch, [new_key, old_key])
    assert result.exit_code == 0, result.output
    assert "signing secrets of 2 webhook(s)" in result.output
    assert opened_secrets(fresh_db, SecretBox([new_key])) == [
        ("graced", "whsec_graced", "whsec_before"), ("plain", "whsec_plain", None),
    ]  # fmt: skip


def test_secrets_no_key_opens_are_named_and_left_as_they_were(
    fresh_db: DatabaseURLs, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key, lost_key = (SecretBox.new_key() for _ in range(3))
    account = new_account(fresh_db)
    insert_endpoint(fresh_db, account, "lost", SecretBox([lost_key]), "whsec_before")
    insert_endpoint(fresh_db, account, "plain", SecretBox([old_key]), None)
    result = secrets_rotate(fresh_db, monkeypatch, [new_key, old_key])
    assert result.exit_code == cli.EXIT_UNEXPECTED, result.output
    output = " ".join(result.output.split())
    assert "1 webhook(s) hold signing secrets no configured key opens" in output
    assert "1 re-encrypted" in output
    assert opened_secrets(fresh_db, SecretBox([new_key, lost_key])) == [
        ("lost", "whsec_lost", "whsec_before"), ("plain", "whsec_plain", None),
    ]  # fmt: skip
    [(lost,)] = sql(fresh_db, "SELECT secret_encrypted FROM webhooks WHERE name = 'lost'")
    assert SecretBox([lost_key]).decrypt(lost) == "whsec_lost"  # untouched
