"""Worked examples of tracked tasks, for the async job tests (no product job needs one yet).

They run in the test's own process (``run_worker_async``), so a test can hold one at a gate
while it polls the API, and read which runs happened.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from markettina.kernel.async_jobs import JobFailed, TrackedJob, tracked_task

QUEUE = "test-jobs"
gates: dict[str, asyncio.Event] = {}
runs: list[tuple[uuid.UUID, int]] = []  # (async job id, attempt) of every run that started


@tracked_task(name="tests.count_words", queue=QUEUE, retry_delay_seconds=0)
async def count_words(job: TrackedJob) -> dict[str, Any]:
    """Counts the words of ``input.text``; waits at ``input.gate`` halfway if one is named."""
    runs.append((job.id, job.attempt))
    await job.progress(50)
    gate = job.input.get("gate")
    if gate is not None:
        await gates.setdefault(gate, asyncio.Event()).wait()
    return {"words": len(str(job.input["text"]).split())}


@tracked_task(name="tests.flaky_import", queue=QUEUE, retry_delay_seconds=0)
async def flaky_import(job: TrackedJob) -> dict[str, Any]:
    """Fails its first ``input.failures`` runs: a JobFailed, or an unexpected error."""
    runs.append((job.id, job.attempt))
    if job.attempt < int(job.input["failures"]):
        if job.input.get("unexpected"):
            raise ValueError("connection string postgres://secret@db leaked")
        raise JobFailed("the source file is gone")
    return {"imported": True}
