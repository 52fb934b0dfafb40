"""Background jobs of the analytics context."""

from __future__ import annotations

from markettina.analytics.read_models import refresh_read_models_async
from markettina.kernel.jobs import job_queue, maintenance_connection


@job_queue.periodic(cron="*/15 * * * *", periodic_id="refresh-read-models")
@job_queue.task(
    name="analytics.refresh_read_models", queue="maintenance", queueing_lock="read-models"
)
async def refresh_read_models_job(timestamp: int) -> dict[str, int]:
    """Rebuild the six read models as the owner (they span every account). A run that finds
    another refresh in progress does nothing: the next one is 15 minutes away."""
    async with await maintenance_connection() as conn:
        refreshes = await refresh_read_models_async(conn)
    return {refresh.view_name: refresh.duration_ms for refresh in refreshes}
