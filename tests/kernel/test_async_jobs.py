"""Pollable async jobs: started with the caller's transaction, run by a real worker through
pending -> running -> succeeded/failed, retried up to max_retries, cancelled while pending."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from markettina.kernel.async_jobs import start_job
from markettina.kernel.db.engine import Database, open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.jobs import prune_finished_jobs
from markettina.worker import run_worker_async
from tests.support import tracked_tasks
from tests.support.checks import fields, problem, sql
from tests.support.identity import Member, new_account, new_member
from tests.support.tracked_tasks import count_words, flaky_import


class Boom(Exception):
    pass


@pytest.fixture(scope="module")
async def database(db: DatabaseURLs) -> AsyncIterator[Database]:
    opened = open_database(db.app, pool_size=2)
    yield opened
    await opened.dispose()


@pytest.fixture
def owner(db: DatabaseURLs) -> Member:
    return new_member(db, new_account(db), "owner")


async def start(
    database: Database, member: Member, task: Any = count_words, **options: Any
) -> uuid.UUID:
    """Start a job the way a context's service does, committed."""
    options.setdefault("input_data", {"text": "one two three"})
    async with unit_of_work(database.sessions, account_id=member.account_id) as session:
        return await start_job(
            session, account_id=member.account_id, job_type=options.pop("job_type", "count"),
            task=task, created_by=member.user_id, **options,
        )  # fmt: skip


async def run_worker(db: DatabaseURLs) -> None:
    """Run the queued test jobs until none is left."""
    await run_worker_async(db, concurrency=1, queues=[tracked_tasks.QUEUE], wait=False,
                           install_signal_handlers=False)  # fmt: skip


async def read(client: httpx.AsyncClient, member: Member, job_id: uuid.UUID) -> dict[str, Any]:
    response = await client.get(f"/v1/jobs/{job_id}", headers=member.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def queue_status(db: DatabaseURLs, job_id: uuid.UUID) -> str:
    [(status,)] = sql(
        db,
        "SELECT q.status::text FROM async_jobs j JOIN procrastinate_jobs q "
        "ON q.id = j.queue_job_id WHERE j.id = %s",
        job_id,
    )
    return str(status)


def runs_of(job_id: uuid.UUID) -> list[int]:
    return [attempt for ran, attempt in tracked_tasks.runs if ran == job_id]


class TestStart:
    async def test_a_rolled_back_start_leaves_neither_row_nor_queued_job(
        self, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_type = f"rolled-back-{uuid.uuid4().hex[:6]}"
        with pytest.raises(Boom):
            async with unit_of_work(database.sessions, account_id=owner.account_id) as session:
                await start_job(session, account_id=owner.account_id, job_type=job_type,
                                task=count_words, input_data={"text": "x"})  # fmt: skip
                raise Boom
        assert sql(db, "SELECT count(*) FROM async_jobs WHERE job_type = %s", job_type) == [(0,)]
        queued = sql(
            db,
            "SELECT count(*) FROM procrastinate_jobs WHERE args->>'account_id' = %s",
            str(owner.account_id),
        )
        assert queued == [(0,)]

    async def test_a_committed_start_is_a_pending_job_with_its_queued_run(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner, priority=7, max_retries=2)
        job = await read(client, owner, job_id)
        assert {k: job[k] for k in ("status", "progress_percent", "priority", "job_type",
                                    "retry_count", "max_retries", "created_by")} == {
            "status": "pending", "progress_percent": 0, "priority": 7, "job_type": "count",
            "retry_count": 0, "max_retries": 2, "created_by": owner.user_id,
        }  # fmt: skip
        assert job["input_data"] == {"text": "one two three"} and job["result_data"] is None
        [(task_name, priority, args)] = sql(
            db,
            "SELECT q.task_name, q.priority, q.args FROM async_jobs j "
            "JOIN procrastinate_jobs q ON q.id = j.queue_job_id WHERE j.id = %s",
            job_id,
        )
        assert (task_name, priority) == ("tests.count_words", 7)
        assert args == {"async_job_id": str(job_id), "account_id": str(owner.account_id)}

    async def test_only_a_tracked_task_can_be_started(
        self, database: Database, owner: Member
    ) -> None:
        with pytest.raises(ValueError, match="not a tracked task"):
            await start(database, owner, task=prune_finished_jobs)


class TestRun:
    async def test_pending_running_succeeded_with_progress_and_result_visible(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        gate = uuid.uuid4().hex
        tracked_tasks.gates[gate] = asyncio.Event()
        job_id = await start(database, owner, input_data={"text": "a b c d", "gate": gate})
        worker = asyncio.create_task(run_worker(db))
        try:
            for _ in range(500):
                job = await read(client, owner, job_id)
                if job["progress_percent"] == 50:
                    break
                await asyncio.sleep(0.01)
            assert job["status"] == "running" and job["progress_percent"] == 50
            assert job["started_at"] is not None and job["completed_at"] is None
            # a running job is no longer the account's to cancel
            cancel = await client.post(f"/v1/jobs/{job_id}/cancel", headers=owner.headers)
            problem(cancel, 409, "job_not_pending")
        finally:
            tracked_tasks.gates[gate].set()
            await asyncio.wait_for(worker, 30)
        job = await read(client, owner, job_id)
        assert job["status"] == "succeeded" and job["progress_percent"] == 100
        assert job["result_data"] == {"words": 4} and job["error_message"] is None
        assert job["completed_at"] is not None
        assert queue_status(db, job_id) == "succeeded"

    async def test_a_failure_is_retried_then_succeeds(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner, task=flaky_import, input_data={"failures": 1},
                             max_retries=1)  # fmt: skip
        await run_worker(db)
        job = await read(client, owner, job_id)
        assert (job["status"], job["retry_count"], job["error_message"]) == ("succeeded", 1, None)
        assert job["result_data"] == {"imported": True}
        assert runs_of(job_id) == [0, 1]

    async def test_failures_past_max_retries_fail_the_job_with_its_message(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner, task=flaky_import, input_data={"failures": 5},
                             max_retries=2)  # fmt: skip
        await run_worker(db)
        job = await read(client, owner, job_id)
        assert (job["status"], job["retry_count"]) == ("failed", 2)
        assert job["error_message"] == "the source file is gone"
        assert job["result_data"] is None and job["completed_at"] is not None
        assert runs_of(job_id) == [0, 1, 2]
        assert queue_status(db, job_id) == "failed"

    async def test_an_unexpected_error_is_reported_without_its_details(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner, task=flaky_import, max_retries=0,
                             input_data={"failures": 1, "unexpected": True})  # fmt: skip
        await run_worker(db)
        job = await read(client, owner, job_id)
        assert job["status"] == "failed"
        assert job["error_message"] == "the job failed unexpectedly"
        assert runs_of(job_id) == [0]


class TestCancel:
    async def test_a_cancelled_pending_job_never_runs(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner)
        response = await client.post(f"/v1/jobs/{job_id}/cancel", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "cancelled"
        assert response.json()["completed_at"] is not None
        assert queue_status(db, job_id) == "cancelled"
        await run_worker(db)
        assert runs_of(job_id) == []
        assert (await read(client, owner, job_id))["status"] == "cancelled"
        again = await client.post(f"/v1/jobs/{job_id}/cancel", headers=owner.headers)
        assert "cancelled" in problem(again, 409, "job_not_pending")["detail"]

    async def test_a_run_that_finds_its_job_cancelled_does_nothing(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        """A worker that took the queued run just before the cancel: the row decides."""
        job_id = await start(database, owner)
        sql(db, "UPDATE async_jobs SET status = 'cancelled' WHERE id = %s", job_id)
        await run_worker(db)
        assert runs_of(job_id) == []
        assert (await read(client, owner, job_id))["status"] == "cancelled"

    async def test_a_finished_job_cannot_be_cancelled(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner)
        await run_worker(db)
        response = await client.post(f"/v1/jobs/{job_id}/cancel", headers=owner.headers)
        problem(response, 409, "job_not_pending")
        assert (await read(client, owner, job_id))["status"] == "succeeded"

    async def test_a_viewer_may_read_but_not_cancel(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        job_id = await start(database, owner)
        viewer = new_member(db, owner.account_id, "viewer")
        assert (await read(client, viewer, job_id))["status"] == "pending"
        response = await client.post(f"/v1/jobs/{job_id}/cancel", headers=viewer.headers)
        problem(response, 403, "permission_denied")


class TestList:
    async def test_newest_first_filtered_and_paged(
        self, client: httpx.AsyncClient, database: Database, owner: Member
    ) -> None:
        exports = [await start(database, owner, job_type="export") for _ in range(3)]
        imported = await start(database, owner, job_type="import")
        await client.post(f"/v1/jobs/{exports[0]}/cancel", headers=owner.headers)

        everything = await client.get("/v1/jobs", headers=owner.headers)
        assert [j["id"] for j in everything.json()["items"]] == [
            str(i) for i in (imported, *reversed(exports))
        ]
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"job_type": "export", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/jobs", params=params, headers=owner.headers)).json()
            seen += [j["id"] for j in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(i) for i in reversed(exports)]
        pending = await client.get("/v1/jobs", params={"status": "pending", "job_type": "export"},
                                   headers=owner.headers)  # fmt: skip
        assert [j["id"] for j in pending.json()["items"]] == [str(exports[2]), str(exports[1])]

    async def test_another_accounts_jobs_are_not_listed(
        self, client: httpx.AsyncClient, db: DatabaseURLs, database: Database, owner: Member
    ) -> None:
        await start(database, owner)
        stranger = new_member(db, new_account(db), "owner")
        listed = await client.get("/v1/jobs", headers=stranger.headers)
        assert listed.status_code == 200 and listed.json()["items"] == []

    @pytest.mark.parametrize(
        ("params", "field"),
        [({"status": "done"}, "query.status"), ({"limit": 0}, "query.limit"),
         ({"cursor": "nope"}, "query.cursor"), ({"job_type": ""}, "query.job_type")],
    )  # fmt: skip
    async def test_bad_filters_are_a_422_naming_them(
        self, client: httpx.AsyncClient, owner: Member, params: dict[str, Any], field: str
    ) -> None:
        response = await client.get("/v1/jobs", params=params, headers=owner.headers)
        assert fields(problem(response, 422)) == [field]

    async def test_an_unknown_job_is_a_404(self, client: httpx.AsyncClient, owner: Member) -> None:
        response = await client.get(f"/v1/jobs/{uuid.uuid4()}", headers=owner.headers)
        problem(response, 404, "job_not_found")
