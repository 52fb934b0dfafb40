"""Deferring a real job from a test, the way a request does."""

from __future__ import annotations

from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.jobs import defer_in_transaction, prune_finished_jobs


async def defer_prune_job(urls: DatabaseURLs) -> int:
    """Commit one `kernel.prune_finished_jobs` job; return its id."""
    database = open_database(urls.app)
    try:
        async with unit_of_work(database.sessions, account_id=None) as session:
            return await defer_in_transaction(session, prune_finished_jobs, timestamp=1)
    finally:
        await database.dispose()
