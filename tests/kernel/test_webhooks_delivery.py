"""Fan-out and delivery: one delivery per matching endpoint and event (idempotent on the
event id), attempts with exponential backoff up to the retry count then abandonment, the
counters and the failure run, auto-disabling with an event, and the lease that survives
a dead worker."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.db import bootstrap
from markettina.kernel.db.engine import Database, open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.events import StoredEvent
from markettina.kernel.webhooks.delivery import (
    DeliveryPolicy,
    attempt_delivery,
    claim_attempt,
    record_outcome,
    retry_delay,
)
from markettina.kernel.webhooks.fanout import create_deliveries
from markettina.kernel.webhooks.sender import SendResult, WebhookSender
from markettina.kernel.webhooks.tasks import fan_out
from tests.support.checks import sql
from tests.support.identity import new_account
from tests.support.webhook_receiver import Answer, WebhookReceiver, running_receiver
from tests.support.webhooks import BOX, SECRET, attempt_outcomes, delivery_row, new_webhook

NOW_POLICY = DeliveryPolicy(timeout_seconds=2, max_retry_delay_seconds=0)


@pytest.fixture(scope="module")
async def database(db: DatabaseURLs) -> AsyncIterator[Database]:
    opened = open_database(db.app, pool_size=2)
    yield opened
    await opened.dispose()


@pytest.fixture(scope="module")
async def sender() -> AsyncIterator[WebhookSender]:
    opened = WebhookSender(timeout_seconds=2, allow_loopback=True)
    yield opened
    await opened.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as started:
        yield started


def an_event(account_id: uuid.UUID, event_type: str = "lead.created") -> StoredEvent:
    return StoredEvent(
        id=uuid.uuid4(), account_id=account_id, created_at=dt.datetime.now(dt.UTC),
        event_type=event_type, version=1, aggregate_type="lead", aggregate_id="7",
        aggregate_version=1, data={"after": {"id": 7, "name": "Zoé"}}, metadata={},
    )  # fmt: skip


def webhook_row(urls: DatabaseURLs, webhook_id: uuid.UUID) -> dict[str, Any]:
    [(row,)] = sql(urls, "SELECT to_jsonb(w) FROM webhooks w WHERE id = %s", webhook_id)
    return dict(row)


class Requeued:
    """Stands in for the job queue: records the attempts a delivery asks for."""

    def __init__(self) -> None:
        self.calls: list[tuple[uuid.UUID, dt.datetime]] = []

    async def __call__(
        self, session: AsyncSession, account_id: uuid.UUID, delivery_id: uuid.UUID,
        at: dt.datetime,
    ) -> None:  # fmt: skip
        self.calls.append((delivery_id, at))


async def fan(database: Database, event: StoredEvent) -> list[uuid.UUID]:
    async with unit_of_work(database.sessions, account_id=event.account_id) as session:
        return await create_deliveries(session, event)


async def attempt(
    database: Database, sender: WebhookSender, account_id: uuid.UUID, delivery_id: uuid.UUID,
    *, policy: DeliveryPolicy = NOW_POLICY, requeue: Requeued | None = None,
) -> str | None:  # fmt: skip
    return await attempt_delivery(
        database.sessions, account_id=account_id, delivery_id=delivery_id, sender=sender,
        box=BOX, policy=policy, requeue=requeue or Requeued(),
    )  # fmt: skip


def make_due(urls: DatabaseURLs, delivery_id: uuid.UUID) -> None:
    sql(urls, "UPDATE webhook_deliveries SET next_retry_at = now() WHERE id = %s", delivery_id)


class TestFanOut:
    async def test_one_delivery_per_active_matching_endpoint(
        self, db: DatabaseURLs, database: Database
    ) -> None:
        account = new_account(db)
        everything = new_webhook(db, account, events=("*",))
        leads = new_webhook(db, account, events=("campaign.created", "lead.*"))
        new_webhook(db, account, events=("campaign.*",))
        new_webhook(db, account, events=("*",), active=False)
        new_webhook(db, account, events=("*",), deleted=True)
        new_webhook(db, new_account(db), events=("*",))
        event = an_event(account)
        created = await fan(database, event)
        rows = [delivery_row(db, delivery_id) for delivery_id in created]
        assert sorted(uuid.UUID(r["webhook_id"]) for r in rows) == sorted([everything, leads])
        for row in rows:
            assert (row["status"], row["event_type"], row["event_id"]) == (
                "pending", "lead.created", str(event.id),
            )  # fmt: skip
            assert row["payload"] == {
                "id": str(event.id), "type": "lead.created", "version": 1,
                "created": event.created_at.isoformat().replace("+00:00", "Z"),
                "account_id": str(account), "api_version": "v1",
                "data": {"after": {"id": 7, "name": "Zoé"}},
            }  # fmt: skip
        assert webhook_row(db, everything)["total_deliveries"] == 1

    async def test_a_second_run_for_the_same_event_creates_nothing(
        self, db: DatabaseURLs, database: Database
    ) -> None:
        account = new_account(db)
        hook = new_webhook(db, account)
        event = an_event(account)
        assert len(await fan(database, event)) == 1
        assert await fan(database, event) == []
        [(count,)] = sql(db, "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = %s", hook)
        assert count == 1 and webhook_row(db, hook)["total_deliveries"] == 1

    async def test_the_handler_queues_one_job_per_new_delivery_in_its_transaction(
        self, db: DatabaseURLs, database: Database
    ) -> None:
        account = new_account(db)
        new_webhook(db, account)
        new_webhook(db, account)
        event = an_event(account)
        for _ in range(2):  # the relay may hand the same event over twice
            async with unit_of_work(database.sessions, account_id=account) as session:
                await fan_out(session, event)
        jobs = sql(
            db,
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'kernel.deliver_webhook' "
            "AND args ->> 'account_id' = %s",
            str(account),
        )
        [(deliveries,)] = sql(
            db, "SELECT array_agg(id::text) FROM webhook_deliveries WHERE event_id = %s", event.id
        )
        assert sorted(job["delivery_id"] for (job,) in jobs) == sorted(deliveries)


class TestAttempts:
    async def test_500_three_times_then_200_is_one_success_after_four_attempts(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        hook = new_webhook(db, account, receiver.url(), retry_count=3, retry_delay_seconds=60)
        [delivery] = await fan(database, an_event(account))
        receiver.answer(Answer(status=500), Answer(status=500), Answer(status=500))
        policy = DeliveryPolicy(timeout_seconds=2, max_retry_delay_seconds=3600)
        requeued = Requeued()
        statuses = []
        for expected_wait in (60, 120, 240, None):
            started = dt.datetime.now(dt.UTC)
            statuses.append(await attempt(database, sender, account, delivery, policy=policy,
                                          requeue=requeued))  # fmt: skip
            row = delivery_row(db, delivery)
            if expected_wait is not None:
                wait = dt.datetime.fromisoformat(row["next_retry_at"]) - started
                assert abs(wait.total_seconds() - expected_wait) < 5, row
                assert requeued.calls[-1][0] == delivery
                # not due yet: a job that runs early does nothing
                assert await attempt(database, sender, account, delivery) is None
                make_due(db, delivery)
        assert statuses == ["failed", "failed", "failed", "succeeded"]
        assert len(requeued.calls) == 3
        row = delivery_row(db, delivery)
        assert (row["status"], row["attempts"], row["response_code"], row["last_error"]) == (
            "succeeded", 4, 200, None,
        )  # fmt: skip
        assert attempt_outcomes(db, delivery) == ["failed", "failed", "failed", "succeeded"]
        assert len(receiver.received) == 4
        assert all(r.signature_valid(SECRET) for r in receiver.received)
        assert {json.loads(r.body)["id"] for r in receiver.received} == {row["event_id"]}
        hook_row = webhook_row(db, hook)
        counters = ("total_deliveries", "successful_deliveries", "failed_deliveries",
                    "consecutive_failures")  # fmt: skip
        assert [hook_row[name] for name in counters] == [1, 1, 0, 0]

    async def test_abandoned_when_the_retries_are_spent(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        hook = new_webhook(db, account, receiver.url(), retry_count=1)
        receiver.default = Answer(status=500, body=b"broken")
        [delivery] = await fan(database, an_event(account))
        requeued = Requeued()
        assert await attempt(database, sender, account, delivery, requeue=requeued) == "failed"
        assert await attempt(database, sender, account, delivery, requeue=requeued) == "abandoned"
        assert len(requeued.calls) == 1  # no attempt after abandonment
        assert await attempt(database, sender, account, delivery) is None
        row = delivery_row(db, delivery)
        assert (row["status"], row["attempts"], row["next_retry_at"]) == ("abandoned", 2, None)
        assert (row["response_code"], row["response_body"], row["last_error"]) == (
            500, "broken", "HTTP 500",
        )  # fmt: skip
        counters = webhook_row(db, hook)
        assert (counters["successful_deliveries"], counters["failed_deliveries"]) == (0, 1)
        assert counters["consecutive_failures"] == 2 and counters["failing_since"]

    async def test_a_receiver_that_hangs_is_a_timed_out_attempt(
        self, db: DatabaseURLs, database: Database, receiver: WebhookReceiver
    ) -> None:
        account = new_account(db)
        new_webhook(db, account, receiver.url())
        receiver.answer(Answer(hang=True))
        [delivery] = await fan(database, an_event(account))
        quick = WebhookSender(timeout_seconds=0.3, allow_loopback=True)
        try:
            status = await attempt(database, quick, account, delivery)
        finally:
            await quick.close()
        row = delivery_row(db, delivery)
        assert status == "failed" and row["last_error"] == "timed out after 0.3 s"
        assert row["response_code"] is None and row["response_time_ms"] >= 300

    async def test_a_refused_address_is_a_failed_attempt_that_never_connects(
        self, db: DatabaseURLs, database: Database, receiver: WebhookReceiver
    ) -> None:
        account = new_account(db)
        new_webhook(db, account, receiver.url(host="localhost"))
        [delivery] = await fan(database, an_event(account))
        strict = WebhookSender(timeout_seconds=2, allow_loopback=False)
        try:
            assert await attempt(database, strict, account, delivery) == "failed"
        finally:
            await strict.close()
        assert "loopback" in delivery_row(db, delivery)["last_error"]
        assert receiver.received == []

    async def test_a_success_ends_the_failure_run(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        hook = new_webhook(db, account, receiver.url())
        receiver.answer(Answer(status=500))
        [first] = await fan(database, an_event(account))
        await attempt(database, sender, account, first)
        assert webhook_row(db, hook)["consecutive_failures"] == 1
        make_due(db, first)
        await attempt(database, sender, account, first)
        row = webhook_row(db, hook)
        assert (row["consecutive_failures"], row["failing_since"]) == (0, None)
        assert row["last_delivery_at"] is not None

    async def test_pending_deliveries_of_a_disabled_or_deleted_endpoint_are_abandoned(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        disabled = new_webhook(db, account, receiver.url())
        deleted = new_webhook(db, account, receiver.url())
        deliveries = await fan(database, an_event(account))
        sql(db, "UPDATE webhooks SET is_active = false WHERE id = %s", disabled)
        sql(db, "UPDATE webhooks SET deleted_at = now() WHERE id = %s", deleted)
        for delivery in deliveries:
            assert await attempt(database, sender, account, delivery) is None
        errors = sorted(delivery_row(db, d)["last_error"] for d in deliveries)
        assert errors == ["the endpoint is disabled", "the endpoint was deleted"]
        assert receiver.received == []
        assert webhook_row(db, disabled)["failed_deliveries"] == 1


class TestAutoDisable:
    async def test_a_long_failure_run_disables_the_endpoint_and_tells_the_account(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        hook = new_webhook(db, account, receiver.url(), retry_count=0)
        receiver.default = Answer(status=503)
        policy = DeliveryPolicy(timeout_seconds=2, disable_after_failures=3,
                                disable_after_hours=0)  # fmt: skip
        for _ in range(2):
            [delivery] = await fan(database, an_event(account))
            await attempt(database, sender, account, delivery, policy=policy)
        assert webhook_row(db, hook)["is_active"] is True
        [third] = await fan(database, an_event(account))
        await attempt(database, sender, account, third, policy=policy)

        row = webhook_row(db, hook)
        assert row["is_active"] is False and row["disabled_at"] is not None
        assert row["disabled_reason"].startswith("3 failed attempts in a row since ")
        assert row["disabled_reason"].endswith("the last: HTTP 503")
        [(event_type, aggregate_id, data)] = sql(
            db,
            "SELECT event_type, aggregate_id, event_data FROM domain_events "
            "WHERE account_id = %s AND aggregate_type = 'webhook'",
            account,
        )
        assert (event_type, aggregate_id) == ("webhook.endpoint_disabled", str(hook))
        assert data["webhook_id"] == str(hook) and data["consecutive_failures"] == 3
        assert data["url"] == receiver.url() and data["reason"] == row["disabled_reason"]
        # the endpoint gets nothing more
        assert await fan(database, an_event(account)) == []

    async def test_failures_within_the_window_do_not_disable(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        hook = new_webhook(db, account, receiver.url(), retry_count=0)
        receiver.default = Answer(status=500)
        policy = DeliveryPolicy(timeout_seconds=2, disable_after_failures=1,
                                disable_after_hours=1)  # fmt: skip
        for _ in range(3):
            [delivery] = await fan(database, an_event(account))
            await attempt(database, sender, account, delivery, policy=policy)
        row = webhook_row(db, hook)
        assert row["is_active"] is True and row["consecutive_failures"] == 3
        sql(db, "UPDATE webhooks SET failing_since = now() - interval '2 hours' WHERE id = %s",
            hook)  # fmt: skip
        [delivery] = await fan(database, an_event(account))
        await attempt(database, sender, account, delivery, policy=policy)
        assert webhook_row(db, hook)["is_active"] is False


class TestLease:
    async def test_a_dead_workers_attempt_is_logged_as_interrupted_and_made_again(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        new_webhook(db, account, receiver.url())
        [delivery] = await fan(database, an_event(account))
        async with unit_of_work(database.sessions, account_id=account) as session:
            claim = await claim_attempt(session, account_id=account, delivery_id=delivery,
                                        box=BOX, policy=NOW_POLICY)  # fmt: skip
        assert claim is not None and claim.number == 1
        # the worker dies here; while the lease runs, nobody else takes the delivery
        row = delivery_row(db, delivery)
        assert row["status"] == "delivering"
        lease = dt.datetime.fromisoformat(row["next_retry_at"]) - dt.datetime.now(dt.UTC)
        assert 5 < lease.total_seconds() <= NOW_POLICY.timeout_seconds + 5
        assert await attempt(database, sender, account, delivery) is None
        make_due(db, delivery)  # the lease ran out
        assert await attempt(database, sender, account, delivery) == "succeeded"
        assert attempt_outcomes(db, delivery) == ["interrupted", "succeeded"]
        assert delivery_row(db, delivery)["attempts"] == 2

    async def test_an_outcome_after_the_claim_was_taken_over_is_not_the_deliverys(
        self, db: DatabaseURLs, database: Database, sender: WebhookSender,
        receiver: WebhookReceiver,
    ) -> None:  # fmt: skip
        account = new_account(db)
        new_webhook(db, account, receiver.url())
        [delivery] = await fan(database, an_event(account))
        async with unit_of_work(database.sessions, account_id=account) as session:
            slow = await claim_attempt(session, account_id=account, delivery_id=delivery,
                                       box=BOX, policy=NOW_POLICY)  # fmt: skip
        assert slow is not None
        make_due(db, delivery)
        assert await attempt(database, sender, account, delivery) == "succeeded"
        late = SendResult(elapsed_ms=9000, error="timed out after 2 s")
        async with unit_of_work(database.sessions, account_id=account) as session:
            assert await record_outcome(session, slow, late, policy=NOW_POLICY,
                                        requeue=Requeued()) is None  # fmt: skip
        assert delivery_row(db, delivery)["status"] == "succeeded"
        assert attempt_outcomes(db, delivery) == ["failed", "succeeded"]

    async def test_two_claims_at_once_make_one_attempt(
        self, db: DatabaseURLs, database: Database
    ) -> None:
        account = new_account(db)
        new_webhook(db, account)
        [delivery] = await fan(database, an_event(account))

        async def claim_and_hold() -> bool:
            async with unit_of_work(database.sessions, account_id=account) as session:
                claim = await claim_attempt(session, account_id=account, delivery_id=delivery,
                                            box=BOX, policy=NOW_POLICY)  # fmt: skip
                await asyncio.sleep(0.3)  # the row stays locked while the other one tries
                return claim is not None

        assert sorted(await asyncio.gather(claim_and_hold(), claim_and_hold())) == [False, True]
        assert attempt_outcomes(db, delivery) == ["delivering"]
        assert delivery_row(db, delivery)["attempts"] == 1


class TestSweep:
    def test_finds_expired_leases_and_lost_jobs_only(self, db: DatabaseURLs) -> None:
        account = new_account(db)
        hook = new_webhook(db, account)
        cases = {
            "lease out": ("delivering", "now() - interval '1 second'"),
            "lease on": ("delivering", "now() + interval '1 minute'"),
            "lost job": ("pending", "now() - interval '11 minutes'"),
            "queued": ("pending", "now() - interval '1 minute'"),
            "retry lost": ("failed", "now() - interval '20 minutes'"),
            "done": ("succeeded", "now() - interval '1 hour'"),
        }
        ids = {}
        for name, (status, due) in cases.items():
            [(ids[name],)] = sql(
                db,
                "INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, event_id, "
                f"payload, status, next_retry_at) VALUES (%s, %s, 'x', gen_random_uuid(), '{{}}', "
                f"%s, {due}) RETURNING id",
                account, hook, status,
            )  # fmt: skip
        found = {
            row[1] for row in sql(db, "SELECT * FROM webhook_deliveries_overdue('10 minutes', 100)")
        }
        assert {name for name, id_ in ids.items() if id_ in found} == {
            "lease out", "lost job", "retry lost",
        }  # fmt: skip

    def test_only_the_owner_may_sweep(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.app) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM webhook_deliveries_overdue('1 minute', 1)")


def test_backoff_doubles_from_the_endpoints_delay_up_to_the_cap() -> None:
    delays = [retry_delay(n, base_seconds=60, cap_seconds=600) for n in range(1, 6)]
    assert delays == [60, 120, 240, 480, 600]
    assert retry_delay(40, base_seconds=1, cap_seconds=3600) == 3600
