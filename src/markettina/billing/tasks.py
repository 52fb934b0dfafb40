"""Background jobs of the billing context."""

from __future__ import annotations

from markettina.kernel.db.job_database import job_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.jobs import job_queue
from markettina.kernel.logs import get_logger

from .referrals import expire_referrals

log = get_logger(__name__)


@job_queue.periodic(cron="23 * * * *", periodic_id="expire-referrals")
@job_queue.task(name="billing.expire_referrals", queue="maintenance", queueing_lock="referrals")
async def expire_referrals_job(timestamp: int) -> int:
    """Hourly: pending referrals past their 30 days become expired. Referrals are a global
    table, so no tenant is set; the application role may update them."""
    async with unit_of_work(job_database().sessions, account_id=None) as session:
        expired = await expire_referrals(session)
    if expired:
        log.info("referrals_expired", count=expired)
    return expired
