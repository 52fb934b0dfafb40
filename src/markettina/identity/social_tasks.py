"""Background jobs of social accounts: the periodic health check.

Finding the tokens about to expire is a sweep across tenants, which the application role
(row-level security) cannot make: it is the owner's maintenance function, run on the
maintenance connection. Each account is then refreshed and recorded as the application
role, in a unit of work of its own with that account as the tenant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from markettina.kernel.db.job_database import job_database
from markettina.kernel.jobs import job_queue, maintenance_connection

from .social_health import check_social_accounts, due_social_accounts
from .social_revocation import secret_box


@job_queue.periodic(cron="*/30 * * * *", periodic_id="check-social-accounts")
@job_queue.task(
    name="identity.check_social_accounts",
    queue="maintenance",
    queueing_lock="social-health",
    lock="social-health",  # one sweep at a time: two would refresh the same tokens
)
async def check_social_accounts_job(timestamp: int) -> dict[str, int]:
    now = dt.datetime.now(dt.UTC)
    async with await maintenance_connection() as owner:
        due = await due_social_accounts(owner, now=now)
    report = await check_social_accounts(
        due, sessions=job_database().sessions, box=secret_box(), now=now
    )
    return asdict(report)
