"""The e-mails queued for a person, read back from the job queue the way the worker reads
them: the stored arguments, the body decrypted with the suite's keys."""

from __future__ import annotations

from typing import Any

from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.security import SecretBox
from tests.support.api import TEST_ENCRYPTION_KEY
from tests.support.checks import sql

BOX = SecretBox([TEST_ENCRYPTION_KEY])


def queued_emails(urls: DatabaseURLs, address: str) -> list[dict[str, Any]]:
    """The `identity.send_email` jobs to ``address`` (any case), oldest first: their
    arguments, their queue, and ``text``, the body they carry encrypted."""
    rows = sql(
        urls,
        "SELECT args, queue_name FROM procrastinate_jobs "
        "WHERE task_name = 'identity.send_email' AND lower(args->>'to') = lower(%s) ORDER BY id",
        address,
    )
    return [
        {**args, "queue": queue, "text": BOX.decrypt(args["sealed_text"])} for args, queue in rows
    ]
