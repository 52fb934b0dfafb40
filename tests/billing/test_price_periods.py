"""The database itself refuses overlapping price periods of one service, whatever writes
them and however many write at once (migration 0021's constraint trigger)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import errors

from markettina.kernel.db import bootstrap
from markettina.kernel.db.urls import DatabaseURLs
from tests.support.checks import sql

TODAY = dt.date(2030, 1, 1)
DAY = dt.timedelta(days=1)
INSERT = (
    "INSERT INTO service_pricing (service_type, service_subtype, token_cost, name,"
    " effective_from, effective_to) VALUES (%s, %s, 5, 'test price', %s, %s)"
)


def _service() -> str:
    return f"svc_{uuid.uuid4().hex[:8]}"


class TestOverlapRefused:
    def test_an_open_period_overlapping_a_closed_one_is_refused(self, db: DatabaseURLs) -> None:
        service = _service()
        sql(db, INSERT, service, "basic", TODAY, TODAY + 9 * DAY)
        with pytest.raises(errors.ExclusionViolation) as refused:
            sql(db, INSERT, service, "basic", TODAY + 9 * DAY, None)
        assert refused.value.diag.constraint_name == "service_pricing_periods_exclusive"

    def test_a_period_inside_another_with_no_subtype_is_refused(self, db: DatabaseURLs) -> None:
        service = _service()
        sql(db, INSERT, service, None, TODAY, None)
        with pytest.raises(errors.ExclusionViolation):
            sql(db, INSERT, service, None, TODAY + 30 * DAY, TODAY + 40 * DAY)

    def test_widening_a_closed_period_over_the_next_is_refused(self, db: DatabaseURLs) -> None:
        service = _service()
        sql(db, INSERT, service, "basic", TODAY, TODAY + 9 * DAY)
        sql(db, INSERT, service, "basic", TODAY + 10 * DAY, None)
        with pytest.raises(errors.ExclusionViolation):
            sql(db, "UPDATE service_pricing SET effective_to = NULL"
                " WHERE service_type = %s AND effective_from = %s", service, TODAY)  # fmt: skip

    def test_adjacent_periods_and_other_subtypes_are_accepted(self, db: DatabaseURLs) -> None:
        service = _service()
        sql(db, INSERT, service, "basic", TODAY, TODAY + 9 * DAY)
        sql(db, INSERT, service, "basic", TODAY + 10 * DAY, None)
        sql(db, INSERT, service, "premium", TODAY, None)
        sql(db, INSERT, service, None, TODAY, None)
        count = sql(db, "SELECT count(*) FROM service_pricing WHERE service_type = %s", service)
        assert count == [(4,)]

    def test_repeatable_read_writers_are_turned_away(self, db: DatabaseURLs) -> None:
        with bootstrap.connect(db.owner, autocommit=False) as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            with pytest.raises(errors.SerializationFailure):
                conn.execute(INSERT, (_service(), "basic", TODAY, None))


def _waiting_for_a_lock(urls: DatabaseURLs, pid: int) -> bool:
    # as the admin: other roles' sessions show no wait event to a plain role
    with bootstrap.connect(urls.admin) as conn:
        rows = conn.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchall()
    return rows == [("Lock",)]


def test_two_concurrent_overlapping_inserts_one_commits(fresh_db: DatabaseURLs) -> None:
    """The second writer waits for the first, then sees its row: one price, one refusal
    (without the lock, neither would see the other's uncommitted row and both would commit)."""
    service = _service()
    first = bootstrap.connect(fresh_db.app, autocommit=False)
    second = bootstrap.connect(fresh_db.app, autocommit=False)
    second_pid = second.info.backend_pid
    pool = ThreadPoolExecutor(1)

    def insert_then_commit() -> str:
        try:
            second.execute(INSERT, (service, "basic", TODAY + 5 * DAY, TODAY + 20 * DAY))
            second.commit()
        except psycopg.errors.ExclusionViolation:
            second.rollback()
            return "refused"
        return "committed"

    try:
        first.execute(INSERT, (service, "basic", TODAY, None))
        outcome = pool.submit(insert_then_commit)
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock(fresh_db, second_pid) and not outcome.done():
            assert time.monotonic() < deadline, "the second insert neither waited nor ended"
            time.sleep(0.02)
        first.commit()
        assert outcome.result(timeout=10) == "refused"
    finally:
        first.close()  # a failed test must not leave the second writer waiting for ever
        pool.shutdown()
        second.close()
    rows = sql(fresh_db, "SELECT effective_from, effective_to FROM service_pricing"
               " WHERE service_type = %s", service)  # fmt: skip
    assert rows == [(TODAY, None)]
