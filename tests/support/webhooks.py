"""Webhooks under test: an API that may reach 127.0.0.1, worker settings to match, and
running the queued delivery jobs in-process."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI

from markettina.app import create_app
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import SecretBox
from markettina.settings import get_settings
from markettina.worker import run_worker_async
from tests.support.api import TEST_ENCRYPTION_KEY, suite_settings
from tests.support.checks import sql
from tests.support.identity import TEST_SECRET_KEY
from tests.support.webhook_receiver import Received

BOX = SecretBox([TEST_ENCRYPTION_KEY])
SECRET = "whsec_test-endpoint-secret"

# what a worker needs to deliver to the local receiver at once: loopback allowed, no
# backoff wait (the schedule itself is tested on its own), the API's keys
WORKER_ENV = {
    "MARKETTINA_ENVIRONMENT": "test",
    "MARKETTINA_WEBHOOKS_ALLOW_LOOPBACK": "true",
    "MARKETTINA_WEBHOOKS_MAX_RETRY_DELAY_SECONDS": "0",
    "MARKETTINA_SECRET_KEY": TEST_SECRET_KEY,
    "MARKETTINA_ENCRYPTION_KEYS": json.dumps([TEST_ENCRYPTION_KEY]),
}


def webhooks_app(urls: DatabaseURLs, **settings: Any) -> FastAPI:
    overrides = {"webhooks_allow_loopback": True, **settings}
    return create_app(urls=urls, settings=suite_settings().model_copy(update=overrides))


@contextmanager
def worker_settings(**extra: str) -> Iterator[None]:
    """The environment an in-process worker reads its settings from."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**WORKER_ENV, **extra}.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()
    get_settings.cache_clear()


async def run_queued_deliveries(urls: DatabaseURLs, **extra: str) -> None:
    """Run the webhook jobs waiting in the queue, and the retries they queue, until none
    is due (one job at a time: a worker told not to wait stops at the first empty fetch)."""
    with worker_settings(**extra):
        while due_delivery_jobs(urls):
            await run_worker_async(
                urls, concurrency=1, queues=["webhooks"], wait=False, install_signal_handlers=False
            )


def due_delivery_jobs(urls: DatabaseURLs) -> int:
    [(count,)] = sql(
        urls,
        "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'kernel.deliver_webhook' "
        "AND status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now())",
    )
    return int(count)


def delivery_row(urls: DatabaseURLs, delivery_id: str | uuid.UUID) -> dict[str, Any]:
    [(row,)] = sql(urls, "SELECT to_jsonb(d) FROM webhook_deliveries d WHERE id = %s", delivery_id)
    return dict(row)


def attempt_outcomes(urls: DatabaseURLs, delivery_id: str | uuid.UUID) -> list[str]:
    rows = sql(
        urls,
        "SELECT outcome FROM webhook_attempts WHERE delivery_id = %s ORDER BY number",
        delivery_id,
    )
    return [row[0] for row in rows]


def new_webhook(
    urls: DatabaseURLs, account_id: uuid.UUID, url: str = "https://hooks.example/x", *,
    events: tuple[str, ...] = ("*",), active: bool = True, deleted: bool = False,
    retry_count: int = 3, retry_delay_seconds: int = 60,
) -> uuid.UUID:  # fmt: skip
    [(hook,)] = sql(
        urls,
        "INSERT INTO webhooks (account_id, name, url, events, secret_encrypted, is_active, "
        "deleted_at, retry_count, retry_delay_seconds) VALUES (%s, 'hook', %s, %s, %s, %s, "
        "CASE WHEN %s THEN now() END, %s, %s) RETURNING id",
        account_id, url, list(events), BOX.encrypt(SECRET), active, deleted, retry_count,
        retry_delay_seconds,
    )  # fmt: skip
    return uuid.UUID(str(hook))


def v1_signers(received: Received, *secrets: str) -> list[str | None]:
    """Which of ``secrets`` made each v1 signature of the request, in the header's order
    (None: none of them), checked with this module's own HMAC code; a stale or missing
    timestamp signs nothing."""
    items = [item.split("=", 1) for item in received.headers["markettina-signature"].split(",")]
    timestamps = [value for name, value in items if name == "t"]
    assert len(timestamps) == 1 and timestamps[0].isdigit(), received.headers
    assert abs(time.time() - int(timestamps[0])) < 300
    message = timestamps[0].encode() + b"." + received.body
    made = {hmac.new(s.encode(), message, hashlib.sha256).hexdigest(): s for s in secrets}
    return [made.get(value) for name, value in items if name == "v1"]
