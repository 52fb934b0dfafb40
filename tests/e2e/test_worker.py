"""`markettina worker` runs deferred jobs and stops on SIGTERM."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.jobs import defer_prune_job
from tests.support.processes import markettina_env, spawn, stop

pytestmark = pytest.mark.e2e


def _job_status(urls: DatabaseURLs, job_id: int) -> str:
    with bootstrap.connect(urls.owner) as conn:
        row = conn.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", (job_id,))
        return str(row.fetchone()[0])


async def test_worker_runs_jobs_until_terminated(fresh_db: DatabaseURLs, tmp_path: Path) -> None:
    job_id = await defer_prune_job(fresh_db)
    url = fresh_db.admin.set(drivername="postgresql").render_as_string(hide_password=False)
    log = tmp_path / "worker.log"
    worker = spawn(
        ["worker", "--concurrency", "2"], markettina_env(MARKETTINA_DATABASE_URL=url), log
    )
    try:
        deadline = time.monotonic() + 30
        while _job_status(fresh_db, job_id) != "succeeded":
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)  # noqa: ASYNC251 - the worker is another process
    finally:
        code = stop(worker, signal.SIGTERM)
    assert code == 0, log.read_text()
