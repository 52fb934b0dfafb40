"""Webhooks with real `markettina worker` processes: an event recorded in a business
transaction reaches the receiver through the relay, the fan-out and the delivery job,
retries included; a worker killed (SIGKILL) mid-delivery loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.events import Event, record
from tests.support.checks import sql
from tests.support.identity import new_account
from tests.support.processes import markettina_env, spawn, stop
from tests.support.webhook_receiver import Answer, WebhookReceiver, running_receiver
from tests.support.webhooks import SECRET, WORKER_ENV, attempt_outcomes, new_webhook

pytestmark = pytest.mark.e2e


class ProbeHappened(Event):
    """A test event."""

    event_type: ClassVar[str] = "test_webhooks.probe_happened"
    aggregate_type: ClassVar[str] = "probe"
    n: int


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver() as started:
        yield started


def start_worker(urls: DatabaseURLs, log: Path, **settings: str) -> subprocess.Popen[bytes]:
    admin = urls.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    env = markettina_env(
        MARKETTINA_DATABASE_URL=admin, MARKETTINA_WEBHOOKS_SWEEP_SECONDS="1",
        **WORKER_ENV, **settings,
    )  # fmt: skip
    return spawn(["worker", "--concurrency", "2"], env, log)


async def record_probe(urls: DatabaseURLs, account_id: uuid.UUID) -> uuid.UUID:
    database = open_database(urls.app)
    try:
        async with unit_of_work(database.sessions, account_id=account_id) as session:
            return await record(session, ProbeHappened(n=1), account_id=account_id,
                                aggregate_id=uuid.uuid4())  # fmt: skip
    finally:
        await database.dispose()


def the_delivery(urls: DatabaseURLs, event_id: uuid.UUID) -> dict[str, Any]:
    [(row,)] = sql(
        urls, "SELECT to_jsonb(d) FROM webhook_deliveries d WHERE event_id = %s", event_id
    )
    return dict(row)


def wait_until_final(
    urls: DatabaseURLs, event_id: uuid.UUID, worker: subprocess.Popen[bytes], log: Path
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        assert worker.poll() is None, log.read_text()
        rows = sql(urls, "SELECT status FROM webhook_deliveries WHERE event_id = %s", event_id)
        if rows and rows[0][0] in ("succeeded", "abandoned"):
            return the_delivery(urls, event_id)
        assert time.monotonic() < deadline, (rows, log.read_text()[-4000:])
        time.sleep(0.1)


async def test_500_three_times_then_200_is_delivered_once_after_four_attempts(
    fresh_db: DatabaseURLs, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    account = new_account(fresh_db)
    hook = new_webhook(fresh_db, account, receiver.url(), events=("test_webhooks.*",))
    receiver.answer(Answer(status=500), Answer(status=500), Answer(status=500))
    log = tmp_path / "worker.log"
    worker = start_worker(fresh_db, log)
    try:
        event_id = await record_probe(fresh_db, account)
        delivery = wait_until_final(fresh_db, event_id, worker, log)
    finally:
        stop(worker)
    assert (delivery["status"], delivery["attempts"], delivery["response_code"]) == (
        "succeeded", 4, 200,
    )  # fmt: skip
    assert attempt_outcomes(fresh_db, delivery["id"]) == ["failed"] * 3 + ["succeeded"]
    assert len(receiver.received) == 4
    for request in receiver.received:
        assert request.signature_valid(SECRET)
        assert request.headers["markettina-event-id"] == str(event_id)
        assert json.loads(request.body)["data"] == {"n": 1}
    [(deliveries, successful, failed)] = sql(
        fresh_db,
        "SELECT total_deliveries, successful_deliveries, failed_deliveries FROM webhooks "
        "WHERE id = %s",
        hook,
    )
    assert (deliveries, successful, failed) == (1, 1, 0)
    [(processed,)] = sql(fresh_db, "SELECT processed FROM domain_events WHERE id = %s", event_id)
    assert processed is True


async def test_a_worker_killed_mid_delivery_loses_nothing(
    fresh_db: DatabaseURLs, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    account = new_account(fresh_db)
    new_webhook(fresh_db, account, receiver.url(), events=("*",))
    receiver.answer(Answer(hang=True))  # the first attempt never gets an answer
    log = tmp_path / "worker.log"
    first = start_worker(fresh_db, log, MARKETTINA_WEBHOOKS_TIMEOUT_SECONDS="3")
    try:
        event_id = await record_probe(fresh_db, account)
        receiver.wait_for(1)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert the_delivery(fresh_db, event_id)["status"] == "delivering"

    second = start_worker(fresh_db, log, MARKETTINA_WEBHOOKS_TIMEOUT_SECONDS="3")
    try:
        delivery = wait_until_final(fresh_db, event_id, second, log)
    finally:
        stop(second)
    assert (delivery["status"], delivery["attempts"]) == ("succeeded", 2)
    assert attempt_outcomes(fresh_db, delivery["id"]) == ["interrupted", "succeeded"]
    assert [r.headers["markettina-event-id"] for r in receiver.received] == [str(event_id)] * 2
