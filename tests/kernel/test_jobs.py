"""Jobs are deferred on the caller's own transaction: they live or die with it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from markettina.kernel.db.engine import open_database
from markettina.kernel.db.unit_of_work import unit_of_work
from markettina.kernel.db.urls import DatabaseURLs
from markettina.kernel.jobs import defer_in_transaction, prune_finished_jobs
from markettina.worker import run_worker_async
from tests.support.jobs import defer_prune_job

COUNT_JOBS = text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task")


class Boom(Exception):
    pass


async def _count(urls: DatabaseURLs) -> int:
    engine = create_async_engine(urls.owner, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(COUNT_JOBS, {"task": prune_finished_jobs.name})).scalar_one()
    finally:
        await engine.dispose()


class TestDeferInTransaction:
    async def test_rolled_back_transaction_leaves_no_job(self, fresh_db: DatabaseURLs) -> None:
        database = open_database(fresh_db.app)
        try:
            with pytest.raises(Boom):
                async with unit_of_work(database.sessions, account_id=None) as session:
                    await defer_in_transaction(session, prune_finished_jobs, timestamp=1)
                    raise Boom
        finally:
            await database.dispose()
        assert await _count(fresh_db) == 0

    async def test_committed_transaction_leaves_exactly_one_job(
        self, fresh_db: DatabaseURLs
    ) -> None:
        database = open_database(fresh_db.app)
        try:
            async with unit_of_work(database.sessions, account_id=None) as session:
                job_id = await defer_in_transaction(session, prune_finished_jobs, timestamp=1)
                # not visible to anyone else before the commit
                assert await _count(fresh_db) == 0
        finally:
            await database.dispose()
        assert isinstance(job_id, int)
        assert await _count(fresh_db) == 1


class TestWorker:
    async def test_worker_runs_a_deferred_job(self, fresh_db: DatabaseURLs) -> None:
        job_id = await defer_prune_job(fresh_db)
        await run_worker_async(
            fresh_db,
            concurrency=1,
            queues=["maintenance"],
            wait=False,
            install_signal_handlers=False,
        )
        engine = create_async_engine(fresh_db.owner, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                status = (
                    await conn.execute(
                        text("SELECT status FROM procrastinate_jobs WHERE id = :id"), {"id": job_id}
                    )
                ).scalar_one()
        finally:
            await engine.dispose()
        assert status == "succeeded"


class TestWorkerTwice:
    async def test_the_queue_reopens_after_a_worker_run(self, fresh_db: DatabaseURLs) -> None:
        for _ in range(2):
            job_id = await defer_prune_job(fresh_db)
            await run_worker_async(
                fresh_db, concurrency=1, queues=["maintenance"], wait=False,
                install_signal_handlers=False,
            )  # fmt: skip
            engine = create_async_engine(fresh_db.owner, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    status = (
                        await conn.execute(
                            text("SELECT status FROM procrastinate_jobs WHERE id = :id"),
                            {"id": job_id},
                        )
                    ).scalar_one()
            finally:
                await engine.dispose()
            assert status == "succeeded"
