"""Runs Procrastinate workers and the periodic schedule on the service's database.

Every context's tasks module is imported here, so one worker runs every job.
"""

from __future__ import annotations

import asyncio
import importlib

from .bindings import bind_worker_adapters
from .kernel.db.engine import open_database
from .kernel.db.job_database import bind_job_database
from .kernel.db.urls import DatabaseURLs, as_libpq_url
from .kernel.feature_flags import FlagChangeListener
from .kernel.jobs import close_job_queue, configure_maintenance, job_queue, open_job_queue
from .kernel.logs import get_logger
from .settings import get_settings

# modules whose import registers tasks on the job queue (the kernel's own are in kernel.jobs)
TASK_MODULES: tuple[str, ...] = (
    "markettina.kernel.jobs",
    "markettina.kernel.events.tasks",
    "markettina.kernel.webhooks.tasks",
    "markettina.analytics.tasks",
    "markettina.identity.tasks",
    "markettina.identity.social_tasks",
    "markettina.identity.social_revocation",
    "markettina.billing.tasks",
    "markettina.content.lead_tasks",
)

log = get_logger(__name__)


def load_tasks() -> None:
    """Import every task module, then the extra ones the settings name (e.g. test handlers)."""
    for module in (*TASK_MODULES, *get_settings().extra_task_modules):
        importlib.import_module(module)


async def run_worker_async(
    urls: DatabaseURLs,
    *,
    concurrency: int,
    queues: list[str] | None,
    wait: bool = True,
    install_signal_handlers: bool = True,
) -> None:
    load_tasks()
    configure_maintenance(as_libpq_url(urls.owner))
    bind_worker_adapters(get_settings())
    # jobs that touch tenant data open their unit of work on this, as markettina_app
    database = open_database(urls.app, pool_size=concurrency + 1, max_overflow=concurrency)
    bind_job_database(database)
    pool = await open_job_queue(as_libpq_url(urls.app), max_size=concurrency + 2)
    flag_listener = FlagChangeListener(as_libpq_url(urls.app))
    await flag_listener.start()
    log.info("worker_started", concurrency=concurrency, queues=queues or "all")
    try:
        await job_queue.run_worker_async(
            concurrency=concurrency,
            queues=queues or None,  # type: ignore[arg-type]  # None means every queue
            wait=wait,
            install_signal_handlers=install_signal_handlers,
            name="markettina-worker",
        )
    finally:
        await flag_listener.stop()
        await close_job_queue(pool)
        bind_job_database(None)
        await database.dispose()
        log.info("worker_stopped")


def run_worker(urls: DatabaseURLs, *, concurrency: int, queues: list[str] | None) -> None:
    asyncio.run(run_worker_async(urls, concurrency=concurrency, queues=queues))
