"""Background work of leads: the CSV import job, rescoring an account's leads after its
weights changed, the hourly purge of staged files no job will import, and the event
handlers that count engagement and rescore.

The engagement handlers take the events the e-mail and form features publish:
``email.opened``, ``email.clicked`` and ``form.submitted``, whose data names the lead by
``lead_id`` or else by ``email`` (another person is no lead: nothing happens). They run in
the relay, in the transaction that marks the event processed, so an event counts once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from markettina.kernel.async_jobs import TrackedJob, tracked_task
from markettina.kernel.db.job_database import job_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.events import StoredEvent, event_handler
from markettina.kernel.jobs import defer_in_transaction, job_queue, maintenance_connection
from markettina.kernel.logs import get_logger

from .lead_import_job import run_import
from .lead_rescoring import Engagement, record_engagement, rescore_batch

log = get_logger(__name__)

QUEUE = "content"
ENGAGEMENT_EVENTS: dict[str, Engagement] = {
    "email.opened": "email_opened",
    "email.clicked": "email_clicked",
    "form.submitted": "form_submitted",
}


@tracked_task(name="content.import_leads", queue=QUEUE)
async def import_leads(job: TrackedJob) -> dict[str, Any]:
    """Import a staged CSV file of leads (one transaction; progress as it goes)."""
    async with unit_of_work(job_database().sessions, account_id=job.account_id) as session:
        return await run_import(
            session,
            account_id=job.account_id,
            import_id=uuid.UUID(job.input["import_id"]),
            progress=job.progress,
        )


@job_queue.periodic(cron="17 * * * *", periodic_id="purge-abandoned-lead-imports")
@job_queue.task(
    name="content.purge_abandoned_lead_imports", queue="maintenance", queueing_lock="lead-imports"
)
async def purge_abandoned_lead_imports(timestamp: int) -> int:
    """Hourly: delete the staged CSV files no job will import any more (cancelled before
    it ran, or failed for good), an hour after their upload; how many went."""
    async with await maintenance_connection() as conn:
        row = await (await conn.execute("SELECT purge_abandoned_lead_imports()")).fetchone()
    purged = int(row[0]) if row else 0
    if purged:
        log.info("lead_imports_purged", count=purged)
    return purged


@job_queue.task(name="content.rescore_leads", queue=QUEUE)
async def rescore_leads(account_id: str) -> int:
    """Rescore every live lead of the account with its current weights, a batch per
    transaction; the number of batches."""
    after = 0
    batches = 0
    while True:
        async with unit_of_work(job_database().sessions, account_id=uuid.UUID(account_id)) as s:
            last = await rescore_batch(s, account_id=uuid.UUID(account_id), after_id=after)
        if last is None:
            return batches
        after, batches = last, batches + 1


async def defer_rescore(session: AsyncSession, account_id: uuid.UUID) -> None:
    await defer_in_transaction(session, rescore_leads, account_id=str(account_id))


@event_handler("lead_engagement_scoring", *ENGAGEMENT_EVENTS)
async def count_engagement(session: AsyncSession, event: StoredEvent) -> None:
    lead_id = event.data.get("lead_id")
    email = event.data.get("email")
    found = await record_engagement(
        session,
        account_id=event.account_id,
        kind=ENGAGEMENT_EVENTS[event.event_type],
        lead_id=lead_id if isinstance(lead_id, int) else None,
        email=email if isinstance(email, str) else None,
        at=event.created_at,
    )
    if not found:
        log.info("engagement_without_lead", event_id=str(event.id), event_type=event.event_type)
